import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { declaresTransforms, validateContract, type FieldError } from '@tessera/contracts';

type Class = new () => object;
type Meta = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];
/** True only when class-validator would find nothing wrong with the instance. */
type Check = (object: Record<string, unknown>) => boolean;

const storage = getMetadataStorage();
const checks = new Map<Class, Map<string | undefined, Check | null>>();

/**
 * class-validator's own rules for a class, resolved once: the same metadata, conditions and
 * constraint instances its executor uses per call, without its per-call lookups, grouping and
 * error objects. `null` when the class uses something this does not reproduce exactly.
 */
function compile(cls: Class, schema: string | undefined): Check | null {
  const metas = storage.getTargetValidationMetadatas(cls, schema as string, false, false, undefined);
  if (!metas.length) return null; // forbidUnknownValues: class-validator reports an error
  const properties: Check[] = [];
  for (const [property, all] of Object.entries(storage.groupByPropertyName(metas))) {
    const of = (type: string): Meta[] => all.filter((m) => m.type === type);
    const known = [ValidationTypes.CONDITIONAL_VALIDATION, ValidationTypes.IS_DEFINED, ValidationTypes.CUSTOM_VALIDATION, ValidationTypes.NESTED_VALIDATION];
    if (all.some((m) => !known.includes(m.type))) return null;
    const conditions = of(ValidationTypes.CONDITIONAL_VALIDATION);
    const customs = [...of(ValidationTypes.IS_DEFINED), ...of(ValidationTypes.CUSTOM_VALIDATION)].map((meta) => ({
      meta,
      constraints: storage.getTargetValidatorConstraints(meta.constraintCls),
    }));
    if (customs.some((c) => c.constraints.some((k) => k.async))) return null;
    // Nested objects are checked as the executor does: by their own class, under the declaring class's name.
    const nestedTargets = new Set(of(ValidationTypes.NESTED_VALIDATION).map((m) => (typeof m.target === 'string' ? m.target : m.target.name)));
    if (nestedTargets.size > 1) return null;
    const [nestedSchema] = nestedTargets;
    properties.push((object) => {
      const value = object[property];
      for (const c of conditions) if (!(c.constraints[0] as (o: object, v: unknown) => boolean)(object, value)) return true;
      for (const { meta, constraints } of customs) {
        if (meta.validateIf && !meta.validateIf(object, value)) continue;
        const args = { targetName: object.constructor?.name, property: meta.propertyName, object, value, constraints: meta.constraints };
        for (const constraint of constraints) {
          if (meta.each && (value instanceof Set || value instanceof Map)) return false;
          const ok = meta.each && Array.isArray(value) ? value.every((v) => constraint.instance.validate(v, args) === true) : constraint.instance.validate(value, args) === true;
          if (!ok) return false;
        }
      }
      if (nestedSchema === undefined || value === undefined) return true;
      const items: unknown[] = Array.isArray(value) ? value : [value];
      return items.every((item) => item instanceof Object && !Array.isArray(item) && checkInstance(item as Record<string, unknown>, nestedSchema));
    });
  }
  return (object) => properties.every((check) => check(object));
}

/** True when class-validator would accept the (transformed) instance as it is; false when unsure. */
export function plainlyValid(object: object, schema?: string): boolean {
  return checkInstance(object as Record<string, unknown>, schema);
}

function checkInstance(object: Record<string, unknown>, schema?: string): boolean {
  const cls = object.constructor as Class;
  let bySchema = checks.get(cls);
  if (!bySchema) checks.set(cls, (bySchema = new Map()));
  let check = bySchema.get(schema);
  if (check === undefined) bySchema.set(schema, (check = compile(cls, schema)));
  return check !== null && check(object);
}

/**
 * validateContract with a fast path for the consumer's hot loop: the payload is transformed as
 * validateContract does, then checked by class-validator's own constraints resolved once per
 * class. Anything not plainly valid takes validateContract itself, which decides and words the
 * errors, so the verdict is always class-validator's.
 */
export function checkPayload<T extends object>(cls: new () => T, plain: unknown): { ok: true; value: T } | { ok: false; errors: FieldError[] } {
  if (typeof plain === 'object' && plain !== null && !Array.isArray(plain)) {
    const value = toInstance(cls, plain);
    if (checkInstance(value as Record<string, unknown>)) return { ok: true, value };
  }
  return validateContract(cls, plain);
}

/** Per contract class: whether plainToInstance does more than copy properties (declaresTransforms). */
const transforming = new Map<Class, boolean>();

/**
 * The payload as an instance of its contract class, as plainToInstance makes it. For a class with
 * no class-transformer decorators (nearly every contract), plainToInstance only copies the
 * properties onto `new cls()`, walking every nested value to do so; copying the top level directly
 * costs about half of this check's CPU per event. A freshly parsed payload is owned by the
 * consumer, so sharing its nested values is safe. A class with decorators (e.g. `@Type` on a list
 * of nested contract objects), and an own `__proto__` key (JSON.parse makes one; it would set the
 * prototype on assignment), take plainToInstance itself.
 */
function toInstance<T extends object>(cls: new () => T, plain: object): T {
  let viaTransformer = transforming.get(cls);
  if (viaTransformer === undefined) transforming.set(cls, (viaTransformer = declaresTransforms(cls)));
  if (viaTransformer || Object.prototype.hasOwnProperty.call(plain, '__proto__')) return plainToInstance(cls, plain);
  return Object.assign(new cls(), plain);
}
