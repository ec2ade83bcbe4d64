import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { APP_NAMES } from '@recsys/platform/config';
import { assertVenv, eventually, getJson, ROOT, runSchemathesis, type StResult } from './schemathesis.support';

/**
 * schemathesis (PyPI, ops/parity/schemathesis) against the OpenAPI document of every app of the
 * suite, with every check (`--checks all`, plus the hook zod_agrees_with_document): no 5xx, every
 * response conforming to the document (status, media type, headers, body schema), negative data
 * rejected, positive data accepted, 405 + Allow for undeclared methods, admin routes refusing
 * missing or wrong credentials. The suite runs as a user starts it (the built
 * dist/apps/suite/main.js, embedded adapters, every app on a free port) with the demo catalog and
 * a live synthetic ranking model, so the success responses are reached too.
 * Bounded: each app at most ST_MAX_TIME seconds (default 30: a budget, not a duration; an unloaded machine finishes well within it) and ST_MAX_EXAMPLES cases per
 * operation (default 12), so the file stays within ~4 minutes on 2 busy cores.
 * `npm run check:openapi` builds and runs this file (ST_SUITE_MAIN=<path to main.js> runs another build).
 */
const ADMIN_TOKEN = 'schemathesis-admin-token-0123456789';
const MAX_EXAMPLES = Number(process.env.ST_MAX_EXAMPLES ?? 12);
const MAX_TIME = Number(process.env.ST_MAX_TIME ?? 30);
const SEED = Number(process.env.ST_SEED ?? 20261206);
const MAIN = process.env.ST_SUITE_MAIN ?? join(ROOT, 'dist/apps/suite/main.js');

let child: ChildProcess | undefined;
let stderr = '';
const urls = new Map<string, string>();
const results = new Map<string, StResult>();

async function startSuiteProcess(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm run build first (npm test and npm run check:openapi do)`);
  const ports = Object.fromEntries(APP_NAMES.map((a) => [`${a.toUpperCase()}_PORT`, '0']));
  child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-st-suite-')), LOG_LEVEL: 'error', SEED_DEMO: 'true', ADMIN_TOKEN, ...ports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  await eventually(
    async () => {
      if (child!.exitCode !== null) throw new Error(`suite exited (${child!.exitCode}): ${stderr.slice(-3000)}`);
      for (const line of stdout.split('\n')) {
        const m = /^(\w+) (http:\/\/\S+)$/.exec(line.trim());
        if (m) urls.set(m[1]!, m[2]!);
      }
      return APP_NAMES.every((a) => urls.has(a));
    },
    90_000,
    50,
  );
}

beforeAll(async () => {
  assertVenv();
  await startSuiteProcess();
  const ranking = urls.get('ranking')!;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const { bytes, spec } = syntheticCtrModel({ seed: 1 });
  const reg = await getJson(`${ranking}/v1/models/ctr/versions/v1`, { method: 'POST', headers: auth, body: JSON.stringify({ artifactBase64: bytes.toString('base64'), featureSpec: spec }) });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const pro = await getJson(`${ranking}/v1/models/ctr/versions/v1/promote`, { method: 'POST', headers: auth, body: JSON.stringify({ to: 'live' }) });
  assert.equal(pro.status, 200, JSON.stringify(pro.body));
  // The demo catalog's namespace exists and the model serves before fuzzing starts (the rest of
  // the catalog keeps arriving meanwhile).
  await eventually(
    async () => (await getJson(`${urls.get('retrieval')}/v1/indexes`)).body.indexes?.some((i: { namespace: string; size: number }) => i.namespace === 'items' && i.size >= 100),
    120_000,
    100,
  );
  await eventually(
    async () =>
      (await getJson(`${ranking}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u', domain: spec.domains[0], candidates: ['item-1'] }) }))
        .status === 200,
    30_000,
    50,
  );
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.on('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
});

function report(app: string, r: StResult): string {
  const lines = r.failures.map((f) => `  ${f.operation}: ${f.message.split('\n').slice(0, 6).join(' | ')}`);
  return `${app}: exit ${r.exitCode}, ${r.operations} operations, ${r.failures.length} failures in ${r.seconds.toFixed(1)} s\n${lines.join('\n')}\n--- st output (tail) ---\n${r.output.slice(-6000)}`;
}

