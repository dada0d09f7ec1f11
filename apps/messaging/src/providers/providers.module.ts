import { Module } from '@nestjs/common';
import { buildProviderRegistry, PROVIDER_REGISTRY } from './provider-plugins';
import { ProvidersController } from './providers.controller';
import { ProvidersRepository } from './providers.repository';
import { ProvidersService } from './providers.service';

@Module({
  controllers: [ProvidersController],
  providers: [{ provide: PROVIDER_REGISTRY, useFactory: buildProviderRegistry }, ProvidersRepository, ProvidersService],
  exports: [ProvidersService],
})
export class ProvidersModule {}
