import assert from 'node:assert/strict';
import { ADLOAD_DECIDE, BEHAVIOR_HISTORY, RANKING_RANK, RETRIEVAL_CANDIDATES, type LocalCandidates, type LocalDecide, type LocalHistory, type LocalRank } from '@recsys/contracts';
import { DomainError, LocalDirectory, loadConfig } from '@recsys/platform';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { StageError } from '../../apps/gateway/src/stages/http-stage';
import { SuiteStageClients } from '../../apps/gateway/src/stages/stage-clients';
import { FakeStages } from './gateway.fakes';

/**
 * The gateway's stage clients with stages in the same process (LocalDirectory capabilities) and a
 * stand-in HTTP server behind them: the transport is chosen at every call, and an in-process call
 * keeps the HTTP path's deadline, breaker and failure semantics.
 */
describe('gateway stage clients: in process when the stage runs here, HTTP otherwise', () => {
  let fakes: FakeStages;
  let origin: string;
  beforeAll(async () => {
    fakes = new FakeStages();
    origin = await fakes.start();
  });
  afterAll(async () => fakes.stop());
  beforeEach(() => fakes.reset());

  const clients = (local: LocalDirectory, env: Record<string, string> = {}) => {
    const urls = Object.fromEntries(['EXPERIMENTS', 'BEHAVIOR', 'RETRIEVAL', 'RANKING', 'SLATES', 'ADLOAD', 'ADS'].map((a) => [`GATEWAY_${a}_URL`, origin]));
    const config = loadGatewayConfig(loadConfig({ LOG_LEVEL: 'error' }), { ...urls, GATEWAY_BREAKER_FAILURES: '2', GATEWAY_BREAKER_COOLDOWN_MS: '60000', ...env });
    return new SuiteStageClients(config, { local, inProcess: config.inProcess });
  };
  const rankReq = { userId: 'u1', domain: 'family', candidates: ['it-1', 'it-2'] };

  it('calls a stage in process while its capability is provided, over HTTP once it is withdrawn, and in process again when it is back', async () => {
    const local = new LocalDirectory();
    const c = clients(local);
    let localCalls = 0;
    const rank: LocalRank = async (body) => {
      localCalls++;
      const ids = (body as { candidates: string[] }).candidates;
      return { items: ids.map((itemId, i) => ({ itemId, pctr: 0.5 - i / 10 })), model: { name: 'ctr', version: 'v-local' } };
    };
    local.provide(RANKING_RANK, rank);
    try {
      assert.equal(c.transport('ranking'), 'local');
      const a = await c.rank(rankReq, 1000);
      assert.deepEqual(a, {
        items: [
          { itemId: 'it-1', pctr: 0.5 },
          { itemId: 'it-2', pctr: 0.4 },
        ],
        model: 'ctr',
        modelVersion: 'v-local',
      });
      assert.equal(localCalls, 1);
      assert.equal(fakes.calls.ranking, 0);

      local.withdraw(RANKING_RANK);
      assert.equal(c.transport('ranking'), 'http');
      const b = await c.rank(rankReq, 5000);
      assert.equal(fakes.calls.ranking, 1);
      assert.equal(localCalls, 1);
      assert.deepEqual(new Set(b.items.map((i) => i.itemId)), new Set(['it-1', 'it-2']));

      local.provide(RANKING_RANK, rank);
      await c.rank(rankReq, 1000);
      assert.equal(localCalls, 2);
      assert.equal(fakes.calls.ranking, 1);
    } finally {
      local.withdraw(RANKING_RANK);
      await c.close();
    }
  });

  it('GATEWAY_IN_PROCESS limits which stages are called in process; off sends everything over HTTP', async () => {
    const local = new LocalDirectory();
    let historyCalls = 0;
    let rankCalls = 0;
    const history: LocalHistory = async () => {
      historyCalls++;
      return { userId: 'u1', total: 1, items: [{ eventId: 'e1', itemId: 'seen-1', type: 'click', ts: 1 }] };
    };
    local.provide(BEHAVIOR_HISTORY, history);
    local.provide(RANKING_RANK, async () => {
      rankCalls++;
      return { items: [], model: { name: 'ctr', version: 'v' } };
    });
    const some = clients(local, { GATEWAY_IN_PROCESS: 'history' });
    const off = clients(local, { GATEWAY_IN_PROCESS: 'off' });
    try {
      assert.deepEqual(await some.recentHistory('u1', 10, 1000), ['seen-1']);
      assert.equal(historyCalls, 1);
      await some.rank(rankReq, 5000);
      assert.equal(rankCalls, 0, 'ranking is not in the list: HTTP');
      assert.equal(fakes.calls.ranking, 1);
      await off.recentHistory('u1', 10, 5000);
      assert.equal(historyCalls, 1, 'off: HTTP');
      assert.equal(fakes.calls.history, 1);
    } finally {
      await some.close();
      await off.close();
    }
  });

  it('a late in-process call is cut at its deadline: timeout for the caller, the call runs to its end and its answer is dropped, the breaker counts it and opens', async () => {
    const local = new LocalDirectory();
    const c = clients(local);
    let started = 0;
    let finished = 0;
    const release: (() => void)[] = [];
    const slow: LocalDecide = (body) =>
      new Promise((resolve) => {
        started++;
        release.push(() => {
          finished++;
          resolve({ decisionId: 'd', requestId: 'r', policyId: (body as { policyId?: string }).policyId ?? 'home-v1', policyVersion: 1, adSlots: 1, positions: [3], propensity: 0.25 });
        });
      });
    local.provide(ADLOAD_DECIDE, slow);
    try {
      const req = { userId: 'u1', surface: 'home', sessionFetchIndex: 0 };
      for (let i = 0; i < 2; i++) {
        await assert.rejects(c.adload(req, 20), (e: StageError) => e instanceof StageError && e.reason === 'timeout' && e.stage === 'adload');
      }
      assert.equal(started, 2);
      assert.equal(finished, 0, 'the caller stopped waiting before the call ended');
      assert.equal(c.breakerStates().adload, 'open');
      // Open: refused at once, the provider is not called, HTTP is not tried either.
      await assert.rejects(c.adload(req, 20), (e: StageError) => e.reason === 'breaker_open');
      assert.equal(started, 2);
      assert.equal(fakes.calls.adload, 0);
      // The late calls still complete (their answers go nowhere).
      for (const r of release) r();
      await new Promise((r) => setImmediate(r));
      assert.equal(finished, 2);
      assert.equal(c.breakerStates().adload, 'open');
    } finally {
      local.withdraw(ADLOAD_DECIDE);
      await c.close();
    }
  });

  it("maps a provider's problems as its HTTP status would be: expected 404 is a result, other 4xx leave the breaker closed, 5xx and crashes open it", async () => {
    const local = new LocalDirectory();
    const c = clients(local);
    let mode: 'cold' | 'invalid' | 'down' | 'crash' = 'cold';
    const candidates: LocalCandidates = async () => {
      if (mode === 'cold') throw new DomainError('user_embedding_not_found', 404, 'no embedding');
      if (mode === 'invalid') throw new DomainError('validation_failed', 422, 'bad body');
      if (mode === 'down') throw new DomainError('state_unavailable', 503, 'state store down');
      throw new Error('boom');
    };
    local.provide(RETRIEVAL_CANDIDATES, candidates);
    const req = { userId: 'u1', k: 10, excludeIds: [] };
    try {
      assert.equal(await c.candidates(req, 1000), null, 'cold start: no embedding is not a failure');
      mode = 'invalid';
      for (let i = 0; i < 3; i++) await assert.rejects(c.candidates(req, 1000), (e: StageError) => e.reason === 'http_error' && e.status === 422);
      assert.equal(c.breakerStates().retrieval, 'closed');
      mode = 'down';
      await assert.rejects(c.candidates(req, 1000), (e: StageError) => e.reason === 'http_error' && e.status === 503);
      assert.equal(c.breakerStates().retrieval, 'closed');
      mode = 'crash';
      await assert.rejects(c.candidates(req, 1000), (e: StageError) => e.reason === 'http_error' && e.status === 500);
      assert.equal(c.breakerStates().retrieval, 'open');
      assert.equal(fakes.calls.retrieval, 0);
    } finally {
      local.withdraw(RETRIEVAL_CANDIDATES);
      await c.close();
    }
  });

  it('passes an ad-load policy override through either transport', async () => {
    const local = new LocalDirectory();
    const c = clients(local);
    let seen: unknown;
    local.provide(ADLOAD_DECIDE, (async (body) => {
      seen = body;
      return { decisionId: 'd', requestId: 'r', policyId: 'home-v7', policyVersion: 7, adSlots: 0, positions: [], propensity: 0.5 };
    }) as LocalDecide);
    try {
      const d = await c.adload({ userId: 'u1', surface: 'home', sessionFetchIndex: 2, policyId: 'home-v7' }, 1000);
      assert.equal(d.policyId, 'home-v7');
      assert.deepEqual(seen, { userId: 'u1', surface: 'home', sessionFetchIndex: 2, policyId: 'home-v7' });
      local.withdraw(ADLOAD_DECIDE);
      await c.adload({ userId: 'u1', surface: 'home', sessionFetchIndex: 2, policyId: 'home-v7' }, 5000);
      assert.equal(fakes.lastRequests.adload.policyId, 'home-v7');
    } finally {
      await c.close();
    }
  });
});