async function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

const json = { 'content-type': 'application/json' };

describe('HTTP edges, through libs/platform (every app)', () => {
  it.each(APP_NAMES.map((a) => [a]))('%s: 405 + Allow for a wrong method, 204 + Allow for OPTIONS, 404 problem for an unknown path', async (app) => {
    const base = urls.get(app)!;
    const wrong = await raw(`${base}/metrics`, { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET, HEAD, OPTIONS');
    assert.match(String(wrong.headers['content-type']), /^application\/problem\+json/);
    assert.equal(wrong.body.code, 'method_not_allowed');
    const options = await raw(`${base}/metrics`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.allow, 'GET, HEAD, OPTIONS');
    const unknown = await raw(`${base}/no/such/route`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'route_not_found');
    const doc = await getJson(`${base}/docs-json`);
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.components.schemas.Problem, 'the shared Problem schema');
  });

  it('415 for a body that is not JSON, 400 for malformed JSON, 413 over the body limit, 431 for a 100 kB URL: all problem+json', async () => {
    const r = urls.get('retrieval')!;
    const text = await raw(`${r}/v1/candidates`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"userId":"u"}' });
    assert.equal(text.status, 415);
    assert.equal(text.body.code, 'unsupported_media_type');
    const form = await raw(`${r}/v1/candidates`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'userId=u' });
    assert.equal(form.status, 415);
    const bad = await raw(`${r}/v1/candidates`, { method: 'POST', headers: json, body: '{"userId":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'malformed_json');
    const big = await raw(`${r}/v1/candidates`, { method: 'POST', headers: json, body: Buffer.alloc(11 * 1024 * 1024, 0x20) });
    assert.equal(big.status, 413);
    assert.match(String(big.headers['content-type']), /^application\/problem\+json/);
    assert.equal(big.body.code, 'payload_too_large');
    const long = await raw(`${r}/v1/indexes?q=${'a'.repeat(100_000)}`);
    assert.equal(long.status, 431);
    assert.match(String(long.headers['content-type']), /^application\/problem\+json/);
    assert.equal(long.body.code, 'header_fields_too_large');
    assert.equal(long.body.status, 431);
  });

  it('unknown body fields answer 422 naming the field; exactly one of vector / userId; norm bound as its own code', async () => {
    const r = urls.get('retrieval')!;
    const extra = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ userId: 'demo-user-0', bogus: 1 }) });
    assert.equal(extra.status, 422);
    assert.equal(extra.body.code, 'validation_failed');
    assert.ok(
      extra.body.errors.some((e: { message: string; location: string }) => e.location === 'body' && /bogus/.test(e.message)),
      JSON.stringify(extra.body),
    );
    const both = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ userId: 'demo-user-0', vector: [1] }) });
    assert.equal(both.status, 422);
    const neither = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ k: 3 }) });
    assert.equal(neither.status, 422);
    const huge = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ vector: [1e39] }) });
    assert.equal(huge.status, 422);
    const norm = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ vector: Array(32).fill(1000) }) });
    assert.equal(norm.status, 422);
    assert.equal(norm.body.code, 'vector_norm_too_large');
    const ok = await getJson(`${r}/v1/candidates`, { method: 'POST', headers: json, body: JSON.stringify({ vector: Array(32).fill(0.1), k: 3 }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.length, 3);
    const b = urls.get('behavior')!;
    const limit0 = await getJson(`${b}/v1/users/demo-user-0/history?limit=0`);
    assert.equal(limit0.status, 422);
    assert.equal(limit0.body.errors[0].location, 'query');
    const hist = await getJson(`${b}/v1/users/demo-user-0/history?limit=2`);
    assert.equal(hist.status, 200);
    assert.equal(hist.body.items.length, 2);
  });

  it('documents constraints, oneOf, every error status as problem+json with its codes, and response headers', async () => {
    const retrieval = (await getJson(`${urls.get('retrieval')}/docs-json`)).body;
    const cand = retrieval.paths['/v1/candidates'].post;
    const body = cand.requestBody.content['application/json'].schema;
    assert.equal(body.oneOf.length, 2);
    for (const branch of body.oneOf) assert.equal(branch.additionalProperties, false);
    assert.deepEqual(Object.keys(cand.responses).sort(), ['200', '400', '404', '413', '415', '422', '503']);
    const p404 = cand.responses['404'].content['application/problem+json'].schema;
    assert.deepEqual(p404.allOf[1].properties.code.enum.sort(), ['namespace_not_found', 'user_embedding_not_found']);
    assert.equal(cand.responses['200'].content['application/json'].schema.type, 'array');
    const rebuild = retrieval.paths['/v1/indexes/{namespace}/rebuild'].post;
    assert.ok(rebuild.responses['401'], 'admin route documents 401');
    assert.ok(rebuild.security?.length, 'admin route documents its bearer auth');
    const behavior = (await getJson(`${urls.get('behavior')}/docs-json`)).body;
    const limit = behavior.paths['/v1/users/{id}/history'].get.parameters.find((x: { name: string }) => x.name === 'limit');
    assert.deepEqual([limit.required, limit.schema.minimum, limit.schema.maximum, limit.schema.default], [false, 1, 10000, 100]);
    const ranking = (await getJson(`${urls.get('ranking')}/docs-json`)).body;
    const rank = ranking.paths['/v1/rank'].post;
    assert.equal(rank.responses['200'].headers['x-model-version'].required, true);
    assert.equal(rank.responses['200'].headers['x-shadow-version'].required, false);
    const register = ranking.paths['/v1/models/{name}/versions/{version}'].post;
    assert.ok(register.responses['201'] && register.responses['200'] && register.responses['409']);
    assert.ok(
      register.parameters.every((x: { schema: { pattern?: string } }) => x.schema.pattern),
      'name and version patterns documented',
    );
  });
});

