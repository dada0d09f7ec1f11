import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICES } from '../define';
import { EVENTS, REQUESTS } from '../registry';
import { STREAMS } from '../streams';
import { DOCS_DIR, contractFiles } from './files';
import { buildContractDocs, events, streamsOf } from './generate';
import { REGENERATE_COMMAND } from './markdown';

const files = contractFiles();
const { asyncapi, schemas } = buildContractDocs() as {
  asyncapi: { channels: Record<string, { address: string | null }>; operations: Record<string, { action: string }>; 'x-streams': unknown[] };
  schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
};
const service = `(${SERVICES.join('|')})`;
// Lower-case words joined by _ (e.g. inbound_message): NATS-safe, and wildcards stay predictable.
const token = '[a-z][a-z0-9]*(_[a-z0-9]+)*';
const EVENT_SUBJECT = new RegExp(`^${service}\\.${token}\\.${token}\\.v[1-9][0-9]*$`);
const REQUEST_SUBJECT = new RegExp(`^rpc\\.${service}\\.${token}\\.${token}\\.v[1-9][0-9]*$`);

describe('committed docs/contracts', () => {
  it.each(Object.keys(files))('%s is up to date', (path) => {
    const committed = existsSync(join(DOCS_DIR, path)) ? readFileSync(join(DOCS_DIR, path), 'utf8') : undefined;
    const state = committed === undefined ? 'is missing' : 'has drifted from libs/contracts';
    expect(committed, `docs/contracts/${path} ${state}: run \`${REGENERATE_COMMAND}\` and commit the result`).toBe(files[path]);
  });

  it('holds no file of a contract that no longer exists', () => {
    const present = readdirSync(DOCS_DIR, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(DOCS_DIR, join(entry.parentPath, entry.name)));
    const stale = present.filter((path) => !(path in files));
    expect(stale, `stale files in docs/contracts: run \`${REGENERATE_COMMAND}\``).toEqual([]);
  });
});

describe('the bus described by the contracts', () => {
  it.each(Object.entries(EVENTS))('event %s is well named, in exactly one stream, and documented', (subject, def) => {
    expect(subject).toMatch(EVENT_SUBJECT);
    expect(def.subject).toBe(subject);
    expect(subject.endsWith(`.v${def.version}`)).toBe(true);
    expect(streamsOf(subject).map((s) => s.name)).toHaveLength(1);
    expect(asyncapi.channels[subject]?.address).toBe(subject);
    expect(asyncapi.operations[subject]?.action).toBe('send');
  });

  // A field without class-validator decorators is missing from the schema (and from validation).
  it.each(events().map((def) => [def.subject, def] as const))('the partition key and personal data of %s are payload fields', (subject, def) => {
    const declared: (string | undefined)[] = [def.partitionKey, ...(def.personalData ?? [])];
    expect(Object.keys(schemas[subject]?.properties ?? {})).toEqual(expect.arrayContaining(declared.filter(Boolean)));
  });

  it.each(Object.entries(REQUESTS))('request %s is under rpc., outside every stream, and documented', (subject, def) => {
    expect(subject).toMatch(REQUEST_SUBJECT);
    expect(def.subject).toBe(subject);
    expect(streamsOf(subject)).toEqual([]);
    expect(asyncapi.channels[subject]?.address).toBe(subject);
    expect(asyncapi.operations[subject]?.action).toBe('receive');
  });

  it('lists every stream', () => {
    expect(asyncapi['x-streams']).toEqual(STREAMS.map((s) => ({ ...s })));
  });

  it('requires the contact id in crm.contact.created.v1', () => {
    expect(schemas['crm.contact.created.v1']?.required).toContain('contactId');
  });
});
