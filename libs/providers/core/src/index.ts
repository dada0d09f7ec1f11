export * from './ports';
export * from './errors';
export * from './provider';
export * from './registry';
export * from './http';
export * from './options';
export * from './retry';
