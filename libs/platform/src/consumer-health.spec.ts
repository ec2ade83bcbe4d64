import assert from 'node:assert/strict';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { EventPublisher } from '@recsys/messaging';
import type { AppContext } from './app-context';
import { loadConfig } from './config';
import { consumerMetrics, createRegistry } from './metrics';
import { HealthController } from './platform.controllers';
import { DomainError } from './problem';
import { readState } from './state-read';

function fakeRes() {
  const out: { status?: number; body?: any } = {};
  const res = {
    status(s: number) {
      out.status = s;
      return res;
    },
    json(b: unknown) {
      out.body = b;
      return res;
    },
  };
  return { res: res as never, out };
}

async function setup(now: { t: number }) {
  const bus = new InProcessEventBus({ defaultPartitions: 2 });
  await bus.ensureTopics([{ topic: 'user.behaviors' }]);
  const state = new MemoryStateStore();
  void now;
  const registry = createRegistry('behavior');
  const hooks = consumerMetrics(registry);
  const config = loadConfig({ CONSUMER_STUCK_AFTER_MS: '10000', STATE_READ_TIMEOUT_MS: '50' });
  const ctx = {
    name: 'behavior',
    config,
    infra: { bus, state, kinds: { bus: 'inprocess', state: 'memory', sql: 'pglite', jobs: 'inprocess' } },
    metrics: registry,
    healthChecks: new Map(),
  } as unknown as AppContext;
  return { bus, state, ctx, hooks, registry, controller: new HealthController(ctx, ['bus', 'state']) };
}

describe('consumer health: metrics, readiness, liveness', () => {
  it('exports lag, progress and failures per partition, and readiness fails only once a partition is stuck past CONSUMER_STUCK_AFTER_MS', async () => {
    const now = { t: 1_000_000 };
    // The tracker's clock (Date.now, captured when the app's consumer metrics are created) follows `now`.
    jest.spyOn(Date, 'now').mockImplementation(() => now.t);
    const { bus, ctx, hooks, registry, controller } = await setup(now);
    try {
      await new EventPublisher(bus).publish(
        'user.behaviors',
        [1, 2, 3].map((i) => ({ eventId: `e${i}`, key: 'u1', timestamp: i, schemaVersion: 1 as const, userId: 'u1', itemId: `i${i}`, type: 'click' as const })),
      );
      const part = Number(Object.entries(await bus.endOffsets('user.behaviors')).find(([, o]) => o !== '0')![0]);
      hooks.onStarted('behavior', 'user.behaviors', bus);
      hooks.onProgress('behavior', 'user.behaviors', part, '0');
      hooks.onRetry('behavior', 'user.behaviors', part, '1', 1, 'transient', 'connect ECONNREFUSED');

      let r = fakeRes();
      await controller.ready(r.res);
      assert.equal(r.out.status, 200, JSON.stringify(r.out.body));
      assert.equal(r.out.body.consumers.lag, 2, JSON.stringify(r.out.body));
      assert.equal(r.out.body.consumers.failing, 1);

      now.t += 11_000;
      r = fakeRes();
      await controller.ready(r.res);
      assert.equal(r.out.status, 503);
      assert.equal(r.out.body.consumers.stuck[0].partition, part);
      assert.match(r.out.body.consumers.stuck[0].lastError, /ECONNREFUSED/);
      r = fakeRes();
      await controller.health(r.res);
      assert.equal(r.out.status, 503, '/health reports the same as /health/ready');
      assert.equal(controller.live().status, 'ok');

      const text = await registry.metrics();
      assert.match(text, new RegExp(`consumer_lag\\{group="behavior",topic="user.behaviors",partition="${part}"[^}]*\\} 2`));
      assert.match(text, new RegExp(`consumer_partition_failures\\{group="behavior",topic="user.behaviors",partition="${part}"[^}]*\\} 1`));
      assert.match(text, /consumer_retries_total\{group="behavior",topic="user.behaviors",kind="transient"[^}]*\} 1/);

      hooks.onProgress('behavior', 'user.behaviors', part, '2');
      r = fakeRes();
      await controller.ready(r.res);
      assert.equal(r.out.status, 200);
      assert.equal(r.out.body.consumers.lag, 0);
      void ctx;
    } finally {
      await bus.close();
      jest.restoreAllMocks();
    }
  });

  it('readiness fails while a dependency does not answer', async () => {
    const { bus, state, controller } = await setup({ t: Date.now() });
    jest.spyOn(state, 'ping').mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    const r = fakeRes();
    await controller.ready(r.res);
    assert.equal(r.out.status, 503);
    assert.equal(r.out.body.dependencies['state:memory'].status, 'down');
    jest.restoreAllMocks();
    await bus.close();
  });

  it('reads of Redis-held state answer 503 state_unavailable within the bound, never hang or 500', async () => {
    const { bus, ctx } = await setup({ t: Date.now() });
    const t0 = Date.now();
    await assert.rejects(
      readState(ctx, () => new Promise(() => undefined)),
      (e: DomainError) => e.status === 503 && e.code === 'state_unavailable' && /within 50 ms/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 1000);
    await assert.rejects(
      readState(ctx, () => Promise.reject(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))),
      (e: DomainError) => e.status === 503 && e.code === 'state_unavailable',
    );
    // A domain answer passes through unchanged.
    await assert.rejects(
      readState(ctx, () => Promise.reject(new DomainError('user_embedding_not_found', 404, 'no'))),
      (e: DomainError) => e.status === 404,
    );
    assert.equal(await readState(ctx, async () => 7), 7);
    await bus.close();
  });
});
