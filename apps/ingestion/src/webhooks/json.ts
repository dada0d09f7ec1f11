/**
 * JSON.parse that keeps integers too large for a double (Shopify ids exceed 2^53) exactly, as
 * strings: number literals of 16+ digits outside strings are quoted before parsing.
 */
export function parseJsonKeepingBigInts(text: string): unknown {
  const quoted = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![\d.eE])/g, (match, str: string | undefined, big: string | undefined) => (str ? match : `"${big}"`));
  return JSON.parse(quoted);
}

/** A value at a JSON pointer (`/a/0/b`) or dot path (`a.0.b`); undefined when absent. */
export function valueAtPath(root: unknown, path: string): unknown {
  const parts = path.startsWith('/') ? path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')) : path.split('.');
  let node = root;
  for (const part of parts) {
    if (part === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string (numbers as their text), else undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim()) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
