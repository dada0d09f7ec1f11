export * from './smtp.provider';
