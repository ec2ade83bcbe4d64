import { z } from 'zod';
import type { ApiResponseSpec, ApiRouteSpec } from './api-route';

/** Scheme name of the admin bearer token (admin-auth.ts). */
const ADMIN_AUTH_SCHEME = 'admin';

/**
 * OpenAPI 3.1 from the zod schemas the routes validate with. Schemas are JSON Schema 2020-12
 * (zod 4's `z.toJSONSchema`), which OpenAPI 3.1 embeds as is; `$defs` are hoisted into
 * components.schemas so that references resolve against the document.
 */
export type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- operations are edited as untyped JSON Schema / OpenAPI objects
  paths: Record<string, Record<string, any>>;
  components?: { schemas?: Record<string, JsonSchema>; [k: string]: unknown };
  [k: string]: unknown;
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** JSON Schema of a zod schema: `input` for what a client sends, `output` for what it receives. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const js = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete js.$schema;
  return js;
}

/** Moves `$defs` into the document's components (unique names) and rewrites the references. */
function hoistDefs(schema: JsonSchema, doc: OpenApiDocument, prefix: string): JsonSchema {
  const defs = schema.$defs as Record<string, JsonSchema> | undefined;
  if (!defs) return schema;
  delete schema.$defs;
  doc.components ??= {};
  doc.components.schemas ??= {};
  const names = new Map<string, string>();
  for (const name of Object.keys(defs)) {
    let unique = `${prefix}_${name}`.replace(/[^A-Za-z0-9._-]/g, '_');
    for (let i = 2; doc.components.schemas[unique]; i++) unique = `${prefix}_${name}_${i}`;
    names.set(name, unique);
  }
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/')) out[k] = `#/components/schemas/${names.get(x.slice(8)) ?? x.slice(8)}`;
        else if (k === '$ref' && x === '#') throw new Error(`${prefix}: a schema referring to its own root cannot be hoisted; give the recursive part an id (z.globalRegistry)`);
        else out[k] = rewrite(x);
      }
      return out;
    }
    return v;
  };
  for (const [name, def] of Object.entries(defs)) doc.components.schemas[names.get(name)!] = rewrite(def) as JsonSchema;
  return rewrite(schema) as JsonSchema;
}

/**
 * Every object a request body may contain must say what it does with unknown fields: reject
 * (`additionalProperties: false`, z.strictObject) or accept (a schema, z.looseObject / z.record).
 * A plain z.object would silently drop them, so it is refused at decoration time.
 */
export function checkBodyDeclaresExtras(schema: z.ZodType): void {
  const bad: string[] = [];
  const visit = (s: unknown, path: string) => {
    if (Array.isArray(s)) return s.forEach((x, i) => visit(x, `${path}[${i}]`));
    if (!s || typeof s !== 'object') return;
    const o = s as JsonSchema;
    if (o.type === 'object' && o.properties && o.additionalProperties === undefined && o.unevaluatedProperties === undefined) bad.push(path || '(root)');
    for (const [k, v] of Object.entries(o)) if (v && typeof v === 'object') visit(v, path ? `${path}.${k}` : k);
  };
  visit(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), '');
  if (bad.length) throw new Error(`request body objects must be z.strictObject (unknown fields rejected) or declare their extras (z.looseObject, catchall): ${bad.join(', ')}`);
}

// ---- problem+json ----

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** RFC 9457 problem details with the suite's stable `code` (components.schemas.Problem). */
export const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable (clients switch on it); extension members may follow',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: 'https://recsys-suite.dev/problems/<code>' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string', description: 'the request path' },
    errors: {
      type: 'array',
      description: 'validation issues (validation_failed)',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { location: { type: 'string', enum: ['body', 'query', 'path'] }, path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

/** The problem of one response: the shared Problem with this status and these codes. */
export function problemSchema(status: number, codes?: readonly string[]): JsonSchema {
  return {
    allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { status: { const: status }, ...(codes?.length ? { code: { enum: [...new Set(codes)] } } : {}) } }],
  };
}

