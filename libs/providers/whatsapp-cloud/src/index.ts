export * from './whatsapp.provider';
