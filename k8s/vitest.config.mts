// Runs the k8s tests on their own until the root vitest.config.mts includes k8s/**/*.spec.ts:
//   pnpm exec vitest run --config k8s/vitest.config.mts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { name: 'k8s', include: ['k8s/**/*.spec.ts'], exclude: ['**/node_modules/**'], testTimeout: 30_000 },
});