/**
 * What OpenAPI 3.1 tools take from JSON Schema 2020-12 as zod writes it: no `$schema` inside the
 * document, and tuples without `prefixItems` / boolean `items` (schemathesis 4 rewrites
 * prefixItems into the draft-4 array form of `items` and then refuses it as a Schema Object). A
 * closed tuple becomes an array of exactly its length whose items are its item schema (or anyOf
 * its distinct item schemas): the same for the usual [number, number] interval, looser in order
 * for a tuple of mixed types.
 */
export function normalizeSchemas(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(normalizeSchemas);
  if (!node || typeof node !== 'object') return;
  const o = node as JsonSchema;
  delete o.$schema;
  if (Array.isArray(o.prefixItems)) {
    const prefix = o.prefixItems as JsonSchema[];
    const distinct = [...new Map(prefix.map((x) => [JSON.stringify(x), x])).values()];
    const rest = o.items;
    if (rest === false || rest === undefined) {
      o.maxItems ??= prefix.length;
      o.items = distinct.length === 1 ? distinct[0] : { anyOf: distinct };
    } else {
      const all = rest === true ? [...distinct, {}] : [...distinct, rest as JsonSchema];
      o.items = { anyOf: all };
    }
    o.minItems ??= prefix.length;
    delete o.prefixItems;
  } else if (typeof o.items === 'boolean') {
    if (o.items === false) o.maxItems = 0;
    delete o.items;
  }
  for (const v of Object.values(o)) normalizeSchemas(v);
}

/** Errors the platform itself answers on a route, by what the route declares. */
function platformErrors(spec: ApiRouteSpec | undefined, op: { requestBody?: unknown; parameters?: unknown[]; security?: unknown[] }): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  const add = (status: number, ...codes: string[]) => (out[status] = [...(out[status] ?? []), ...codes]);
  const hasBody = spec ? !!spec.body : !!op.requestBody;
  if (hasBody) {
    add(400, 'malformed_json', 'bad_request');
    add(413, 'payload_too_large');
    add(415, 'unsupported_media_type');
    add(422, 'validation_failed', 'unsupported_text');
  }
  if (spec ? spec.params || spec.query : op.parameters?.length) add(422, 'validation_failed', 'unsupported_text');
  // The admin bearer guard's codes; another scheme (e.g. the gateway's API keys) declares its own.
  const security = (op.security ?? []) as Record<string, unknown>[];
  if (security.some((s) => ADMIN_AUTH_SCHEME in s)) add(401, 'unauthorized', 'invalid_token');
  else if (security.length) out[401] = out[401] ?? [];
  return out;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad request',
  401: 'Admin bearer token missing or wrong (only when ADMIN_TOKEN is set)',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body larger than the limit',
  415: 'Request body is not application/json',
  422: 'Request or its content rejected',
  429: 'Too many requests',
  503: 'Service unavailable',
};

function responseObject(doc: OpenApiDocument, prefix: string, r: z.ZodType | ApiResponseSpec): Record<string, unknown> {
  const spec: ApiResponseSpec = r instanceof z.ZodType ? { schema: r } : r;
  const out: Record<string, unknown> = { description: spec.description ?? '' };
  if (spec.schema) out.content = { [spec.contentType ?? 'application/json']: { schema: hoistDefs(jsonSchemaOf(spec.schema, 'output'), doc, prefix) } };
  if (spec.headers) {
    out.headers = Object.fromEntries(
      Object.entries(spec.headers).map(([name, h]) => [name, { required: !h.optional, ...(h.description ? { description: h.description } : {}), schema: jsonSchemaOf(h.schema, 'output') }]),
    );
  }
  return out;
}

/** A parameter or body the client may leave out: the schema accepts undefined (optional, default). */
function isOptional(s: z.ZodType): boolean {
  return s.safeParse(undefined).success;
}

