import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ContactsModule } from '../contacts/contacts.module';
import { ProvidersModule } from '../providers/providers.module';
import { TemplatesModule } from '../templates/templates.module';
import { TrackingController } from '../tracking/tracking.controller';
import { TrackingLinks } from '../tracking/tracking-links';
import { MessagesController } from './messages.controller';
import { MessagesHandlers } from './messages.handlers';
import { MessagesRepository } from './messages.repository';
import { SendService } from './send.service';
import { StatusService } from './status.service';

@Module({
  imports: [ContactsModule, ProvidersModule, TemplatesModule],
  controllers: [MessagesController, TrackingController],
  providers: [MessagesRepository, SendService, StatusService, MessagesHandlers, TrackingLinks],
})
export class MessagesModule implements OnModuleInit {
  constructor(private readonly adapter: HttpAdapterHost) {}

  /** RFC 8058 one-click unsubscribe POSTs `application/x-www-form-urlencoded`; Fastify has no parser for it by default. */
  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify || fastify.hasContentTypeParser('application/x-www-form-urlencoded')) return;
    fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) =>
      done(null, Object.fromEntries(new URLSearchParams(body.toString()))),
    );
  }
}
