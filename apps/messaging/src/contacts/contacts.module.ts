import { Module } from '@nestjs/common';
import { ContactsHandlers } from './contacts.handlers';
import { ContactsRepository } from './contacts.repository';

@Module({ providers: [ContactsRepository, ContactsHandlers], exports: [ContactsRepository] })
export class ContactsModule {}
