// Runs every benchmark (bench/<area>/*.bench.mjs, or only those whose path contains an argument),
// one after another so they do not compete for the two cores. Each prints its own figures.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory() && d !== 'node_modules')
  .flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.bench.mjs')).map((f) => join(d, f)))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) console.log('no benchmarks matched');
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const run = spawnSync(process.execPath, [join(root, file)], { stdio: 'inherit', cwd: join(root, '..') });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
