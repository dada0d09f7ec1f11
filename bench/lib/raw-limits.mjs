// The raw limits the platform's figures are compared to, each measured in a few seconds on this
// machine, in the same run: Postgres multi-row INSERT, JetStream windowed publish, a bare node:http
// server answering small POSTs, and compiled Handlebars renders.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import Handlebars from 'handlebars';
import { connect } from 'nats';
import pg from 'pg';

const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tessera';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SECONDS = Number(process.env.BENCH_RAW_SECONDS ?? 3);

/** Rows/s of 500-row INSERTs (about 300 bytes each, with a jsonb column) on one connection. */
export async function postgresInsertRate() {
  const db = new pg.Client({ connectionString: Object.assign(new URL(SERVER), { pathname: '/postgres' }).toString() });
  await db.connect();
  const table = `raw_limit_${randomBytes(3).toString('hex')}`;
  await db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, workspace_id uuid NOT NULL, name text NOT NULL, occurred_at timestamptz NOT NULL, data jsonb NOT NULL)`);
  try {
    const values = [];
    for (let i = 0; i < 500; i++) values.push(`(gen_random_uuid(), '00000000-0000-4000-8000-000000000001', $1, now(), $2::jsonb)`);
    const sql = `INSERT INTO ${table} VALUES ${values.join(',')}`;
    const data = JSON.stringify({ plan: 'pro', amount: 42.5, items: ['a', 'b', 'c'], note: 'x'.repeat(120) });
    let rows = 0;
    const end = Date.now() + SECONDS * 1000;
    const started = performance.now();
    while (Date.now() < end) {
      await db.query(sql, ['Order Completed', data]);
      rows += 500;
    }
    return rows / ((performance.now() - started) / 1000);
  } finally {
    await db.query(`DROP TABLE ${table}`);
    await db.end();
  }
}

/** Msgs/s of 1 KiB JetStream publishes with 256 acks in flight, into a scratch file stream. */
export async function jetstreamPublishRate() {
  const nc = await connect({ servers: NATS_URL });
  const name = `RAWLIMIT_${randomBytes(3).toString('hex')}`;
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  try {
    const js = nc.jetstream();
    const payload = randomBytes(512).toString('hex');
    const body = new TextEncoder().encode(payload);
    let sent = 0;
    const inflight = new Set();
    const end = Date.now() + SECONDS * 1000;
    const started = performance.now();
    while (Date.now() < end) {
      const p = js.publish(`${name}.x`, body).then(() => inflight.delete(p));
      inflight.add(p);
      sent++;
      if (inflight.size >= 256) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return sent / ((performance.now() - started) / 1000);
  } finally {
    await jsm.streams.delete(name);
    await nc.close();
  }
}

/** Req/s of small JSON POSTs to a bare node:http server in another process, 32 keep-alive connections. */
export async function httpPostRate() {
  const server = fork(new URL('./raw-http-server.mjs', import.meta.url).pathname, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.once('message', resolve));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const body = JSON.stringify({ userId: 'u1', event: 'Viewed', properties: { page: '/pricing' } });
  const post = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/track', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (Date.now() < end) {
        await post();
        done++;
      }
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  agent.destroy();
  server.kill();
  return rate;
}

/** Renders/s of a compiled 1 KiB email body with ten variables and a loop. */
export function handlebarsRenderRate() {
  const template = Handlebars.compile(
    `<html><body><h1>Hello {{contact.firstName}} {{contact.lastName}}</h1><p>Your order {{order.id}} of {{order.total}} {{order.currency}} has shipped to {{order.city}}.</p>` +
      `<ul>{{#each order.items}}<li>{{this.name}} × {{this.quantity}}</li>{{/each}}</ul><p>${'Thank you for shopping with us. '.repeat(20)}</p><a href="{{link}}">Track</a></body></html>`,
  );
  const data = { contact: { firstName: 'Ada', lastName: 'Lovelace' }, order: { id: 'A-1001', total: '42.50', currency: 'EUR', city: 'Lisbon', items: [{ name: 'Lamp', quantity: 1 }, { name: 'Bulb', quantity: 3 }] }, link: 'https://shop.test/o/A-1001' };
  let renders = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) template(data);
    renders += 1000;
  }
  return renders / ((performance.now() - started) / 1000);
}

export async function measureRawLimits() {
  return {
    postgres: { name: 'Postgres multi-row INSERT (500/statement)', value: await postgresInsertRate(), unit: 'rows/s' },
    jetstream: { name: 'JetStream publish, 1 KiB, 256 in flight', value: await jetstreamPublishRate(), unit: 'msgs/s' },
    http: { name: 'bare node:http small POST, 32 connections', value: await httpPostRate(), unit: 'req/s' },
    handlebars: { name: 'Handlebars render, 1 KiB compiled template', value: handlebarsRenderRate(), unit: 'renders/s' },
  };
}
