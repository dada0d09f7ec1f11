// The Helm chart rendered for several values files: every object valid against the Kubernetes 1.27
// API schemas, and the properties a reviewer checks (services present/absent, probes, resources,
// security, hook ordering, secrets wiring, ServiceMonitor, OTLP, NOTES).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byKind, CHART_DIR, hook, hookWeight, names, PORTS, renderChart, secretRefs, SERVICES, validateObject, type K8sObject, type Rendered } from './helpers';

const VALUES = join(__dirname, 'values');
const CASES: { name: string; files: string[]; services: readonly string[] }[] = [
  { name: 'all services', files: ['all-services.yaml'], services: SERVICES },
  { name: 'minimal (ingestion + crm)', files: ['minimal.yaml'], services: ['crm', 'ingestion'] },
  { name: 'external NATS/Postgres via existing Secrets', files: ['external.yaml'], services: SERVICES },
  { name: 'bundled NATS/Postgres', files: ['bundled.yaml'], services: SERVICES },
];

let renderer: string;
const rendered = new Map<string, Rendered>();

beforeAll(async () => {
  // Dynamic import: these are Node ESM scripts (they also run before pnpm install), the tests CommonJS.
  const { ensureRenderer } = await import('./ensure-renderer.mjs');
  renderer = await ensureRenderer();
  for (const c of CASES) rendered.set(c.name, renderChart(renderer, c.files.map((f) => join(VALUES, f))));
}, 120_000);

const container = (d: K8sObject): K8sObject => d.spec.template.spec.containers[0];

describe.each(CASES)('chart with $name', ({ name, services }) => {
  const r = (): Rendered => rendered.get(name)!;

  it('renders only objects that are valid against the Kubernetes API schemas', () => {
    const { objects } = r();
    expect(objects.length).toBeGreaterThan(10);
    for (const obj of objects) validateObject(obj);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('runs exactly the enabled services, each with Deployment, Service, migration Job, PDB (and HPA when autoscaling)', () => {
    const { objects } = r();
    const expected = services.map((s) => `tessera-${s}`).sort();
    expect(names(objects, 'Deployment')).toEqual(expected);
    expect(names(objects, 'Service').filter((n) => !/-(postgres|nats)$/.test(n))).toEqual(expected);
    expect(names(objects, 'PodDisruptionBudget')).toEqual(expected);
    expect(names(objects, 'Job')).toEqual(services.map((s) => `tessera-${s}-migrate`).sort());
    const autoscaled = byKind(objects, 'Deployment').filter((d) => d.spec.replicas === undefined);
    expect(names(objects, 'HorizontalPodAutoscaler')).toEqual(names(autoscaled, 'Deployment'));
    for (const hpa of byKind(objects, 'HorizontalPodAutoscaler')) {
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: hpa.metadata.name });
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    }
  });

  it('gives every service probes on /health/live and /health/ready, resources, and its port', () => {
    for (const d of byKind(r().objects, 'Deployment')) {
      const svc = d.metadata.labels['app.kubernetes.io/component'];
      const c = container(d);
      expect(c.ports).toEqual([{ name: 'http', containerPort: PORTS[svc], protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.resources.requests.cpu).toBeTruthy();
      expect(c.resources.requests.memory).toBeTruthy();
      expect(c.resources.limits.memory).toBeTruthy();
      expect(c.env.find((e: K8sObject) => e.name === 'PORT').value).toBe(String(PORTS[svc]));
      const service = byKind(r().objects, 'Service').find((s) => s.metadata.name === d.metadata.name)!;
      expect(service.spec.selector).toEqual(d.spec.selector.matchLabels);
      expect(service.spec.ports[0]).toMatchObject({ port: PORTS[svc], targetPort: 'http' });
      const pdb = byKind(r().objects, 'PodDisruptionBudget').find((p) => p.metadata.name === d.metadata.name)!;
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
    }
  });

  it('runs every pod under the restricted Pod Security Standard: non-root, read-only, no capabilities, seccomp', () => {
    for (const w of byKind(r().objects, 'StatefulSet')) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of pod.containers) expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('runs every Tessera pod non-root, read-only, without capabilities, with seccomp and a /tmp emptyDir', () => {
    for (const w of [...byKind(r().objects, 'Deployment'), ...byKind(r().objects, 'Job')]) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.image).toMatch(/^[\w./-]+\/(crm|ingestion|segmentation|journeys|messaging|analytics)(:\d+\.\d+\.\d+|@sha256:[a-f0-9]{64})$/);
      }
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes.find((v: K8sObject) => v.name === 'tmp').emptyDir).toBeDefined();
    }
  });

  it('migrates in pre-install/pre-upgrade hook Jobs that run after the hooks they need and before any Deployment', () => {
    const { objects } = r();
    const hooks = objects.filter(hook);
    // Only migration Jobs, their Secret and the bundled Postgres are hooks; Deployments never are.
    for (const h of hooks) expect(['Job', 'Secret', 'Service', 'StatefulSet']).toContain(h.kind);
    for (const d of byKind(objects, 'Deployment')) expect(hook(d)).toBeUndefined();
    for (const job of byKind(objects, 'Job')) {
      expect(hook(job)).toBe('pre-install,pre-upgrade');
      expect(job.metadata.annotations['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(container(job).command).toEqual(['node', 'dist/migrate.js']);
      // Every Secret the Job reads exists before it: a hook of lower weight, or one the user made.
      for (const secret of secretRefs(job)) {
        const made = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secret);
        if (!made) continue; // existingSecret: created by the operator before install
        expect(hook(made), `${secret} must be a hook`).toContain('pre-install');
        expect(hookWeight(made)).toBeLessThan(hookWeight(job));
      }
    }
    // The bundled Postgres the Jobs connect to is itself an earlier hook.
    for (const pg of objects.filter((o) => o.metadata.name === 'tessera-postgres')) {
      expect(hook(pg)).toBe('pre-install');
      for (const job of byKind(objects, 'Job')) expect(hookWeight(pg)).toBeLessThan(hookWeight(job));
    }
  });

  it('wires every Secret and ConfigMap a Deployment reads to one the chart makes or the user names', () => {
    const { objects } = r();
    const config = byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'tessera-config')!;
    expect(config.data.MIGRATE_ON_START).toBe('false');
    expect(config.data.NATS_URL).toMatch(/^(nats|tls):\/\//);
    for (const d of byKind(objects, 'Deployment')) {
      expect(container(d).envFrom[0]).toEqual({ configMapRef: { name: 'tessera-config' } });
      const env = Object.fromEntries(container(d).env.map((e: K8sObject) => [e.name, e]));
      expect(env.DATABASE_URL.valueFrom.secretKeyRef.name).toBeTruthy();
      const svc = d.metadata.labels['app.kubernetes.io/component'];
      // Each bootstrap key goes only to the service that reads it.
      expect(Boolean(env.TESSERA_ADMIN_KEY)).toBe(svc === 'crm');
      expect(Boolean(env.TESSERA_WRITE_KEY)).toBe(svc === 'ingestion');
    }
  });
});

