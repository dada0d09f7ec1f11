import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { IS_DIVISIBLE_BY, IS_ENUM, IS_INT, IS_NEGATIVE, IS_POSITIVE, MAX, MIN, getMetadataStorage, type MetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

export type Schema = { [key: string]: unknown };
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type Class = abstract new (...args: never[]) => object;

/** Numeric TS enums map values back to names (`{ Low: 0, '0': 'Low' }`); the library lists both. */
function enumSchema(meta: ValidationMetadata): Schema {
  const entity = meta.constraints[0] as Record<string, string | number>;
  const values = Object.entries(entity)
    .filter(([name]) => Number.isNaN(Number(name)))
    .map(([, value]) => value);
  const types = new Set(values.map((value) => typeof value));
  return types.size === 1 ? { type: [...types][0], enum: values } : { enum: values };
}

/**
 * The library gives `@Min` & co. `type: number`, and merges a property's decorators in declaration
 * order, so `@Min(0) @IsInt()` would lose `integer`. Keep `integer` when the property has `@IsInt`.
 */
function numberBound(keyword: (meta: ValidationMetadata) => Schema) {
  return (meta: ValidationMetadata): Schema => {
    const isInt = getMetadataStorage()
      .getTargetValidationMetadatas(meta.target as Class, '', true, false)
      .some((m) => m.propertyName === meta.propertyName && m.name === IS_INT);
    return { ...keyword(meta), type: isInt ? 'integer' : 'number' };
  };
}

const CONVERTERS = {
  [IS_ENUM]: enumSchema,
  [MIN]: numberBound((m) => ({ minimum: m.constraints[0] })),
  [MAX]: numberBound((m) => ({ maximum: m.constraints[0] })),
  [IS_POSITIVE]: numberBound(() => ({ exclusiveMinimum: 0 })),
  [IS_NEGATIVE]: numberBound(() => ({ exclusiveMaximum: 0 })),
  [IS_DIVISIBLE_BY]: numberBound((m) => ({ multipleOf: m.constraints[0] })),
};

function refsIn(node: unknown, refPrefix: string, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => refsIn(item, refPrefix, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(refPrefix)) out.push(value.slice(refPrefix.length));
      else refsIn(value, refPrefix, out);
    }
  }
  return out;
}

/** The library keys schemas by class name and silently merges two classes of the same name. */
function assertUniqueClassNames(names: string[]): void {
  // Private field, read the same way the library reads it.
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, unknown> };
  for (const name of names) {
    const classes = [...storage.validationMetadatas.keys()].filter((t) => typeof t === 'function' && t.name === name);
    if (classes.length > 1) throw new Error(`Two contract classes are named ${name}: rename one, schemas are keyed by class name`);
  }
}

/**
 * JSON Schemas (draft-07) of the given classes and of every class they nest, keyed by class name,
 * with `$ref`s as `<refPrefix><ClassName>`. Classes outside that closure (e.g. a service's DTOs
 * loaded in the same process) are left out.
 */
export function classSchemas(roots: readonly Class[], refPrefix: string): Record<string, Schema> {
  const all = validationMetadatasToSchemas({
    refPointerPrefix: refPrefix,
    classTransformerMetadataStorage: defaultMetadataStorage,
    additionalConverters: CONVERTERS,
  }) as Record<string, Schema>;
  const out: Record<string, Schema> = {};
  const queue = roots.map((root) => root.name);
  for (const name of queue) {
    if (out[name]) continue;
    const schema = all[name];
    if (!schema) throw new Error(`${name} has no class-validator decorators, so it has no schema: decorate its fields`);
    out[name] = schema;
    queue.push(...refsIn(schema, refPrefix));
  }
  assertUniqueClassNames(Object.keys(out));
  return out;
}
