import type { AttributeType } from '../contacts/profile';

const STANDARD = new Set(['externalId', 'email', 'phone', 'timezone', 'locale']);

export interface ImportRow {
  line: number;
  fields: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

/** Splits a parsed record (CSV columns or an NDJSON object) into standard fields and attributes. */
export function splitRecord(line: number, record: Record<string, unknown>): ImportRow {
  const fields: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === '' || value === undefined) continue; // an empty CSV cell leaves the value alone
    if (STANDARD.has(key)) fields[key] = value;
    else if (key === 'attributes' && typeof value === 'object' && value !== null && !Array.isArray(value)) Object.assign(attributes, value);
    else attributes[key] = value;
  }
  return { line, fields, attributes };
}

/**
 * CSV cells are strings: turn them into the attribute's defined type. Unknown attributes stay
 * strings (their type is inferred as string) unless the cell is JSON for a list/object.
 */
export function coerceCell(value: unknown, type: AttributeType | undefined): unknown {
  if (typeof value !== 'string') return value;
  switch (type) {
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'list':
      if (value.startsWith('[')) return parseJson(value);
      return value.split(';').map((s) => s.trim()).filter(Boolean);
    case 'object':
      return parseJson(value);
    default:
      return value;
  }
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
