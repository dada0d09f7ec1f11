import { ATTRIBUTE_TYPES, matchesType, type AttributeType, type FieldError } from '../contacts/profile';

export interface FieldSpec {
  type: AttributeType;
  required?: boolean;
}
export type ObjectFields = Record<string, FieldSpec>;

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks an object type's field map itself (the "schema" posted by the user). */
export function checkFields(fields: unknown): FieldError[] {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return [{ path: 'fields', messages: ['fields must be an object of name -> { type, required }'] }];
  const errors: FieldError[] = [];
  const entries = Object.entries(fields as Record<string, unknown>);
  if (!entries.length || entries.length > 100) errors.push({ path: 'fields', messages: ['an object type has 1-100 fields'] });
  for (const [name, spec] of entries) {
    const path = `fields.${name}`;
    if (!FIELD_NAME.test(name)) errors.push({ path, messages: ['field names start with a letter or _ and hold letters, digits, _ (max 63)'] });
    const s = spec as Partial<FieldSpec> | null;
    if (typeof s !== 'object' || s === null) {
      errors.push({ path, messages: ['must be { type, required? }'] });
      continue;
    }
    if (!ATTRIBUTE_TYPES.includes(s.type as AttributeType)) errors.push({ path: `${path}.type`, messages: [`type must be one of ${ATTRIBUTE_TYPES.join(', ')}`] });
    if (s.required !== undefined && typeof s.required !== 'boolean') errors.push({ path: `${path}.required`, messages: ['required must be a boolean'] });
    const extra = Object.keys(s).filter((k) => k !== 'type' && k !== 'required');
    if (extra.length) errors.push({ path, messages: [`unknown keys: ${extra.join(', ')}`] });
  }
  return errors;
}

/**
 * Validates a record's data against its type. `partial` (PATCH) checks only the given fields and
 * lets `null` unset an optional one. Returns the data to store.
 */
export function checkRecord(fields: ObjectFields, data: unknown, partial: boolean, current: Record<string, unknown> = {}): { data: Record<string, unknown>; errors: FieldError[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { data: {}, errors: [{ path: 'data', messages: ['data must be an object'] }] };
  const errors: FieldError[] = [];
  const next: Record<string, unknown> = partial ? { ...current } : {};
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = fields[name];
    const path = `data.${name}`;
    if (!spec) errors.push({ path, messages: ['unknown field for this object type'] });
    else if (value === null) {
      if (spec.required) errors.push({ path, messages: [`${name} is required`] });
      else delete next[name];
    } else if (!matchesType(spec.type, value)) errors.push({ path, messages: [`must be of type ${spec.type}`] });
    else next[name] = value;
  }
  for (const [name, spec] of Object.entries(fields)) if (spec.required && next[name] === undefined && !errors.some((e) => e.path === `data.${name}`)) errors.push({ path: `data.${name}`, messages: [`${name} is required`] });
  return { data: next, errors };
}
