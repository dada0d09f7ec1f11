import 'reflect-metadata';

export * from './bus.port';
export * from './errors';
export * from './envelope';
export * from './jetstream/jetstream-bus';
export * from './jetstream/naming';
export type { RawDelivered } from './jetstream/consumer';
export * from './outbox/outbox';
export * from './outbox/outbox-batch';
export * from './nest/decorators';
export * from './nest/bus.module';
