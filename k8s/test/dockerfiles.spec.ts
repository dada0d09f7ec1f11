// Structural lint of infra/docker/<service>.Dockerfile (no Docker engine here to build them; see
// infra/docker/rehearse-build.mjs for a run of their build steps outside Docker).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K8S_DIR, PORTS, SERVICES } from './helpers';

const ROOT = join(K8S_DIR, '..');
const read = (svc: string): string => readFileSync(join(ROOT, 'infra', 'docker', `${svc}.Dockerfile`), 'utf8');

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): { op: string; arg: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), arg: rest.join(' ') };
    });
}

describe.each(SERVICES)('infra/docker/%s.Dockerfile', (svc) => {
  const text = read(svc);
  const ins = instructions(text);
  const stages = ins.filter((i) => i.op === 'FROM');
  const finalStage = ins.slice(ins.lastIndexOf(stages[stages.length - 1]));

  it('is multi-stage on a base pinned to an exact version (or digest)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.arg).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[a-f0-9]{64})? AS \w+$/);
    expect(new Set(stages.map((s) => s.arg.split(' ')[0])).size).toBe(1);
  });

  it('passes dockerfilelint', () => {
    const bin = join(K8S_DIR, 'node_modules', '.bin', 'dockerfilelint');
    const report = JSON.parse(execFileSync(bin, ['-o', 'json', join(ROOT, 'infra', 'docker', `${svc}.Dockerfile`)], { encoding: 'utf8' })) as { totalIssues: number; files: unknown[] };
    expect(report.files).toHaveLength(1);
    expect(report).toMatchObject({ totalIssues: 0 });
  });

  it('builds only this service with pnpm 10 and a frozen lockfile, and deploys its production dependencies', () => {
    const runs = ins.filter((i) => i.op === 'RUN').map((i) => i.arg);
    expect(runs).toContain('npm install -g --no-audit --no-fund pnpm@10.34.9');
    expect(runs).toContain('pnpm install --frozen-lockfile --offline');
    expect(runs.some((r) => r.includes('deploy --prod --legacy /out') && r.includes('"@tessera/${SERVICE}"'))).toBe(true);
    expect(ins.find((i) => i.op === 'ARG' && i.arg.startsWith('SERVICE='))!.arg).toBe(`SERVICE=${svc}`);
    expect(text).toContain('PRISMA_SCHEMA_ENGINE_BINARY=');
    expect(text).toContain('CHECKPOINT_DISABLE=1');
  });

  it('runs as a numeric non-root user from files it cannot write, with migrations beside dist', () => {
    const user = finalStage.filter((i) => i.op === 'USER').pop()!.arg;
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const copies = finalStage.filter((i) => i.op === 'COPY').map((i) => i.arg);
    expect(copies).toContain('--from=build /out/prisma/migrations ./prisma/migrations');
    expect(copies).toContain('--from=build /out/dist ./dist');
    expect(copies.every((c) => c.startsWith('--from=build') && !c.includes('--chown'))).toBe(true);
    expect(finalStage.find((i) => i.op === 'CMD')!.arg).toBe('["node", "--enable-source-maps", "dist/main.js"]');
    expect(finalStage.find((i) => i.op === 'ARG' && i.arg.startsWith('PORT='))!.arg).toBe(`PORT=${PORTS[svc]}`);
    expect(finalStage.find((i) => i.op === 'EXPOSE')!.arg).toBe(String(PORTS[svc]));
    expect(finalStage.some((i) => i.op === 'ENV' && i.arg.includes('MIGRATE_ON_START=false'))).toBe(true);
  });

  it('fetches nothing by URL and installs nothing at run time', () => {
    expect(ins.some((i) => i.op === 'ADD')).toBe(false);
    expect(text).not.toMatch(/curl|wget/);
    expect(finalStage.filter((i) => i.op === 'RUN').every((i) => i.arg.startsWith('rm -rf'))).toBe(true);
  });

  it('differs from crm.Dockerfile only in the service name and port', () => {
    const normalise = (t: string, name: string, port: number): string => t.replaceAll(name, 'SVC').replaceAll(String(port), 'N');
    expect(normalise(text, svc, PORTS[svc])).toBe(normalise(read('crm'), 'crm', PORTS.crm));
  });
});

describe('.dockerignore', () => {
  it('keeps host build output, dependencies and secrets out of the build context', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/dist', '**/src/generated', '.git', '.tessera', '.env', '.env.*']) expect(lines).toContain(p);
    // Workspace packages must stay in the context for `pnpm install --frozen-lockfile`.
    for (const kept of ['bench', 'test/e2e', 'apps', 'libs']) expect(lines).not.toContain(kept);
    expect(existsSync(join(ROOT, 'pnpm-lock.yaml'))).toBe(true);
  });
});
