import { Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { outboxRow } from '@tessera/bus';
import { CONTACT_CREATED_V1 } from '@tessera/contracts';
import type { Contact } from '../generated/prisma/client';
import { ContactsRepository } from './contacts.repository';
import type { CreateContactDto } from './contacts.dto';

@Injectable()
export class ContactsService {
  constructor(private readonly repository: ContactsRepository) {}

  create(workspaceId: string, dto: CreateContactDto): Promise<Contact> {
    const contact = {
      id: uuidv7(),
      workspaceId,
      externalId: dto.externalId ?? null,
      email: dto.email?.toLowerCase() ?? null,
      phone: dto.phone ?? null,
      attributes: (dto.attributes ?? {}) as Contact['attributes'],
    };
    return this.repository.create(contact, (c) =>
      outboxRow(
        'crm',
        CONTACT_CREATED_V1.subject,
        {
          contactId: c.id,
          ...(c.externalId ? { externalId: c.externalId } : {}),
          ...(c.email ? { email: c.email } : {}),
          ...(c.phone ? { phone: c.phone } : {}),
          attributes: c.attributes as Record<string, unknown>,
          createdAt: c.createdAt.toISOString(),
        },
        { workspaceId, occurredAt: c.createdAt },
      ),
    );
  }

  async get(workspaceId: string, id: string): Promise<Contact> {
    const contact = await this.repository.find(workspaceId, id);
    if (!contact) throw new NotFoundException('Contact not found');
    return contact;
  }
}
