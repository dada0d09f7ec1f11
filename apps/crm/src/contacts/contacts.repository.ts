import { Injectable } from '@nestjs/common';
import type { OutboxRow } from '@tessera/bus';
import { PrismaService } from '../database/prisma.service';
import type { Contact } from '../generated/prisma/client';
import { asOutboxData } from '../workspaces/workspaces.repository';

@Injectable()
export class ContactsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts the contact and its created event in one transaction. */
  async create(contact: Omit<Contact, 'createdAt' | 'updatedAt'>, event: (c: Contact) => OutboxRow): Promise<Contact> {
    return this.prisma.$transaction(async (tx) => {
      const created = await tx.contact.create({ data: { ...contact, attributes: contact.attributes ?? {} } });
      await tx.outboxMessage.create({ data: asOutboxData(event(created)) });
      return created;
    });
  }

  find(workspaceId: string, id: string): Promise<Contact | null> {
    return this.prisma.contact.findFirst({ where: { id, workspaceId } });
  }
}
