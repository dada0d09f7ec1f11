import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ObjectsController } from './objects.controller';
import { ObjectsRepository } from './objects.repository';
import { ObjectsService } from './objects.service';

@Module({ imports: [ContactsModule], controllers: [ObjectsController], providers: [ObjectsRepository, ObjectsService] })
export class ObjectsModule {}
