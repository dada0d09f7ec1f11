import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { IdentityHandlers } from './identity.handlers';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';

@Module({ imports: [ContactsModule], providers: [IdentityRepository, IdentityService, IdentityHandlers] })
export class IdentityModule {}
