import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { RoutingController } from './routing.controller';
import { RoutingHandlers } from './routing.handlers';
import { RoutingRepository } from './routing.repository';

@Module({ imports: [ContactsModule], controllers: [RoutingController], providers: [RoutingRepository, RoutingHandlers] })
export class RoutingModule {}
