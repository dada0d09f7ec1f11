// The kustomize base and overlays: generated from the chart without drift, valid against the
// Kubernetes API schemas, and the prod overlay equivalent to what the chart renders.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { byKind, CHART_DIR, KUSTOMIZE_DIR, kustomize, renderChart, secretRefs, SERVICES, validateObject, type K8sObject } from './helpers';

const overlay = (name: string): K8sObject[] => kustomize(join(KUSTOMIZE_DIR, 'overlays', name)).objects;
const appVersion = (parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as K8sObject).appVersion as string;

let chart: K8sObject[];
const built: Record<string, K8sObject[]> = {};

beforeAll(async () => {
  // Dynamic import: these are Node ESM scripts (they also run before pnpm install), the tests CommonJS.
  const { ensureRenderer } = await import('./ensure-renderer.mjs');
  const renderer = await ensureRenderer();
  chart = renderChart(renderer, [join(KUSTOMIZE_DIR, 'chart-values.yaml')]).objects;
  for (const name of ['prod', 'prod/migrate', 'dev']) built[name] = overlay(name);
}, 120_000);

/** What must match between the two install routes, per workload: images compared by service and tag. */
function shape(obj: K8sObject): K8sObject {
  const pod = obj.spec?.template?.spec;
  const base = { kind: obj.kind, name: obj.metadata.name };
  if (!pod) return { ...base, spec: obj.kind === 'Service' || obj.kind === 'HorizontalPodAutoscaler' || obj.kind === 'PodDisruptionBudget' ? obj.spec : undefined };
  return {
    ...base,
    securityContext: pod.securityContext,
    volumes: pod.volumes,
    containers: pod.containers.map((c: K8sObject) => ({
      name: c.name,
      image: c.image.replace(/^.*\/(tessera\/[a-z]+)/, '$1'),
      command: c.command,
      ports: c.ports,
      livenessProbe: c.livenessProbe,
      readinessProbe: c.readinessProbe,
      startupProbe: c.startupProbe,
      resources: c.resources,
      securityContext: c.securityContext,
      env: c.env,
      envFrom: c.envFrom,
    })),
  };
}
const sortShapes = (objs: K8sObject[]): K8sObject[] => objs.map(shape).sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));

describe('kustomize', () => {
  it('has a base generated from the current chart (node k8s/kustomize/generate-base.mjs)', async () => {
    const { drift } = await import('../kustomize/generate-base.mjs');
    expect(await drift()).toEqual([]);
  });

  it.each(['prod', 'prod/migrate', 'dev'])('builds overlays/%s into objects valid against the Kubernetes API schemas', (name) => {
    expect(built[name].length).toBeGreaterThan(5);
    for (const obj of built[name]) validateObject(obj);
  });

  it('prod matches the chart: same kinds, names, images, ports, probes, resources and security', () => {
    const prodApp = built.prod.filter((o) => o.kind !== 'ConfigMap');
    const chartApp = chart.filter((o) => !['Job', 'ConfigMap', 'Secret'].includes(o.kind));
    expect(sortShapes(prodApp)).toEqual(sortShapes(chartApp));
    expect(sortShapes(built['prod/migrate'])).toEqual(sortShapes(byKind(chart, 'Job')));
    expect(byKind(built.prod, 'ConfigMap').map((c) => Object.keys(c.data).sort())).toEqual(byKind(chart, 'ConfigMap').map((c) => Object.keys(c.data).sort()));
  });

  it('prod runs the chart appVersion from your registry and reads the documented Secrets', () => {
    const workloads = [...byKind(built.prod, 'Deployment'), ...byKind(built['prod/migrate'], 'Job')];
    expect(workloads).toHaveLength(SERVICES.length * 2);
    for (const w of workloads) {
      expect(w.metadata.namespace).toBe('tessera');
      expect(w.spec.template.spec.containers[0].image).toMatch(new RegExp(`^registry\\.example\\.com/tessera/[a-z]+:${appVersion.replace(/\./g, '\\.')}$`));
      for (const s of secretRefs(w)) expect(['tessera-database', 'tessera-bootstrap-keys']).toContain(s);
    }
    expect(byKind(built.prod, 'Secret')).toEqual([]);
    expect(byKind(built.prod, 'HorizontalPodAutoscaler')).toHaveLength(SERVICES.length);
  });

  it('dev runs one replica each against the bundled Postgres and NATS, migrating at start', () => {
    const dev = built.dev;
    expect(byKind(dev, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(byKind(dev, 'PodDisruptionBudget')).toEqual([]);
    expect(byKind(dev, 'Job')).toEqual([]);
    expect(byKind(dev, 'StatefulSet').map((s) => s.metadata.name).sort()).toEqual(['tessera-nats', 'tessera-postgres']);
    expect(byKind(dev, 'ConfigMap').find((c) => c.metadata.name === 'tessera-config')!.data).toMatchObject({ MIGRATE_ON_START: 'true', NATS_URL: 'nats://tessera-nats:4222' });
    const secretNames = byKind(dev, 'Secret').map((s) => s.metadata.name);
    for (const w of [...byKind(dev, 'Deployment'), ...byKind(dev, 'StatefulSet')]) {
      if (w.kind === 'Deployment') expect(w.spec.replicas).toBe(1);
      for (const s of secretRefs(w)) expect(secretNames).toContain(s);
    }
  });
});
