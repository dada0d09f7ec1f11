import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ConsentController } from './consent.controller';
import { ConsentHandlers } from './consent.handlers';
import { ConsentRepository } from './consent.repository';
import { ConsentService } from './consent.service';

@Module({ imports: [ContactsModule], controllers: [ConsentController], providers: [ConsentRepository, ConsentService, ConsentHandlers] })
export class ConsentModule {}
