import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ListsController } from './lists.controller';
import { ListsRepository } from './lists.repository';
import { ListsService } from './lists.service';

@Module({ imports: [ContactsModule], controllers: [ListsController], providers: [ListsRepository, ListsService] })
export class ListsModule {}
