import assert from 'node:assert/strict';
import { adminAuthWarning, ConfigError, loadConfig } from '@recsys/platform';
import { rankingApp } from '../../apps/ranking/src/ranking.app';
import { retrievalApp } from '../../apps/retrieval/src/retrieval.app';
import { createTestApp, type TestApp } from '../support/nest-app';

const TOKEN = 'test-admin-token-0123456789';

describe('admin routes with ADMIN_TOKEN set (@nestjs/testing, embedded adapters)', () => {
  let retrieval: TestApp;
  let ranking: TestApp;

  beforeAll(async () => {
    retrieval = await createTestApp(retrievalApp, { env: { ADMIN_TOKEN: TOKEN } });
    ranking = await createTestApp(rankingApp, { env: { ADMIN_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await retrieval?.close();
    await ranking?.close();
  });

  it('refuses a rebuild without a bearer token, with a problem and a challenge', async () => {
    const res = await retrieval.http().post('/v1/indexes/items/rebuild').send({});
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="admin"/);
    expect(res.body.code).toBe('unauthorized');
  });

  it('refuses a wrong token with invalid_token, and accepts the right one', async () => {
    const wrong = await retrieval.http().post('/v1/indexes/items/rebuild').set('authorization', 'Bearer not-the-token').send({});
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_token');
    const right = await retrieval.http().post('/v1/indexes/items/rebuild').set('authorization', `Bearer ${TOKEN}`).send({});
    // No catalog yet: the request passed the guard and the service answers for the namespace.
    expect(right.status).toBe(404);
    expect(right.body.code).toBe('namespace_not_found');
  });

  it('guards every registry change but leaves reads open', async () => {
    for (const path of ['/v1/models/ctr/versions/v1', '/v1/models/ctr/versions/v1/promote', '/v1/models/ctr/versions/v1/retire', '/v1/models/ctr/rollback']) {
      const r = await ranking.http().post(path).send({});
      expect({ path, status: r.status, code: r.body.code }).toEqual({ path, status: 401, code: 'unauthorized' });
    }
    // With the token the request reaches the registry, which answers with its own domain error.
    const rollback = await ranking.http().post('/v1/models/ctr/rollback').set('authorization', `bearer ${TOKEN}`).send({});
    expect(rollback.status).not.toBe(401);
    expect((await ranking.http().get('/v1/models')).status).toBe(200);
  });

  it('documents the scheme in OpenAPI', async () => {
    const doc = (await ranking.http().get('/docs-json')).body;
    expect(doc.components.securitySchemes.admin).toBeDefined();
    expect(doc.paths['/v1/models/{name}/rollback'].post.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/v1/models'].get.security).toBeUndefined();
  });
});

describe('ADMIN_TOKEN config', () => {
  it('rejects a short token at boot and warns when none is set', () => {
    assert.throws(
      () => loadConfig({ ADMIN_TOKEN: 'short' }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.key === 'ADMIN_TOKEN'),
    );
    assert.match(adminAuthWarning(loadConfig({})) ?? '', /ADMIN_TOKEN is not set/);
    assert.equal(adminAuthWarning(loadConfig({ ADMIN_TOKEN: TOKEN })), undefined);
  });
});
