// Runs every benchmark (bench/<area>/*.bench.mjs, or only those whose path contains an argument),
// one after another so they do not compete for the two cores. Each prints its own figures; the
// `FIGURE` lines they print (bench/lib/figures.mjs) are gathered into bench/REPORT.md, together with
// each benchmark's full output and the machine it ran on. A filtered run writes the report only
// with --report, so a quick check of one area does not overwrite the committed full report.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from 'nats';
import pg from 'pg';
import { figureRow, parseFigure, verdict } from './lib/figures.mjs';

const root = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const writeReport = args.includes('--report') || !args.some((a) => !a.startsWith('--'));
const filters = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory() && d !== 'node_modules' && d !== 'lib')
  .flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.bench.mjs')).map((f) => join(d, f)))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) console.log('no benchmarks matched');

/** Runs one benchmark, echoing its output, and returns what it printed and the figures in it. */
function runBenchmark(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(root, file)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(root, '..') });
    const lines = [];
    const figures = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const f = parseFigure(line);
      if (f) figures.push(f);
      else {
        lines.push(line);
        console.log(line);
      }
    });
    child.on('close', (code) => resolve({ file, code, lines, figures, seconds: (Date.now() - started) / 1000 }));
  });
}

async function machine() {
  const facts = [`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`, `${Math.round(os.totalmem() / 2 ** 30)} GiB memory`, `Node ${process.version}`, `${os.type()} ${os.release()}`];
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
  try {
    await db.connect();
    facts.push(((await db.query('SHOW server_version')).rows[0].server_version.split(' ')[0] ?? '').replace(/^/, 'PostgreSQL '));
  } catch {
    /* the benchmarks themselves will report a missing server */
  } finally {
    await db.end().catch(() => undefined);
  }
  try {
    const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
    facts.push(`nats-server ${nc.info?.version ?? '?'}`);
    await nc.close();
  } catch {
    /* as above */
  }
  return facts.join(', ');
}

const commit = () => {
  const sha = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', '.', '../apps', '../libs'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  return sha ? `${sha}${dirty ? ' (with uncommitted changes)' : ''}` : 'unknown';
};

function report(results, machineFacts, startedAt, loadBefore, startCommit) {
  const figures = results.flatMap((r) => r.figures);
  const out = [
    '# Benchmark report',
    '',
    `Written by \`${args.length ? `node bench/run.mjs ${args.join(' ')}` : 'npm run bench'}\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${startCommit}.`,
    `To reproduce: \`npm run bench\` (all), or \`node bench/run.mjs <area>\` after \`npm run build\` for one area.`,
    '',
    `Machine: ${machineFacts}. Load average before the run: ${loadBefore.map((l) => l.toFixed(1)).join(' ')}; after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
    'Each benchmark runs alone, one after another; load generators run on the same two cores as the services, Postgres and NATS, so every figure here includes their cost.',
    '',
    '## Figures',
    '',
    'Each figure beside the target its issue sets and the raw limit it is compared to, measured in the same run.',
    '',
    '| Area | Figure | Measured | Target | Raw limit (same run) | Verdict |',
    '|---|---|---|---|---|---|',
    ...figures.map(figureRow),
    '',
    `${figures.filter((f) => verdict(f) === 'met').length} of ${figures.filter((f) => f.target).length} targets met.`,
    '',
    '## Output of each benchmark',
    '',
  ];
  for (const r of results) {
    out.push(`### ${r.file} (${r.seconds.toFixed(0)} s${r.code === 0 ? '' : `, exit code ${r.code}`})`, '', '```', ...r.lines, '```', '');
  }
  writeFileSync(join(root, 'REPORT.md'), out.join('\n'));
  console.log(`\nwrote ${join(root, 'REPORT.md')}`);
}

// The commit as the run starts: the code being measured was built from it.
const startCommit = commit();
const startedAt = new Date();
const loadBefore = os.loadavg();
const results = [];
for (const file of files) {
  console.log(`\n=== ${file}`);
  results.push(await runBenchmark(file));
}
if (writeReport && results.length) {
  report(results, await machine(), startedAt, loadBefore, startCommit);
}
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
