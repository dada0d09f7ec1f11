export * from './fake-receiver';
