export * from './twilio.provider';
