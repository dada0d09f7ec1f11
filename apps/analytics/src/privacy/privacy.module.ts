import { Module } from '@nestjs/common';
import { PrivacyHandlers } from './privacy.handlers';
import { PrivacyRepository } from './privacy.repository';

@Module({ providers: [PrivacyRepository, PrivacyHandlers] })
export class PrivacyModule {}
