import assert from 'node:assert/strict';
import { behaviorScenario, DIM } from './behavior.flow';
import { getJson, startTestSuite } from '../support/suite';

describe('behavior service with retrieval (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'retrieval,behavior', EMBEDDING_DIM: String(DIM), BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '200' });
  });
  afterAll(async () => {
    await suite?.close();
  });

  it('builds history, SDIM tables and the user embedding from the bus; replay-safe; unknown items dead-lettered', async () => {
    await behaviorScenario({ bus: suite.infra.bus, behaviorUrl: suite.url('behavior'), retrievalUrl: suite.url('retrieval'), user: 'alice' });
  });

  it('answers unknown users and bad requests with problems', async () => {
    const emb = await getJson(`${suite.url('behavior')}/v1/users/nobody/embedding`);
    assert.equal(emb.status, 404);
    assert.equal(emb.body.code, 'user_embedding_not_found');
    const bad = await fetch(`${suite.url('behavior')}/v1/users/alice/interest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vectors: [[1, 2]] }) });
    assert.equal(bad.status, 422);
    assert.equal(((await bad.json()) as { code: string }).code, 'dimension_mismatch');
  });
});