describe('the schemathesis harness finds what it should (negative control)', () => {
  it('fails a run against a server that breaks its own document (a 5xx, undocumented, with a body off the schema)', async () => {
    const doc = {
      openapi: '3.1.0',
      info: { title: 'broken', version: '1' },
      paths: {
        '/things/{id}': {
          get: {
            parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
            responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } } } } } },
          },
        },
      },
    };
    const server = createServer((req, res) => {
      if (req.url === '/docs-json') return void res.setHeader('content-type', 'application/json').end(JSON.stringify(doc));
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'not-an-integer' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await runSchemathesis(`http://127.0.0.1:${port}`, { maxExamples: 3, maxTimeSeconds: 30, maxFailures: 1, seed: SEED, killAfterMs: 60_000 });
      assert.notEqual(r.exitCode, 0, r.output.slice(-3000));
      assert.ok(r.failures.length >= 1, r.output.slice(-3000));
      assert.match(r.failures.map((f) => f.message).join(' '), /ST101/, 'the server error check (not_a_server_error) fired');
      assert.equal(r.operations, 1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 90_000);
});

describe('schemathesis against every app (all checks, bounded)', () => {
  it.each(APP_NAMES.map((a) => [a]))(
    '%s: exit 0, no failures, every operation tested',
    async (app) => {
      const r = await runSchemathesis(urls.get(app)!, {
        maxExamples: MAX_EXAMPLES,
        maxTimeSeconds: MAX_TIME,
        seed: SEED,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        killAfterMs: (MAX_TIME + 40) * 1000,
      });
      results.set(app, r);
      // The report lists a test case per operation of the document (and one for the stateful phase).
      const doc = (await getJson(`${urls.get(app)}/docs-json`)).body as { paths: Record<string, Record<string, unknown>> };
      const declared = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).length, 0);
      assert.ok(declared >= 2 && r.operations >= declared, `${declared} operations in the document, ${r.operations} in the report\n${report(app, r)}`);
      console.log(`schemathesis ${app}: ${declared} operations, ${r.generated} test cases, ${r.failures.length} failures, exit ${r.exitCode}, ${r.seconds.toFixed(1)} s`);
      assert.deepEqual(r.failures, [], report(app, r));
      assert.equal(r.exitCode, 0, report(app, r));
    },
    (MAX_TIME + 60) * 1000,
  );
});
