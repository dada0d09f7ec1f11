import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ImportsController } from './imports.controller';
import { ImportsRepository } from './imports.repository';
import { ImportsService } from './imports.service';

@Module({ imports: [ContactsModule], controllers: [ImportsController], providers: [ImportsRepository, ImportsService] })
export class ImportsModule {}
