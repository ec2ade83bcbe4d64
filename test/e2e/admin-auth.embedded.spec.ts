import assert from 'node:assert/strict';
import { adminAuthWarning, ConfigError, loadConfig } from '@recsys/platform';
import { getJson, startTestSuite } from '../support/suite';

const TOKEN = 'test-admin-token-0123456789';

describe('admin routes with ADMIN_TOKEN set (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  const post = (url: string, headers: Record<string, string> = {}, body: unknown = {}) =>
    getJson(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'retrieval,ranking', ADMIN_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await suite?.close();
  });

  it('refuses a rebuild without a bearer token, with a problem and a challenge', async () => {
    const res = await fetch(`${suite.url('retrieval')}/v1/indexes/items/rebuild`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="admin"/);
    assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
  });

  it('refuses a wrong token with invalid_token, and accepts the right one', async () => {
    const wrong = await post(`${suite.url('retrieval')}/v1/indexes/items/rebuild`, { authorization: 'Bearer not-the-token' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'invalid_token');
    const right = await post(`${suite.url('retrieval')}/v1/indexes/items/rebuild`, { authorization: `Bearer ${TOKEN}` });
    // No catalog yet: the request passed the guard and the service answers for the namespace.
    assert.equal(right.status, 404, JSON.stringify(right.body));
    assert.equal(right.body.code, 'namespace_not_found');
  });

  it('guards every registry change but leaves reads open', async () => {
    const ranking = suite.url('ranking');
    for (const path of ['/v1/models/ctr/versions/v1', '/v1/models/ctr/versions/v1/promote', '/v1/models/ctr/versions/v1/retire', '/v1/models/ctr/rollback']) {
      const r = await post(`${ranking}${path}`);
      assert.equal(r.status, 401, `${path} without token`);
      assert.equal(r.body.code, 'unauthorized');
    }
    // With the token the request reaches the registry, which answers with its own domain error.
    const rollback = await post(`${ranking}/v1/models/ctr/rollback`, { authorization: `bearer ${TOKEN}` });
    assert.notEqual(rollback.status, 401);
    assert.equal((await getJson(`${ranking}/v1/models`)).status, 200);
  });

  it('documents the scheme in OpenAPI', async () => {
    const doc = (await getJson(`${suite.url('ranking')}/docs-json`)).body;
    assert.ok(doc.components.securitySchemes.admin, 'admin bearer scheme declared');
    assert.deepEqual(doc.paths['/v1/models/{name}/rollback'].post.security, [{ admin: [] }]);
    assert.equal(doc.paths['/v1/models'].get.security, undefined);
  });
});

describe('ADMIN_TOKEN config', () => {
  it('rejects a short token at boot and warns when none is set', () => {
    assert.throws(() => loadConfig({ ADMIN_TOKEN: 'short' }), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.key === 'ADMIN_TOKEN'));
    assert.match(adminAuthWarning(loadConfig({})) ?? '', /ADMIN_TOKEN is not set/);
    assert.equal(adminAuthWarning(loadConfig({ ADMIN_TOKEN: TOKEN })), undefined);
  });
});
