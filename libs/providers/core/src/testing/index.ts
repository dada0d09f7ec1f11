export * from './fake-http';
export * from './conformance';
