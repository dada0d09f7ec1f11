// class-transformer keeps `@Type` metadata in a singleton that its package exposes only by deep path,
// and its typings live under `types/`, so point the deep path at them.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
