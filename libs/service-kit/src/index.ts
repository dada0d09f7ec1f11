import 'reflect-metadata';

export * from './tokens';
export * from './auth/scopes';
export * from './auth/auth.decorators';
export * from './auth/key-verifier';
export * from './auth/api-key.guard';
export * from './http/validation';
export * from './http/error.filter';
export * from './http/direct-routes';
export * from './health/health.controller';
export * from './micro-batcher';
export * from './outbox-relay.service';
export * from './service-kit.module';
export * from './bootstrap';
