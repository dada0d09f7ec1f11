import { plainToInstance } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';

export interface FieldError {
  /** Dotted path to the offending field, e.g. `attributes.plan` or `items.3.email`. */
  path: string;
  messages: string[];
}

/** Flattens class-validator's tree into one entry per failing field path. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) out.push({ path, messages: Object.values(error.constraints) });
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, path));
  }
  return out;
}

/** Validates a plain object against a contract class; returns the typed instance or the field errors. */
export function validateContract<T extends object>(
  cls: new () => T,
  plain: unknown,
): { ok: true; value: T } | { ok: false; errors: FieldError[] } {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, errors: [{ path: '', messages: ['payload must be an object'] }] };
  }
  const value = plainToInstance(cls, plain);
  const errors = validateSync(value, { whitelist: false, forbidUnknownValues: true });
  return errors.length ? { ok: false, errors: flattenValidationErrors(errors) } : { ok: true, value };
}

/**
 * Whether plainToInstance does more for this class than copy its properties onto a new instance:
 * it declares class-transformer decorators (`@Type` for nested classes, `@Expose`, `@Exclude`,
 * `@Transform`) on itself or on a validated property. The bus copies other payloads directly.
 */
export function declaresTransforms(cls: new () => object): boolean {
  const storage = defaultMetadataStorage;
  if (storage.getExposedMetadatas(cls).length || storage.getExcludedMetadatas(cls).length) return true;
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, undefined as unknown as string, false, false, undefined);
  return Object.keys(getMetadataStorage().groupByPropertyName(metas)).some(
    (property) => storage.findTypeMetadata(cls, property) !== undefined || [0, 1, 2].some((type) => storage.findTransformMetadatas(cls, property, type).length > 0),
  );
}
