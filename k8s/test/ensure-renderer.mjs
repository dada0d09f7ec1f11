#!/usr/bin/env node
// Builds .tessera/k8s/helm-render-<hash> (k8s/test/renderer/main.go: Helm's template engine without a
// cluster) and makes sure `kubectl` (for `kubectl kustomize`) and `yamllint` exist. Installs Debian's
// golang-go, sprig, yaml.v2, kubernetes-client and yamllint with apt when missing, the way
// scripts/lib/postgres.mjs installs Postgres. A warm run only hashes one file (a few ms).
// Node built-ins only. Usage: node k8s/test/ensure-renderer.mjs (prints the renderer's path).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { aptInstall } from '../../scripts/lib/tools.mjs';
import { ROOT, STATE_DIR, ensureDir, findExecutable, log, run } from '../../scripts/lib/util.mjs';

const GOPATH = '/usr/share/gocode'; // where Debian's golang-*-dev packages put their sources
const SOURCE = join(ROOT, 'k8s', 'test', 'renderer', 'main.go');
const GO_LIBS = {
  'golang-github-masterminds-sprig-dev': 'github.com/Masterminds/sprig',
  'golang-gopkg-yaml.v2-dev': 'gopkg.in/yaml.v2',
};

export const K8S_STATE_DIR = join(STATE_DIR, 'k8s');

/** Path the renderer is built to: keyed by its source, so an edit rebuilds it and a warm run builds nothing. */
export function rendererPath() {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  return join(K8S_STATE_DIR, `helm-render-${hash}`);
}

export async function ensureRenderer() {
  const binary = rendererPath();
  const missing = [];
  if (!existsSync(binary)) {
    if (!findExecutable('go', ['/usr/lib/go/bin'])) missing.push('golang-go');
    for (const [pkg, importPath] of Object.entries(GO_LIBS)) if (!existsSync(join(GOPATH, 'src', importPath))) missing.push(pkg);
  }
  if (!findExecutable('kubectl')) missing.push('kubernetes-client');
  if (!findExecutable('yamllint')) missing.push('yamllint');
  if (missing.length) await aptInstall(missing, 'k8s tests');
  if (!existsSync(binary)) {
    log(`k8s: building the chart renderer into ${binary}`);
    ensureDir(K8S_STATE_DIR);
    const go = findExecutable('go', ['/usr/lib/go/bin']);
    // GOPATH mode: Debian's Go libraries are plain source trees, and nothing is downloaded.
    const env = { GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(K8S_STATE_DIR, 'go-cache') };
    await run(go, ['build', '-o', binary, SOURCE], { env, quiet: true });
  }
  return binary;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureRenderer().then(
    (path) => console.log(path),
    (err) => {
      console.error(`[tessera] k8s: ${err.message}`);
      process.exit(1);
    },
  );
}
