import { Module } from '@nestjs/common';
import { FactsController } from './facts.controller';
import { FactsHandlers } from './facts.handlers';
import { FactsRepository } from './facts.repository';

@Module({ controllers: [FactsController], providers: [FactsRepository, FactsHandlers] })
export class FactsModule {}
