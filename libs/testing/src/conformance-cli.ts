// Runs the conformance kit against a live implementation, listening while you exercise it:
//   node libs/testing/dist/conformance-cli.js --service crm [--nats nats://127.0.0.1:4222] [--namespace ns] [--listen 30]
// Exits 1 when any problem was found.
import { parseArgs } from 'node:util';
import { SERVICES, type ServiceName } from '@tessera/contracts';
import { checkConformance } from './conformance';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { service: { type: 'string' }, nats: { type: 'string' }, namespace: { type: 'string' }, listen: { type: 'string' } } });
  const service = values.service as ServiceName;
  if (!SERVICES.includes(service)) throw new Error(`--service must be one of ${SERVICES.join(', ')}`);
  const listenMs = Number(values.listen ?? '30') * 1000;
  process.stdout.write(`Checking ${service}: answering its requests, then listening ${listenMs / 1000}s to its events; exercise it now.\n`);
  const report = await checkConformance({ natsUrl: values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222', namespace: values.namespace ?? process.env.BUS_NAMESPACE ?? '', service, settleMs: listenMs });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.problems.length ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
});
