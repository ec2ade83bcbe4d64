import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ApiRouteSpec } from './api-route';
import { checkBodyDeclaresExtras, completeDocument, jsonSchemaOf, PROBLEM_SCHEMA, type OpenApiDocument } from './openapi';

const base = () =>
  ({
    openapi: '3.0.0',
    paths: {
      '/v1/things/{id}': {
        post: {
          operationId: 'Things_update',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { content: {} },
          responses: { '201': { description: '' } },
          security: [{ admin: [] }],
        },
      },
      '/v1/legacy': {
        post: {
          operationId: 'Legacy_post',
          parameters: [],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { '200': { description: '', content: { 'application/json': { schema: { type: 'object' } } } }, '401': { description: 'no schema' } },
        },
      },
    },
  }) as unknown as OpenApiDocument;

const Vec = z.array(z.number().min(-1).max(1)).meta({ id: 'SpecVec' });
const spec: ApiRouteSpec = {
  summary: 'update a thing',
  params: z.strictObject({ id: z.string().regex(/^[a-z]+$/) }),
  query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10), mode: z.enum(['a', 'b']).optional(), must: z.string() }),
  body: z.xor([z.strictObject({ a: Vec, b: Vec }), z.strictObject({ c: z.string() })]),
  responses: {
    200: z.strictObject({ ok: z.boolean() }),
    201: { description: 'created', schema: z.strictObject({ id: z.string() }), headers: { 'x-v': { schema: z.string() }, 'x-o': { schema: z.string(), optional: true } } },
  },
  errors: { 404: ['thing_not_found'], 422: ['thing_invalid'] },
};