function parametersOf(doc: OpenApiDocument, prefix: string, where: 'path' | 'query', obj: z.ZodObject): Record<string, unknown>[] {
  return Object.entries(obj.shape).map(([name, s]) => {
    const schema = hoistDefs(jsonSchemaOf(s as z.ZodType, 'input'), doc, `${prefix}_${name}`);
    const description = (s as z.ZodType).description ?? (schema.description as string | undefined);
    return { name, in: where, required: where === 'path' || !isOptional(s as z.ZodType), ...(description ? { description } : {}), schema };
  });
}

/**
 * Completes the document @nestjs/swagger scanned: operations declared with @ApiRoute get their
 * parameters, request body and every response from their zod schemas; every operation gets the
 * problem+json responses of the errors it can answer (its own and the platform's).
 */
export interface CompleteOptions {
  /**
   * Whether admin routes check a bearer token (ADMIN_TOKEN set). When they do not, the document
   * says so: no security requirement and no 401 on them, since the deployment answers neither.
   */
  adminAuth?: boolean;
}

export function completeDocument(doc: OpenApiDocument, specs: ReadonlyMap<string, ApiRouteSpec>, options: CompleteOptions = {}): OpenApiDocument {
  const adminAuth = options.adminAuth ?? true;
  doc.openapi = '3.1.0';
  doc.components ??= {};
  doc.components.schemas = { ...(doc.components.schemas ?? {}), Problem: PROBLEM_SCHEMA };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const spec = op.operationId ? specs.get(op.operationId) : undefined;
      if (!adminAuth && Array.isArray(op.security) && op.security.some((x: Record<string, unknown>) => ADMIN_AUTH_SCHEME in x)) {
        op.security = op.security.filter((x: Record<string, unknown>) => !(ADMIN_AUTH_SCHEME in x));
        if (!op.security.length) delete op.security;
        delete op.responses?.['401'];
        op.description = `${op.description ? `${op.description}\n\n` : ''}Admin route, open in this deployment (ADMIN_TOKEN is not set).`;
      }
      const prefix = String(op.operationId ?? method);
      if (spec) {
        const parameters = [
          ...(spec.params ? parametersOf(doc, prefix, 'path', spec.params) : []),
          ...(spec.query ? parametersOf(doc, prefix, 'query', spec.query) : []),
          // Header parameters declared by other decorators stay.
          ...((op.parameters ?? []) as { in: string }[]).filter((p) => p.in === 'header'),
        ];
        // Path parameters the route has but the spec does not type: plain strings.
        for (const m of pathParamNames(path)) {
          if (!parameters.some((p) => (p as { in: string; name: string }).in === 'path' && (p as { name: string }).name === m)) {
            parameters.push({ name: m, in: 'path', required: true, schema: { type: 'string', minLength: 1 } });
          }
        }
        op.parameters = parameters;
        if (spec.body) {
          op.requestBody = {
            required: !isOptional(spec.body),
            content: { 'application/json': { schema: hoistDefs(jsonSchemaOf(spec.body, 'input'), doc, `${prefix}_body`) } },
          };
        } else delete op.requestBody;
        op.responses = {};
        for (const [status, r] of Object.entries(spec.responses)) op.responses[status] = responseObject(doc, `${prefix}_${status}`, r);
      } else {
        // Not (yet) declared with @ApiRoute: keep what the decorators said, fill empty responses.
        op.responses ??= {};
        for (const [status, r] of Object.entries(op.responses as Record<string, Record<string, unknown>>)) {
          if (Number(status) >= 400 && !r.content) delete op.responses[status];
        }
      }
      const errors: Record<number, string[]> = platformErrors(spec, op);
      for (const [status, codes] of Object.entries(spec?.errors ?? {})) errors[Number(status)] = [...(errors[Number(status)] ?? []), ...codes];
      for (const [status, codes] of Object.entries(errors)) {
        // An empty code list (a security scheme that is not the admin one) documents any code.
        op.responses[status] = {
          description: REASONS[Number(status)] ?? 'Error',
          content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema(Number(status), codes) } },
        };
      }
    }
  }
  normalizeSchemas(doc.paths);
  normalizeSchemas(doc.components?.schemas);
  return doc;
}

function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}
