export * from './tracing';
export * from './logging';
export * from './metrics';
