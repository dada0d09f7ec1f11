// Shared by the k8s tests: render the chart (Go renderer), build overlays (kubectl kustomize),
// validate objects against the Kubernetes 1.27 API schemas (kubernetes-models 4.5.1).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export const K8S_DIR = join(__dirname, '..');
export const CHART_DIR = join(K8S_DIR, 'charts', 'tessera');
export const KUSTOMIZE_DIR = join(K8S_DIR, 'kustomize');
export const SERVICES = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics'] as const;
export const PORTS: Record<string, number> = { crm: 3001, ingestion: 3002, segmentation: 3003, journeys: 3004, messaging: 3005, analytics: 3006 };

// Kubernetes objects are open-ended JSON; tests read them by path.
export type K8sObject = Record<string, any>;

export interface Rendered {
  objects: K8sObject[];
  notes: string;
  yaml: string;
}

/** `helm template` equivalent: the chart rendered with the given values files (later ones win). */
export function renderChart(renderer: string, valuesFiles: string[], opts: { name?: string; namespace?: string } = {}): Rendered {
  const args = ['-json', '-name', opts.name ?? 'tessera', '-namespace', opts.namespace ?? 'tessera'];
  for (const file of valuesFiles) args.push('-f', file);
  const result = spawnSync(renderer, [...args, CHART_DIR], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr.trim());
  const { manifests, notes } = JSON.parse(result.stdout) as { manifests: { content: string }[]; notes: string };
  return { objects: manifests.map((m) => parseYaml(m.content) as K8sObject), notes, yaml: manifests.map((m) => `---\n${m.content}`).join('') };
}

/** `kubectl kustomize <dir>` parsed into objects. */
export function kustomize(dir: string): { objects: K8sObject[]; yaml: string } {
  const yaml = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return { objects: parseAllDocuments(yaml).map((d) => d.toJSON() as K8sObject), yaml };
}

const require = createRequire(join(K8S_DIR, 'package.json'));
const MODEL_PATHS: Record<string, string> = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
};

/**
 * Throws when the object does not match its Kubernetes API schema (types, enums, required fields).
 * ServiceMonitor is checked against the Prometheus Operator CRD's schema (@kubernetes-models/prometheus-operator).
 */
export function validateObject(obj: K8sObject): void {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const path = MODEL_PATHS[id];
  if (!path) throw new Error(`no schema known for ${id} (${obj.metadata?.name}): add it to MODEL_PATHS`);
  const Model = require(path)[obj.kind];
  // kustomize wraps long base64 values over lines; the API server's decoder skips the newlines,
  // the schema's "byte" format does not.
  const input = obj.kind === 'Secret' && obj.data ? { ...obj, data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, String(v).replace(/\s/g, '')])) } : obj;
  try {
    new Model(input).validate();
  } catch (error) {
    throw new Error(`${obj.kind}/${obj.metadata?.name}: ${(error as Error).message}`);
  }
}

export const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
export const names = (objects: K8sObject[], kind: string): string[] => byKind(objects, kind).map((o) => o.metadata.name as string).sort();
export const hook = (obj: K8sObject): string | undefined => obj.metadata.annotations?.['helm.sh/hook'];
export const hookWeight = (obj: K8sObject): number => Number(obj.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);

/** Secret names an object's pods read (env valueFrom, envFrom). */
export function secretRefs(obj: K8sObject): string[] {
  const spec = obj.spec?.template?.spec ?? {};
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const refs = new Set<string>();
  for (const c of containers) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) refs.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef) refs.add(e.secretRef.name);
  }
  return [...refs];
}

/** Values as Helm merges them: chart defaults, then each file; null deletes a default. */
export function mergedValues(valuesFiles: string[], extra: K8sObject[] = []): K8sObject {
  const coalesce = (dst: K8sObject, src: K8sObject): K8sObject => {
    for (const [k, v] of Object.entries(src)) {
      if (v === null) delete dst[k];
      else if (isPlainObject(dst[k]) && isPlainObject(v)) dst[k] = coalesce(dst[k], v);
      else dst[k] = v;
    }
    return dst;
  };
  const layers = [join(CHART_DIR, 'values.yaml'), ...valuesFiles].map((f) => parseYaml(readFileSync(f, 'utf8')) ?? {});
  return [...layers, ...extra].reduce((acc, layer) => coalesce(acc, structuredClone(layer)), {});
}

const isPlainObject = (v: unknown): v is K8sObject => typeof v === 'object' && v !== null && !Array.isArray(v);
