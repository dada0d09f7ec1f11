// values.schema.json, checked with ajv (JSON Schema draft-07, which Helm 3 applies to the merged
// values before rendering): every values file the docs and tests use passes, and bad values fail
// with a message that names the value.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, KUSTOMIZE_DIR, mergedValues, type K8sObject } from './helpers';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')));
const VALUES = join(__dirname, 'values');
const BASE = [join(VALUES, 'all-services.yaml')];

const describeErrors = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'allowedValues' in e.params ? `: ${(e.params.allowedValues as unknown[]).join(', ')}` : ''}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);

function check(values: K8sObject): string[] {
  return validate(values) ? [] : describeErrors(validate.errors);
}

describe('values.schema.json', () => {
  it.each(readdirSync(VALUES))('accepts the test values file %s', (file) => {
    expect(check(mergedValues([join(VALUES, file)]))).toEqual([]);
  });

  it.each(['chart-values.yaml', 'chart-values-bundled.yaml'])('accepts the kustomize source values %s', (file) => {
    expect(check(mergedValues([join(KUSTOMIZE_DIR, file)]))).toEqual([]);
  });

  it('rejects the bare defaults, since external Postgres and NATS need their URLs', () => {
    const errors = check(mergedValues([])).join('\n');
    expect(errors).toContain('/postgres/external/url must NOT have fewer than 1 characters');
    expect(errors).toContain('/nats/external/url must NOT have fewer than 1 characters');
  });

  const BAD: [string, K8sObject, string][] = [
    ['a misspelled service', { services: { segmentaton: { enabled: true } } }, '/services must NOT have additional properties: segmentaton'],
    ['enabled as a string', { services: { crm: { enabled: 'yes' } } }, '/services/crm/enabled must be boolean'],
    ['enabled in serviceDefaults', { serviceDefaults: { enabled: false } }, '/serviceDefaults must NOT be valid'],
    ['replicas as a string', { services: { crm: { enabled: true, replicas: 'two' } } }, '/services/crm/replicas must be integer'],
    ['an unknown service setting', { serviceDefaults: { replica: 3 } }, '/serviceDefaults must NOT have additional properties: replica'],
    ['a bad memory quantity', { serviceDefaults: { resources: { limits: { memory: '512MB' } } } }, '/serviceDefaults/resources/limits/memory must match pattern'],
    ['CPU target over 100%', { services: { ingestion: { enabled: true, autoscaling: { targetCPUUtilizationPercentage: 150 } } } }, '/services/ingestion/autoscaling/targetCPUUtilizationPercentage must be <= 100'],
    ['env overriding a chart-owned variable', { services: { crm: { enabled: true, env: { DATABASE_URL: 'x' } } } }, '/services/crm/env must NOT be valid'],
    ['an unknown log level', { config: { logLevel: 'verbose' } }, '/config/logLevel must be equal to one of the allowed values: trace, debug, info, warn, error, fatal, silent'],
    ['a bus namespace with dots', { config: { busNamespace: 'acme.prod' } }, '/config/busNamespace must match pattern'],
    ['an unknown postgres mode', { postgres: { mode: 'embedded' } }, '/postgres/mode must be equal to one of the allowed values: external, bundled'],
    ['a MySQL URL', { postgres: { external: { url: 'mysql://db/tessera' } } }, '/postgres/external/url must match pattern'],
    ['an http NATS URL', { nats: { external: { url: 'http://nats:4222' } } }, '/nats/external/url must match pattern'],
    ['a bundled image without a tag', { postgres: { mode: 'bundled', bundled: { image: 'postgres' } } }, '/postgres/bundled/image must match pattern'],
    ['a latest-free but malformed digest', { image: { digest: 'sha256:abc' } }, '/image/digest must match pattern'],
    ['a short admin key', { auth: { adminKey: 'short' } }, '/auth/adminKey must match pattern'],
    ['an OTLP endpoint without scheme', { otel: { endpoint: 'collector:4318' } }, '/otel/endpoint must match pattern'],
    ['switching off runAsNonRoot', { podSecurityContext: { runAsNonRoot: false } }, '/podSecurityContext/runAsNonRoot must be equal to constant'],
    ['a writable root filesystem', { securityContext: { readOnlyRootFilesystem: false } }, '/securityContext/readOnlyRootFilesystem must be equal to constant'],
    ['an invalid pull policy', { image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy must be equal to one of the allowed values: Always, IfNotPresent, Never'],
    ['a top-level typo', { serviceMonitor: { enabled: true } }, '(root) must NOT have additional properties: serviceMonitor'],
  ];

  it.each(BAD)('rejects %s with a message naming the value', (_label, override, message) => {
    const errors = check(mergedValues(BASE, [override]));
    expect(errors.join('\n')).toContain(message);
  });
});
