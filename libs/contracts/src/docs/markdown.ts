import { events, requests } from './generate';

export const REGENERATE_COMMAND = 'pnpm --filter @tessera/contracts run docs';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (text: string | undefined) => (text ? `\`${text}\`` : '—');
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** The human catalogue of the bus: one line per subject, linking to its schemas. */
export function renderMarkdown(): string {
  const lines = [
    '# Tessera bus contracts',
    '',
    `<!-- Generated from libs/contracts by \`${REGENERATE_COMMAND}\`: do not edit. -->`,
    '',
    'The full description is [asyncapi.json](asyncapi.json) (AsyncAPI 3.0); payload schemas are JSON Schema draft-07 in [schemas/](schemas/).',
    '',
    '## Events',
    '',
    'Published to JetStream inside the [event envelope](schemas/envelope.json); the payload is its `data`.',
    '',
    row(['Subject', 'Producer', 'Description', 'Partition key']),
    row(['---', '---', '---', '---']),
    ...events().map((e) =>
      row([`[\`${e.subject}\`](schemas/${e.subject}.json)`, e.producer, cell(e.description), code(e.partitionKey)]),
    ),
    '',
    '## Requests',
    '',
    'Request/reply over core NATS, outside every stream; the answer is a [reply envelope](schemas/reply-envelope.json).',
    '',
    row(['Subject', 'Responder', 'Description', 'Schemas']),
    row(['---', '---', '---', '---']),
    ...requests().map((r) =>
      row([
        `\`${r.subject}\``,
        r.responder,
        cell(r.description),
        `[request](schemas/${r.subject}.request.json), [response](schemas/${r.subject}.response.json)`,
      ]),
    ),
    '',
  ];
  return lines.join('\n');
}
