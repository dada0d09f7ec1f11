import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// swc, not esbuild: Nest and class-validator need decorator metadata.
const plugins = [swc.vite({ jsc: { transform: { legacyDecorator: true, decoratorMetadata: true }, keepClassNames: true } })];
// Resolve workspace packages to their TypeScript sources (the `source` export condition), so tests need no build.
const resolve = { conditions: ['source'] };
const exclude = ['**/node_modules/**', '**/dist/**'];

export default defineConfig({
  test: {
    projects: [
      {
        plugins,
        resolve,
        test: { name: 'unit', include: ['{apps,libs,scripts}/**/*.spec.ts'], exclude },
      },
      {
        plugins,
        resolve,
        test: {
          name: 'integration',
          include: ['{apps,libs}/**/*.int-spec.ts'],
          exclude,
          globalSetup: ['libs/testing/src/global-setup.ts'],
          setupFiles: ['libs/testing/src/setup-tracing.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins,
        resolve,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e-spec.ts'],
          exclude,
          globalSetup: ['libs/testing/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
