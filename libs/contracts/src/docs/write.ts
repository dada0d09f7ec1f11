import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DOCS_DIR, contractFiles } from './files';

// Run by `pnpm --filter @tessera/contracts run docs`, after an swc build: the same compiler (and decorator
// metadata) as the tests, so what is written is exactly what the drift check regenerates.
const files = contractFiles();
mkdirSync(DOCS_DIR, { recursive: true });
// Drop files of subjects that no longer exist, so the folder mirrors the registry.
for (const entry of readdirSync(DOCS_DIR, { recursive: true, withFileTypes: true })) {
  const path = relative(DOCS_DIR, join(entry.parentPath, entry.name));
  if (entry.isFile() && !(path in files)) rmSync(join(DOCS_DIR, path));
}
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(join(DOCS_DIR, path)), { recursive: true });
  writeFileSync(join(DOCS_DIR, path), content);
}
console.log(`Wrote ${Object.keys(files).length} files to ${relative(process.cwd(), DOCS_DIR)}`);
