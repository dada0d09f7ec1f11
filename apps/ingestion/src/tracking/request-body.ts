import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** A request the client must fix: answered with `status` and the message, never a 500. */
export class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Decodes a tracking request body: gzip/deflate (decompressed size capped against gzip bombs),
 * then JSON sent as application/json or text/plain (browsers send text/plain to skip preflight).
 */
export async function decodeJsonBody(raw: Buffer | undefined, contentType: string | undefined, contentEncoding: string | undefined, maxBytes: number): Promise<unknown> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && type !== 'application/json' && type !== 'text/plain') throw new BadRequest(415, `content-type ${type} is not supported; send application/json or text/plain`);
  if (!raw || raw.length === 0) throw new BadRequest(400, 'the request body is empty');
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let bytes: Buffer;
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') bytes = await gunzipAsync(raw, { maxOutputLength: maxBytes + 1 });
    else if (encoding === 'deflate') bytes = await inflateAsync(raw, { maxOutputLength: maxBytes + 1 });
    else if (encoding === 'identity') bytes = raw;
    else throw new BadRequest(415, `content-encoding ${encoding} is not supported; send gzip or none`);
  } catch (error) {
    if (error instanceof BadRequest) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BadRequest(413, `the decompressed body exceeds ${maxBytes} bytes`);
    throw new BadRequest(400, `the body is not valid ${encoding} data`);
  }
  if (bytes.length > maxBytes) throw new BadRequest(413, `the body is ${bytes.length} bytes; the limit is ${maxBytes}`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    // Deeply nested input can overflow the parser's stack: still the sender's fault.
    throw new BadRequest(400, error instanceof SyntaxError ? `the body is not valid JSON: ${error.message}` : 'the body is not valid JSON');
  }
}

/** Decoded Authorization headers: a sender repeats the same one on every call. */
const decodedKeys = new Map<string, string | undefined>();
const MAX_DECODED = 1000;

/** The write key from `Authorization: Basic base64("<key>:")`, if that header carries one. */
export function writeKeyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const known = decodedKeys.get(header);
  if (known !== undefined || decodedKeys.has(header)) return known;
  const key = decodeBasicUser(header);
  // Process memory only, like the source cache keyed by the write key itself.
  if (decodedKeys.size >= MAX_DECODED) decodedKeys.clear();
  decodedKeys.set(header, key);
  return key;
}

function decodeBasicUser(header: string): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user || undefined;
}
