export * from './fake-fcm';