describe('chart specifics', () => {
  it('stores a URL given in values in Secrets (for pods, and a hook copy for the migrations) and generates bootstrap keys', () => {
    const { objects } = rendered.get('all services')!;
    const secrets = Object.fromEntries(byKind(objects, 'Secret').map((s) => [s.metadata.name, s]));
    expect(Object.keys(secrets).sort()).toEqual(['tessera-bootstrap-keys', 'tessera-database', 'tessera-migrate-database']);
    expect(hook(secrets['tessera-database'])).toBeUndefined();
    expect(secrets['tessera-migrate-database'].metadata.annotations['helm.sh/hook-delete-policy']).toContain('hook-succeeded');
    const keys = secrets['tessera-bootstrap-keys'];
    expect(keys.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(Buffer.from(keys.data.TESSERA_ADMIN_KEY, 'base64').toString()).toMatch(/^tsk_admin_\S{40}$/);
    expect(Buffer.from(keys.data.TESSERA_WRITE_KEY, 'base64').toString()).toMatch(/^tsk_write_\S{32}$/);
    for (const job of byKind(objects, 'Job')) expect(secretRefs(job)).toEqual(['tessera-migrate-database']);
    for (const d of byKind(objects, 'Deployment')) expect(secretRefs(d)).toContain('tessera-database');
  });

  it('uses existing Secrets, image digests, ServiceMonitors, OTLP and per-service overrides when asked', () => {
    const { objects, notes } = rendered.get('external NATS/Postgres via existing Secrets')!;
    expect(byKind(objects, 'Secret')).toEqual([]);
    for (const w of [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')]) {
      expect(container(w).env.find((e: K8sObject) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({ name: 'acme-tessera-db', key: 'url' });
      expect(container(w).image).toMatch(/^ghcr\.io\/acme\/tessera\/[a-z]+@sha256:0123/);
    }
    const config = byKind(objects, 'ConfigMap')[0];
    expect(config.data).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318', BUS_NAMESPACE: 'acme', NATS_URL: 'tls://nats.messaging.svc:4222' });
    const monitors = byKind(objects, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(SERVICES.map((s) => `tessera-${s}`).sort());
    for (const m of monitors) {
      expect(m.metadata.labels.release).toBe('kube-prometheus-stack');
      expect(m.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    }
    const ingestion = byKind(objects, 'Deployment').find((d) => d.metadata.name === 'tessera-ingestion')!;
    expect(container(ingestion).resources.requests).toEqual({ cpu: '500m', memory: '512Mi' });
    expect(container(ingestion).env).toContainEqual({ name: 'RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND', value: '20000' });
    expect(byKind(objects, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === 'tessera-ingestion')!.spec).toMatchObject({ minReplicas: 3, maxReplicas: 20 });
    const messaging = byKind(objects, 'Deployment').find((d) => d.metadata.name === 'tessera-messaging')!;
    expect(container(messaging).envFrom).toContainEqual({ secretRef: { name: 'acme-smtp-credentials' } });
    expect(notes).toContain('acme-tessera-keys');
    expect(notes).toContain('otel-collector.observability:4318/v1/traces');
  });

  it('bundles Postgres and NATS as single-replica StatefulSets marked not for production', () => {
    const { objects, notes } = rendered.get('bundled NATS/Postgres')!;
    const sts = byKind(objects, 'StatefulSet');
    expect(sts.map((s) => s.metadata.name).sort()).toEqual(['tessera-nats', 'tessera-postgres']);
    for (const s of sts) {
      expect(s.spec.replicas).toBe(1);
      expect(s.metadata.annotations['tessera.io/not-for-production']).toBeTruthy();
      expect(s.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
    expect(byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'tessera-config')!.data.NATS_URL).toBe('nats://tessera-nats:4222');
    const natsConf = byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'tessera-nats')!.data['nats.conf'];
    expect(natsConf).toMatch(/sync_interval: 1s/);
    for (const job of byKind(objects, 'Job')) {
      expect(secretRefs(job)).toEqual(['tessera-postgres']);
      expect(job.spec.template.spec.initContainers[0].name).toBe('wait-for-postgres');
    }
    expect(notes).toMatch(/NOT FOR PRODUCTION: this release runs a bundled, single-replica Postgres and NATS/);
  });

  it('writes NOTES that say how to reach each enabled API and where the keys are', () => {
    const all = rendered.get('all services')!.notes;
    for (const svc of SERVICES) expect(all).toContain(`http://tessera-${svc}.tessera.svc:${PORTS[svc]}`);
    expect(all).toContain('kubectl -n tessera port-forward svc/tessera-crm 3001');
    expect(all).toContain("get secret tessera-bootstrap-keys -o jsonpath='{.data.TESSERA_ADMIN_KEY}' | base64 -d");
    expect(all).toContain("jsonpath='{.data.TESSERA_WRITE_KEY}'");
    const minimal = rendered.get('minimal (ingestion + crm)')!.notes;
    expect(minimal).not.toContain('tessera-analytics');
    const noCrm = renderChart(renderer, [join(VALUES, 'all-services.yaml'), writeTemp({ services: { crm: { enabled: false } } })]);
    expect(noCrm.notes).toContain('WARNING: crm is disabled');
    expect(names(noCrm.objects, 'Deployment')).not.toContain('tessera-crm');
  });

  it('has a schema check that catches wrong types (so the validity tests above can fail)', () => {
    const { objects } = rendered.get('all services')!;
    const broken = structuredClone(byKind(objects, 'Deployment')[0]);
    broken.spec.template.spec.containers[0].ports[0].containerPort = '3001';
    expect(() => validateObject(broken)).toThrow(/containerPort must be integer/);
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: { selector: {}, endpoints: [{ port: 3001 }] } };
    expect(() => validateObject(monitor)).toThrow(/port must be string/);
  });

  it('names objects after the release and fails with clear messages on values the schema cannot express', () => {
    const other = renderChart(renderer, [join(VALUES, 'minimal.yaml')], { name: 'acme' });
    expect(names(other.objects, 'Deployment')).toEqual(['acme-tessera-crm', 'acme-tessera-ingestion']);
    const fails = (values: K8sObject, files = ['all-services.yaml']): string => {
      try {
        renderChart(renderer, [...files.map((f) => join(VALUES, f)), writeTemp(values)]);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('rendered without error');
    };
    expect(fails({ serviceDefaults: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } })).toMatch(/services\.crm\.autoscaling: minReplicas \(5\) is greater than maxReplicas \(2\)/);
    expect(fails({ services: Object.fromEntries(SERVICES.map((s) => [s, { enabled: false }])) })).toMatch(/no service is enabled/);
    expect(fails({}, [])).toMatch(/postgres.mode is external: set postgres.external.url or postgres.external.existingSecret/);
    expect(fails({ postgres: { external: { existingSecret: 'db' } } }, [])).toMatch(/nats.mode is external: set nats.external.url/);
  });

  it('renders YAML that yamllint accepts', () => {
    const docs = [...rendered.values()].map((r) => r.yaml).join('');
    const config = '{extends: default, rules: {line-length: disable, document-start: disable, comments: disable, comments-indentation: disable, indentation: {indent-sequences: whatever}, braces: {max-spaces-inside: 1}}}';
    execFileSync('yamllint', ['-d', config, '-'], { input: docs, encoding: 'utf8' });
  });

  it('passes yamllint on the chart inputs and keeps Chart.yaml consistent', () => {
    execFileSync('yamllint', ['-d', '{extends: default, rules: {line-length: disable, document-start: disable, comments: {min-spaces-from-content: 1}, braces: {max-spaces-inside: 1}}}', join(CHART_DIR, 'values.yaml'), join(CHART_DIR, 'Chart.yaml')], { encoding: 'utf8' });
  });
});

let tempDir: string | undefined;
function writeTemp(values: K8sObject): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'tessera-chart-'));
  const file = join(tempDir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}
