export * from './fake-whatsapp';
