export * from './fcm.provider';
