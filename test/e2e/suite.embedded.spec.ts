import assert from 'node:assert/strict';
import { APP_NAMES } from '@recsys/platform';
import { getJson, postJson, startTestSuite } from '../support/suite';

describe('suite on embedded adapters', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  beforeAll(async () => {
    suite = await startTestSuite();
  });
  afterAll(async () => {
    await suite?.close();
  });

  it('runs all seven apps, each healthy with its dependencies listed', async () => {
    assert.deepEqual(suite.apps.map((a) => a.name).sort(), [...APP_NAMES].sort());
    for (const app of suite.apps) {
      const r = await getJson(`${app.url}/health`);
      assert.equal(r.status, 200, `${app.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.app, app.name);
      assert.ok(Object.keys(r.body.dependencies).length >= 1);
    }
    assert.deepEqual(suite.infra.kinds, { bus: 'inprocess', state: 'memory', sql: 'pglite', jobs: 'inprocess' });
  });

  it('answers 503 with the failing dependency named when one is down', async () => {
    const ctx = suite.contexts.get('gateway')!;
    ctx.healthChecks.set('downstream', async () => {
      throw new Error('connection refused');
    });
    const r = await getJson(`${suite.url('gateway')}/health`);
    ctx.healthChecks.delete('downstream');
    assert.equal(r.status, 503);
    assert.equal(r.body.status, 'error');
    assert.deepEqual(r.body.dependencies.downstream, { status: 'down', error: 'connection refused' });
    assert.equal((await getJson(`${suite.url('gateway')}/health`)).status, 200);
  });

  it('serves Prometheus metrics and OpenAPI per app', async () => {
    for (const app of suite.apps) {
      const m = await fetch(`${app.url}/metrics`);
      const text = await m.text();
      assert.equal(m.status, 200);
      assert.match(text, new RegExp(`process_cpu_user_seconds_total\\{app="${app.name}"\\}`));
      const doc = await getJson(`${app.url}/docs-json`);
      assert.equal(doc.status, 200);
      assert.ok(doc.body.paths['/health'], `${app.name} OpenAPI lists /health`);
    }
    const docs = await fetch(`${suite.url('retrieval')}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });

  it('answers bad requests with problem+json and a stable code', async () => {
    const r = await postJson(`${suite.url('retrieval')}/v1/candidates`, '{not json');
    assert.equal(r.status, 400);
    assert.match(r.type ?? '', /application\/problem\+json/);
    assert.equal(r.body.code, 'malformed_json');
    const missing = await getJson(`${suite.url('gateway')}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'route_not_found');
    const invalid = await postJson(`${suite.url('retrieval')}/v1/candidates`, { k: 0 });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.code, 'validation_failed');
    assert.ok(invalid.body.errors.length >= 2, JSON.stringify(invalid.body));
  });
});
