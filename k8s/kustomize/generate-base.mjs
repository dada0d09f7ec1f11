#!/usr/bin/env node
// Generates the kustomize base from the Helm chart, so the two cannot drift apart:
//   base/        Deployments, Services, HPAs, PDBs, ConfigMap, ServiceAccount (chart-values.yaml)
//   migrations/  the migration Jobs, which Helm runs as pre-install/pre-upgrade hooks
//   overlays/dev/backing/  the single-node evaluation Postgres and NATS (chart-values-bundled.yaml)
// Helm-only metadata (helm.sh/* labels and hook annotations, checksums) is removed. The test
// k8s/test/kustomize.spec.ts fails when these files differ from a fresh generation.
// Usage: node k8s/kustomize/generate-base.mjs [--check]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureRenderer } from '../test/ensure-renderer.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHART = join(HERE, '..', 'charts', 'tessera');
const YAML = createRequire(join(HERE, '..', 'package.json'))('yaml');
const HEADER = '# Generated from k8s/charts/tessera by k8s/kustomize/generate-base.mjs. Do not edit: change the chart and regenerate.\n';

function render(renderer, valuesFile) {
  const out = execFileSync(renderer, ['-json', '-name', 'tessera', '-f', join(HERE, valuesFile), CHART], { encoding: 'utf8' });
  return JSON.parse(out).manifests.map((m) => YAML.parse(m.content));
}

function clean(obj) {
  const meta = obj.metadata;
  delete meta.labels['helm.sh/chart'];
  meta.labels['app.kubernetes.io/managed-by'] = 'kustomize';
  for (const key of Object.keys(meta.annotations ?? {})) if (key.startsWith('helm.sh/')) delete meta.annotations[key];
  if (meta.annotations && !Object.keys(meta.annotations).length) delete meta.annotations;
  const podMeta = obj.spec?.template?.metadata;
  if (podMeta?.annotations) {
    delete podMeta.annotations['checksum/config'];
    if (!Object.keys(podMeta.annotations).length) delete podMeta.annotations;
  }
  return obj;
}

const component = (obj) => obj.metadata.labels?.['app.kubernetes.io/component'];
const dump = (docs) => HEADER + docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n');

/** Every generated file, path relative to k8s/kustomize -> content. */
export async function generate() {
  const renderer = await ensureRenderer();
  const files = {};
  const main = render(renderer, 'chart-values.yaml').map(clean);
  const jobs = main.filter((o) => o.kind === 'Job');
  const app = main.filter((o) => o.kind !== 'Job');
  const groups = new Map();
  for (const obj of app) {
    const key = component(obj) ?? 'shared';
    groups.set(key, [...(groups.get(key) ?? []), obj]);
  }
  for (const [key, docs] of groups) files[`base/${key}.yaml`] = dump(docs);
  files['base/kustomization.yaml'] = HEADER + YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...groups.keys()].map((k) => `${k}.yaml`) });
  for (const job of jobs) files[`migrations/${component(job)}.yaml`] = dump([job]);
  files['migrations/kustomization.yaml'] = HEADER + YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: jobs.map((j) => `${component(j)}.yaml`) });
  const bundled = render(renderer, 'chart-values-bundled.yaml')
    .filter((o) => ['postgres', 'nats'].includes(component(o)) && o.kind !== 'Secret')
    .map(clean);
  for (const name of ['postgres', 'nats']) files[`overlays/dev/backing/${name}.yaml`] = dump(bundled.filter((o) => component(o) === name));
  files['overlays/dev/backing/kustomization.yaml'] = HEADER + YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['postgres.yaml', 'nats.yaml'] });
  return files;
}

const GENERATED_DIRS = ['base', 'migrations', 'overlays/dev/backing'];

/** Paths (relative to k8s/kustomize) whose content differs from a fresh generation, or that are extra/missing. */
export async function drift() {
  const files = await generate();
  const stale = [];
  for (const [path, content] of Object.entries(files)) {
    const full = join(HERE, path);
    if (!existsSync(full) || readFileSync(full, 'utf8') !== content) stale.push(path);
  }
  for (const dir of GENERATED_DIRS) {
    if (!existsSync(join(HERE, dir))) continue;
    for (const name of readdirSync(join(HERE, dir)).filter((n) => n.endsWith('.yaml'))) {
      const path = `${dir}/${name}`;
      if (!(path in files)) stale.push(path);
    }
  }
  return stale;
}

async function main() {
  if (process.argv.includes('--check')) {
    const stale = await drift();
    if (stale.length) {
      console.error(`out of date (run node k8s/kustomize/generate-base.mjs): ${stale.join(', ')}`);
      process.exit(1);
    }
    return;
  }
  const files = await generate();
  for (const dir of GENERATED_DIRS) rmSync(join(HERE, dir), { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(HERE, path)), { recursive: true });
    writeFileSync(join(HERE, path), content);
  }
  console.log(`wrote ${Object.keys(files).length} files under ${relative(process.cwd(), HERE) || '.'}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
