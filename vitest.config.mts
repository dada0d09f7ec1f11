import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// swc, not esbuild: Nest and class-validator need decorator metadata.
const plugins = [swc.vite({ module: { type: 'es6' }, jsc: { transform: { legacyDecorator: true, decoratorMetadata: true }, keepClassNames: true } })];
// Tests import shared libs from their TypeScript sources, so they need no build; the alias (not only
// the `source` condition) lets any test import @tessera/testing without a dependency cycle.
const libAliases = readdirSync(`${root}libs`)
  .filter((name) => existsSync(`${root}libs/${name}/src/index.ts`))
  .map((name) => ({ find: `@tessera/${name}`, replacement: `${root}libs/${name}/src/index.ts` }));
// Provider plug-ins (libs/providers/<name>, packages @tessera/provider-<name>) likewise.
const providersDir = `${root}libs/providers`;
const providerAliases = existsSync(providersDir)
  ? readdirSync(providersDir)
      .filter((name) => existsSync(`${providersDir}/${name}/src/index.ts`))
      .flatMap((name) => [
        { find: `@tessera/provider-${name}/testing`, replacement: `${providersDir}/${name}/src/testing/index.ts` },
        { find: `@tessera/provider-${name}`, replacement: `${providersDir}/${name}/src/index.ts` },
      ])
  : [];
const resolve = { conditions: ['source'], alias: [...providerAliases, ...libAliases] };
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
        // Renders the Helm chart with a Go binary and validates every object: slower than unit tests.
        test: { name: 'deploy', include: ['k8s/**/*.spec.ts'], exclude, testTimeout: 30_000, hookTimeout: 120_000 },
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
