// Writes the package.json of a workspace package; used once to lay out the skeleton.
import { mkdirSync, writeFileSync } from 'node:fs';
const [dir, name, depsJson = '{}', devJson = '{}'] = process.argv.slice(2);
mkdirSync(`${dir}/src`, { recursive: true });
const pkg = {
  name, version: '0.1.0', private: true,
  main: 'dist/index.js', types: 'src/index.ts',
  exports: { '.': { types: './src/index.ts', source: './src/index.ts', default: './dist/index.js' } },
  scripts: { build: 'swc src -d dist --strip-leading-paths --config-file ../../.swcrc' },
  dependencies: JSON.parse(depsJson), devDependencies: JSON.parse(devJson),
};
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
