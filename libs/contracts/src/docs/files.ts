import { resolve } from 'node:path';
import { buildContractDocs } from './generate';
import { renderMarkdown } from './markdown';

/** `docs/contracts` at the repo root, from `src/docs` (tests) or `dist/docs` (the docs script) alike. */
export const DOCS_DIR = resolve(__dirname, '../../../../docs/contracts');

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every generated file, by path relative to DOCS_DIR: what `write.ts` writes and `docs.spec.ts` compares. */
export function contractFiles(): Record<string, string> {
  const { asyncapi, schemas } = buildContractDocs();
  const files: Record<string, string> = { 'asyncapi.json': json(asyncapi), 'README.md': renderMarkdown() };
  for (const [name, schema] of Object.entries(schemas)) files[`schemas/${name}.json`] = json(schema);
  return files;
}
