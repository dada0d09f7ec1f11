// Tools the commands need: pnpm, the workspace's node_modules, and Debian packages via apt.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ROOT, STATE_DIR, commandOutput, findExecutable, isRoot, log, run } from './util.mjs';

const PNPM_VERSION = '10.34.9';
const LOCAL_PNPM = join(STATE_DIR, 'tools', 'node_modules', '.bin', 'pnpm');

const pnpmVersion = (bin) => commandOutput(bin, ['--version']);

// A pnpm 10 from PATH, else one installed with npm into .tessera/tools. Corepack fails on these
// machines and a global install may need root, so neither is used.
export async function ensurePnpm() {
  const onPath = pnpmVersion('pnpm');
  if (onPath?.startsWith('10.')) {
    log(`pnpm: using pnpm ${onPath} from PATH`);
    return 'pnpm';
  }
  if (!pnpmVersion(LOCAL_PNPM)?.startsWith('10.')) {
    log(`pnpm: installing pnpm@${PNPM_VERSION} into .tessera/tools`);
    const prefix = join(STATE_DIR, 'tools');
    await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `pnpm@${PNPM_VERSION}`], { quiet: true });
  }
  // Package scripts that call pnpm themselves must find the same one.
  process.env.PATH = `${dirname(LOCAL_PNPM)}${delimiter}${process.env.PATH}`;
  log(`pnpm: using pnpm ${pnpmVersion(LOCAL_PNPM)} from .tessera/tools`);
  return LOCAL_PNPM;
}

// `pnpm install --frozen-lockfile`, skipped while node_modules was installed from this very lockfile.
// Always frozen, in CI too: a lockfile out of step with package.json should fail, not be rewritten.
export async function installDeps(pnpm) {
  const stamp = join(ROOT, 'node_modules', '.tessera-install-stamp');
  const lockHash = createHash('sha256').update(readFileSync(join(ROOT, 'pnpm-lock.yaml'))).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === lockHash) {
    log('dependencies: up to date (pnpm-lock.yaml unchanged since the last install)');
    return;
  }
  log('dependencies: pnpm install --frozen-lockfile');
  // confirmModulesPurge=false: without a TTY pnpm would abort instead of asking to rebuild node_modules.
  try {
    await run(pnpm, ['install', '--frozen-lockfile', '--config.confirmModulesPurge=false']);
  } catch (err) {
    log('dependencies: after changing a package.json, run `pnpm install` once to update pnpm-lock.yaml');
    throw err;
  }
  writeFileSync(stamp, `${lockHash}\n`);
}

// Runs a command as root: directly when we are root, else through sudo (which may ask for a password).
export async function runAsRoot(args, what) {
  if (isRoot()) return run(args[0], args.slice(1));
  if (findExecutable('sudo')) return run('sudo', args);
  throw new Error(`${what} needs root to install; run as root: ${args.join(' ')}`);
}

let aptUpdated = false;

// Installs Debian packages (apt-get update once per run first: a fresh machine has no package lists).
export async function aptInstall(packages, what) {
  if (!findExecutable('apt-get')) {
    throw new Error(`${what} is not installed and this is not a Debian/Ubuntu machine: install ${packages.join(' ')}`);
  }
  log(`${what}: installing Debian package ${packages.join(' ')}`);
  if (!aptUpdated) await runAsRoot(['apt-get', 'update'], what);
  aptUpdated = true;
  await runAsRoot(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', ...packages], what);
}