describe('completeDocument: the OpenAPI operation from the zod schemas of @ApiRoute', () => {
  const doc = completeDocument(base(), new Map([['Things_update', spec]]));
  const op = doc.paths['/v1/things/{id}']!.post;

  it('is OpenAPI 3.1 with the shared Problem schema', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components!.schemas!.Problem, PROBLEM_SCHEMA);
  });

  it('documents path and query parameters with their constraints; required unless undefined is accepted', () => {
    const byName = Object.fromEntries(op.parameters.map((p: { name: string }) => [p.name, p]));
    assert.deepEqual(byName.id, { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } });
    assert.equal(byName.limit.required, false);
    assert.deepEqual([byName.limit.schema.type, byName.limit.schema.minimum, byName.limit.schema.maximum, byName.limit.schema.default], ['integer', 1, 50, 10]);
    assert.equal(byName.mode.required, false);
    assert.deepEqual(byName.mode.schema.enum, ['a', 'b']);
    assert.equal(byName.must.required, true);
  });

  it('documents the body as oneOf of strict objects, with $defs hoisted into components', () => {
    assert.equal(op.requestBody.required, true);
    const body = op.requestBody.content['application/json'].schema;
    assert.equal(body.oneOf.length, 2);
    assert.equal(body.oneOf[0].additionalProperties, false);
    const ref = body.oneOf[0].properties.a.$ref as string;
    assert.match(ref, /^#\/components\/schemas\/Things_update_body_SpecVec$/);
    assert.deepEqual(doc.components!.schemas!['Things_update_body_SpecVec'], { type: 'array', items: { type: 'number', minimum: -1, maximum: 1 } });
    assert.equal(JSON.stringify(doc).includes('$defs'), false);
  });

  it('documents every status: success bodies and headers, the route errors and the platform ones as problem+json with their codes', () => {
    assert.deepEqual(Object.keys(op.responses).sort(), ['200', '201', '400', '401', '404', '413', '415', '422']);
    assert.equal(op.responses['201'].description, 'created');
    assert.deepEqual(op.responses['201'].headers['x-v'], { required: true, schema: { type: 'string' } });
    assert.equal(op.responses['201'].headers['x-o'].required, false);
    const codes = (s: string) => op.responses[s].content['application/problem+json'].schema.allOf[1].properties.code.enum.sort();
    assert.deepEqual(codes('404'), ['thing_not_found']);
    assert.deepEqual(codes('422'), ['thing_invalid', 'unsupported_text', 'validation_failed']);
    assert.deepEqual(codes('401'), ['invalid_token', 'unauthorized']);
    assert.deepEqual(codes('415'), ['unsupported_media_type']);
    assert.deepEqual(op.responses['404'].content['application/problem+json'].schema.allOf[0], { $ref: '#/components/schemas/Problem' });
    assert.deepEqual(op.responses['404'].content['application/problem+json'].schema.allOf[1].properties.status, { const: 404 });
  });

  it('keeps undeclared (legacy) operations, drops error responses without a schema, adds the platform problems', () => {
    const legacy = doc.paths['/v1/legacy']!.post;
    assert.deepEqual(Object.keys(legacy.responses).sort(), ['200', '400', '413', '415', '422']);
    assert.deepEqual(legacy.requestBody.content['application/json'].schema, { type: 'object' });
  });

  it('a security scheme other than the admin bearer documents 401 with the route codes only', () => {
    const d = base();
    d.paths['/v1/things/{id}']!.post.security = [{ 'api-key': [] }];
    const withCodes = completeDocument(d, new Map([['Things_update', { ...spec, errors: { 401: ['api_key_required'] } }]]));
    const p401 = withCodes.paths['/v1/things/{id}']!.post.responses['401'].content['application/problem+json'].schema;
    assert.deepEqual(p401.allOf[1].properties.code.enum, ['api_key_required']);
    const d2 = base();
    d2.paths['/v1/things/{id}']!.post.security = [{ 'api-key': [] }];
    const any = completeDocument(d2, new Map([['Things_update', spec]])).paths['/v1/things/{id}']!.post.responses['401'].content['application/problem+json'].schema;
    assert.equal(any.allOf[1].properties.code, undefined);
  });

  it('writes tuples as arrays of their length (no prefixItems, no boolean items) and no nested $schema', () => {
    const tuples = z.strictObject({ ci: z.tuple([z.number(), z.number()]), mixed: z.tuple([z.string(), z.number()]) });
    const d = completeDocument(base(), new Map([['Things_update', { ...spec, responses: { 200: tuples } }]]));
    const props = d.paths['/v1/things/{id}']!.post.responses['200'].content['application/json'].schema.properties;
    assert.deepEqual(props.ci, { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 });
    assert.deepEqual(props.mixed, { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] }, minItems: 2, maxItems: 2 });
    const legacy = base();
    legacy.paths['/v1/legacy']!.post.requestBody.content['application/json'].schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' };
    assert.equal(JSON.stringify(completeDocument(legacy, new Map())).includes('$schema'), false);
  });

  it('without ADMIN_TOKEN, admin routes are documented as open (no security requirement, no 401)', () => {
    const d = completeDocument(base(), new Map([['Things_update', spec]]), { adminAuth: false });
    const op2 = d.paths['/v1/things/{id}']!.post;
    assert.equal(op2.security, undefined);
    assert.equal(op2.responses['401'], undefined);
    assert.match(op2.description, /ADMIN_TOKEN is not set/);
  });

  it('an optional body (a default) is documented as not required', () => {
    const d = completeDocument(base(), new Map([['Things_update', { ...spec, body: z.strictObject({ kind: z.enum(['x']).optional() }).default({}) }]]));
    assert.equal(d.paths['/v1/things/{id}']!.post.requestBody.required, false);
  });
});

describe('request bodies must say what happens to unknown fields', () => {
  it('refuses a plain z.object anywhere in a body', () => {
    assert.throws(() => checkBodyDeclaresExtras(z.object({ a: z.string() })), /\(root\)/);
    assert.throws(() => checkBodyDeclaresExtras(z.strictObject({ inner: z.object({ a: z.string() }) })), /properties\.inner/);
    assert.throws(() => checkBodyDeclaresExtras(z.xor([z.strictObject({ a: z.string() }), z.object({ b: z.string() })])), /oneOf\[1\]/);
  });

  it('accepts strict objects, loose objects and records', () => {
    checkBodyDeclaresExtras(z.strictObject({ a: z.string(), m: z.record(z.string(), z.unknown()) }));
    checkBodyDeclaresExtras(z.looseObject({ a: z.string() }));
    checkBodyDeclaresExtras(z.strictObject({ a: z.string() }).default({ a: 'x' }));
  });
});

describe('jsonSchemaOf', () => {
  it('is JSON Schema 2020-12 without $schema (embedded in OpenAPI 3.1)', () => {
    const s = jsonSchemaOf(z.strictObject({ n: z.number().int().min(1) }), 'input');
    assert.equal(s.$schema, undefined);
    assert.deepEqual(s, { type: 'object', properties: { n: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } }, required: ['n'], additionalProperties: false });
  });
});
