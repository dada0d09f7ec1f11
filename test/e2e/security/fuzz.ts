import fc from 'fast-check';
import type { JsonSchema, OpenApiDocument, Operation } from './openapi';

// Requests generated from an OpenAPI document: bodies and parameters that follow the schema, that
// almost follow it (one field replaced by anything), or that ignore it (any JSON, or text that is
// not JSON at all). A service must answer each with a status below 500.

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const MAX_DEPTH = 4;
const anyJson = fc.jsonValue({ maxDepth: 2 });
/** Strings a careless handler trips on: empty, huge, control characters, injection, lone surrogates. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', '0', '-1', 'null', 'true', '[]', '{}', '\u0000', '\ud800', "' OR 1=1 --", '../../etc/passwd', '%00', '{{constructor.constructor}}', '__proto__', 'a'.repeat(5000), '😀', 'NaN', '1e309'),
);

function resolveRef(doc: OpenApiDocument, ref: string): JsonSchema {
  const name = ref.replace('#/components/schemas/', '');
  const schema = doc.components?.schemas?.[name];
  if (!schema) throw new Error(`unknown schema ${ref}`);
  return schema;
}

export function schemaArbitrary(doc: OpenApiDocument, schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > MAX_DEPTH) return anyJson;
  if (schema.$ref) return schemaArbitrary(doc, resolveRef(doc, schema.$ref), depth + 1);
  if (schema.allOf?.length) return schemaArbitrary(doc, Object.assign({}, ...schema.allOf.map((s) => (s.$ref ? resolveRef(doc, s.$ref) : s))), depth + 1);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => schemaArbitrary(doc, s, depth + 1)));
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const examples = schema.example !== undefined ? [fc.constant(schema.example)] : [];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const byFormat =
        schema.format === 'uuid' ? fc.uuid() : schema.format === 'date-time' ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) : schema.format === 'email' ? fc.emailAddress() : fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 200) });
      return fc.oneof(byFormat, ...examples, nastyString);
    }
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 }), fc.constantFrom(0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER));
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 }), fc.constantFrom(0, -1, 0.5, 1e21));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schemaArbitrary(doc, schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object':
    case undefined: {
      if (!schema.properties) return fc.oneof(...examples, fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 4 }));
      const props = Object.fromEntries(Object.entries(schema.properties).map(([key, s]) => [key, schemaArbitrary(doc, s, depth + 1)]));
      return fc.oneof(...examples, fc.record(props, { requiredKeys: (schema.required ?? []).filter((k) => k in props) }));
    }
    default:
      return anyJson;
  }
}

/** A value that follows the schema, one that breaks it in one field, or anything at all. */
function bodyArbitrary(doc: OpenApiDocument, schema: JsonSchema | undefined): fc.Arbitrary<string> {
  const valid = schemaArbitrary(doc, schema);
  const oneFieldWrong = fc.tuple(valid, fc.string({ maxLength: 12 }), anyJson).map(([value, key, wrong]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrong;
    const keys = Object.keys(value);
    return { ...value, [keys.length ? keys[key.length % keys.length]! : key]: wrong };
  });
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 3, arbitrary: oneFieldWrong.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '{"a":', '[1,2', 'null', '"x"', '{"__proto__":{"polluted":1}}')) },
  );
}

/** Path parameter values: ids of the right shape and of every wrong one. */
const pathValue = fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 2, arbitrary: nastyString.filter((s) => s.length > 0) }, { weight: 1, arbitrary: fc.integer().map(String) });

export function requestArbitrary(doc: OpenApiDocument, { method, path, op }: Operation, headers: Record<string, string>): fc.Arbitrary<FuzzRequest> {
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
  const content = op.requestBody?.content ?? {};
  const jsonSchema = content['application/json']?.schema;
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(method);
  return fc
    .record({
      params: fc.tuple(...pathParams.map(() => pathValue)),
      query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, fc.oneof(schemaArbitrary(doc, p.schema), nastyString)])), { requiredKeys: [] }),
      body: hasBody ? bodyArbitrary(doc, jsonSchema).map((b) => b as string | undefined) : fc.constant(undefined),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'text/csv', 'application/x-ndjson', 'application/octet-stream'),
    })
    .map(({ params, query, body, contentType }) => {
      let i = 0;
      const concrete = path.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(params[i++])));
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
      const qs = search.toString();
      return {
        method,
        path: `${concrete}${qs ? `?${qs}` : ''}`,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': contentType } : {}) },
        ...(body !== undefined ? { body } : {}),
      };
    });
}
