import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { Logger } from '@tessera/observability';
import { EVENT_BUS } from '../bus.port';
import { JetStreamBus } from '../jetstream/jetstream-bus';
import { EVENT_HANDLER, REQUEST_HANDLER, type EventHandlerMeta } from './decorators';

export interface BusModuleOptions {
  service: string;
  natsUrl: string;
  namespace?: string;
  /** Replicas of each stream (3 on a clustered NATS). */
  replicas?: number;
  logger: Logger;
}

/**
 * Finds every @OnEvent / @OnEvents / @OnRequest method once the app is bootstrapped and starts a
 * durable consumer or a queue-group responder for it. Handlers are keyed by the contract's
 * subject, never by class name.
 */
@Injectable()
export class BusHandlersExplorer implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const seen = new Set<string>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance[name] as (...args: unknown[]) => Promise<unknown>).bind(instance);
        const events: EventHandlerMeta[] = Reflect.getMetadata(EVENT_HANDLER, prototype, name) ?? [];
        for (const meta of events) {
          if (seen.has(meta.subject)) throw new Error(`Two handlers for ${meta.subject} in one service; one durable consumer per subject`);
          seen.add(meta.subject);
          await this.bus.consume({
            subject: meta.subject,
            handler: meta.batch ? (batch) => method(batch) as Promise<void> : (batch) => method(batch[0]) as Promise<void>,
            batch: meta.batch,
            ordered: meta.ordered,
            concurrency: meta.concurrency,
            maxAttempts: meta.maxAttempts,
          });
        }
        const requests: { subject: string }[] = Reflect.getMetadata(REQUEST_HANDLER, prototype, name) ?? [];
        for (const meta of requests) await this.bus.serve(meta.subject, (data, ctx) => method(data, ctx) as Promise<object>);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

@Global()
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return {
      module: BusModule,
      imports: [DiscoveryModule],
      providers: [
        {
          provide: EVENT_BUS,
          useFactory: async (): Promise<JetStreamBus> => {
            const bus = new JetStreamBus({ service: options.service, servers: options.natsUrl, namespace: options.namespace, replicas: options.replicas, logger: options.logger });
            await bus.connect();
            return bus;
          },
        },
        BusHandlersExplorer,
      ],
      exports: [EVENT_BUS],
    };
  }
}
