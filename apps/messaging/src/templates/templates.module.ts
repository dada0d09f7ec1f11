import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { TemplatesController } from './templates.controller';
import { TemplatesHandlers } from './templates.handlers';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

@Module({ imports: [ContactsModule], controllers: [TemplatesController], providers: [TemplatesRepository, TemplatesService, TemplatesHandlers], exports: [TemplatesService] })
export class TemplatesModule {}
