export * from './signature';
export * from './webhook.provider';
