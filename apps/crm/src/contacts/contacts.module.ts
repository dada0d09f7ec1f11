import { Module } from '@nestjs/common';
import { AttributesController } from '../attributes/attributes.controller';
import { AttributesRepository } from '../attributes/attributes.repository';
import { ContactMergeService } from './contact-merge.service';
import { ContactStore } from './contact-store.repository';
import { ContactsController } from './contacts.controller';
import { ContactsHandlers } from './contacts.handlers';
import { ContactsService } from './contacts.service';
import { ErasureRepository } from './erasure.repository';
import { ErasureService } from './erasure.service';
import { LookupHttpService } from './lookup-http.service';
import { MergeRepository } from './merge.repository';

@Module({
  controllers: [ContactsController, AttributesController],
  providers: [ContactStore, AttributesRepository, ContactsService, ContactsHandlers, ContactMergeService, MergeRepository, ErasureRepository, ErasureService, LookupHttpService],
  exports: [ContactStore, AttributesRepository, ContactsService, ContactMergeService],
})
export class ContactsModule {}
