import assert from 'node:assert/strict';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import type { BusRecord, EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import {
  classifyError,
  ConsumerTracker,
  DLQ_HEADERS,
  EventPublisher,
  PermanentEventError,
  restoreDeadLetterLedger,
  startEventBatchConsumer,
  startEventConsumer,
  StateGeneration,
  StateStoreDeadLetterLedger,
  TransientEventError,
  type ConsumerHooks,
} from './index';

const behavior = (i: number, user = `u${i % 3}`) => ({
  eventId: `e${i}`,
  key: user,
  timestamp: 1000 + i,
  schemaVersion: 1 as const,
  userId: user,
  itemId: `i${i}`,
  type: 'click' as const,
});

async function makeBus(partitions = 1) {
  const bus = new InProcessEventBus({ defaultPartitions: partitions, retryBackoff: { initialMs: 5, maxMs: 20 }, onHandlerError: () => undefined });
  await bus.ensureTopics([{ topic: 'user.behaviors' }, { topic: 'user.behaviors.dlq' }]);
  return bus;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every record of the DLQ topic, read through a fresh group. */
async function dlq(bus: EventBus): Promise<BusRecord[]> {
  const end = await bus.endOffsets('user.behaviors.dlq');
  const total = Object.values(end).reduce((a, o) => a + Number(o), 0);
  const out: BusRecord[] = [];
  const sub = await bus.subscribe({
    groupId: `reader-${Math.random()}`,
    topics: ['user.behaviors.dlq'],
    fromBeginning: true,
    handler: async (r) => void out.push(r),
  });
  await until(() => out.length >= total);
  await sub.stop();
  return out;
}

/** Waits until the group has worked through everything produced so far (progress hooks). */
function progressHooks(): ConsumerHooks & { done: Map<number, bigint>; retries: { offset: string; kind: string }[] } {
  const done = new Map<number, bigint>();
  const retries: { offset: string; kind: string }[] = [];
  return {
    done,
    retries,
    onProgress: (_g, _t, p, o) => void done.set(p, BigInt(o)),
    onRetry: (_g, _t, _p, offset, _a, kind) => void retries.push({ offset, kind }),
  };
}

async function caughtUp(bus: EventBus, done: Map<number, bigint>) {
  const end = await bus.endOffsets('user.behaviors');
  await until(() => Object.entries(end).every(([p, o]) => BigInt(o) === 0n || (done.get(Number(p)) ?? -1n) >= BigInt(o) - 1n));
}

describe('poison-message policy', () => {
  it('classifies errors: permanent (typed, contract), transient (drivers, connection), unknown (the rest)', () => {
    assert.equal(classifyError(new PermanentEventError('unknown_item', 'x')), 'permanent');
    assert.equal(classifyError(new TransientEventError('x')), 'transient');
    assert.equal(classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })), 'transient');
    assert.equal(classifyError(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })), 'transient');
    assert.equal(classifyError(new Error('Connection is closed.')), 'transient');
    assert.equal(classifyError(new RangeError('hnsw: vector is not finite')), 'unknown');
  });

  it('one bad record in a batch is isolated by bisection and dead-lettered once; the rest of the batch applies and the partition moves on', async () => {
    const bus = await makeBus();
    await new EventPublisher(bus).publish(
      'user.behaviors',
      Array.from({ length: 40 }, (_, i) => behavior(i)),
    );
    const applied = new Set<string>();
    const calls: number[] = [];
    const hooks = progressHooks();
    const sub = await startEventBatchConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'g',
      maxBatchSize: 64,
      maxAttempts: 3,
      hooks,
      handleBatch: async (events) => {
        calls.push(events.length);
        // A native engine that throws on one record (an unforeseen error, not a typed one).
        if (events.some((e) => e.event.eventId === 'e17')) throw new RangeError('engine refused e17');
        if (events.some((e) => e.event.eventId === 'e30')) throw new PermanentEventError('domain_rejected', 'e30 is not acceptable');
        for (const e of events) applied.add(e.event.eventId);
      },
    });
    await caughtUp(bus, hooks.done);
    await sub.stop();
    assert.equal(applied.size, 38);
    assert.ok(!applied.has('e17') && !applied.has('e30'));
    const dead = await dlq(bus);
    assert.deepEqual(dead.map((d) => [d.headers[DLQ_HEADERS.sourceOffset], d.headers[DLQ_HEADERS.code]]).sort(), [
      ['17', 'handler_error'],
      ['30', 'domain_rejected'],
    ]);
    assert.match(dead.find((d) => d.headers[DLQ_HEADERS.sourceOffset] === '17')!.headers[DLQ_HEADERS.reason], /engine refused e17 \(failed 3 times\)/);
    // The unknown error was retried (maxAttempts - 1 times) before it was dead-lettered; the permanent one never.
    assert.equal(hooks.retries.filter((r) => r.offset === '17').length, 2);
    assert.equal(hooks.retries.filter((r) => r.offset === '30').length, 0);
    await bus.close();
  });

  it('a transient error pauses and retries the partition without dead-lettering anything', async () => {
    const bus = await makeBus();
    await new EventPublisher(bus).publish('user.behaviors', [behavior(1), behavior(2), behavior(3)]);
    let down = 6;
    const applied: string[] = [];
    const hooks = progressHooks();
    const sub = await startEventBatchConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'g',
      maxAttempts: 2,
      hooks,
      handleBatch: async (events) => {
        if (down-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
        for (const e of events) applied.push(e.event.eventId);
      },
    });
    await caughtUp(bus, hooks.done);
    await sub.stop();
    assert.deepEqual(applied, ['e1', 'e2', 'e3']);
    assert.ok(hooks.retries.length >= 6 && hooks.retries.every((r) => r.kind === 'transient'));
    assert.equal((await dlq(bus)).length, 0);
    await bus.close();
  });

  it('exactly one DLQ record per bad message per scope across redeliveries, restarts and replicas sharing a scope', async () => {
    const bus = await makeBus(2);
    const store = new MemoryStateStore();
    const deadLetters = new StateStoreDeadLetterLedger(store);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(1), behavior(2)]);
    await bus.produce('user.behaviors', [{ key: 'u1', value: '{"eventId":"bad"}' }]);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(4)]);
    const run = async (groupId: string, fromZero: boolean) => {
      const hooks = progressHooks();
      const sub = await startEventConsumer({
        bus,
        topic: 'user.behaviors',
        groupId,
        dlqScope: 'ranking-items',
        deadLetters,
        hooks,
        startOffsets: fromZero ? { 'user.behaviors': { 0: '0', 1: '0' } } : undefined,
        handle: async (e) => {
          if (e.eventId === 'e2') throw new PermanentEventError('unknown_item', 'no i2');
        },
      });
      await caughtUp(bus, hooks.done);
      await sub.stop();
    };
    await run('replica-a-pid1', false);
    await run('replica-a-pid1', true); // restart that replays everything
    await run('replica-a-pid2', false); // the same replica after a restart, with a new pid in its group name
    await run('replica-b', false); // another replica
    const dead = await dlq(bus);
    assert.deepEqual(dead.map((d) => d.headers[DLQ_HEADERS.code]).sort(), ['event_invalid', 'unknown_item']);
    assert.ok(dead.every((d) => d.headers[DLQ_HEADERS.consumerGroup] === 'ranking-items'));

    // The ledger lost (e.g. Redis without its AOF): restored from the DLQ topic, still no copies.
    const fresh = new StateStoreDeadLetterLedger(new MemoryStateStore());
    assert.equal(await restoreDeadLetterLedger(bus, fresh, 'user.behaviors', 'ranking-items'), 2);
    const hooks = progressHooks();
    const sub = await startEventConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'after-loss',
      dlqScope: 'ranking-items',
      deadLetters: fresh,
      hooks,
      handle: async (e) => {
        if (e.eventId === 'e2') throw new PermanentEventError('unknown_item', 'no i2');
      },
    });
    await caughtUp(bus, hooks.done);
    await sub.stop();
    assert.equal((await dlq(bus)).length, 2);
    await bus.close();
  });

  it('a record whose Kafka key is not the entity id goes to the DLQ as key_mismatch', async () => {
    const bus = await makeBus(1);
    const ev = behavior(1, 'alice');
    await bus.produce('user.behaviors', [
      { key: 'mallory', value: JSON.stringify(ev) },
      { key: null, value: JSON.stringify({ ...ev, eventId: 'e-nokey' }) },
    ]);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(2, 'alice')]);
    const applied: string[] = [];
    const hooks = progressHooks();
    const sub = await startEventBatchConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'g',
      hooks,
      handleBatch: async (events) => void applied.push(...events.map((e) => e.event.eventId)),
    });
    await caughtUp(bus, hooks.done);
    await sub.stop();
    assert.deepEqual(applied, ['e2']);
    const dead = await dlq(bus);
    assert.deepEqual(
      dead.map((d) => d.headers[DLQ_HEADERS.code]),
      ['key_mismatch', 'key_mismatch'],
    );
    assert.match(dead[0].headers[DLQ_HEADERS.reason], /"mallory".*"alice"/);
    await bus.close();
  });

  it('tracks lag, failures and progress per partition and reports a stuck partition', async () => {
    let now = 0;
    const bus = await makeBus(1);
    const tracker = new ConsumerTracker(() => now, 0);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(1), behavior(2), behavior(3)]);
    tracker.started('g', 'user.behaviors', bus);
    tracker.progressed('g', 'user.behaviors', 0, '0');
    tracker.failed('g', 'user.behaviors', 0, '1', 'redis down');
    await tracker.refresh();
    now = 5000;
    const [s] = tracker.statuses();
    assert.deepEqual([s.position, s.endOffset, s.lag, s.failures, s.lastError], ['1', '3', 2, 1, 'redis down']);
    assert.equal(tracker.stuck(10_000).length, 0);
    now = 20_000;
    assert.equal(tracker.stuck(10_000).length, 1);
    tracker.progressed('g', 'user.behaviors', 0, '2');
    assert.equal(tracker.stuck(10_000).length, 0);
    assert.equal(tracker.statuses()[0].lag, 0);
    await bus.close();
  });

  it('a generation marker tells a store that lost its state from one that did not', async () => {
    const store = new MemoryStateStore();
    const a = new StateGeneration(store, 'behavior');
    const first = await a.ensure();
    assert.equal(first.fresh, true);
    const b = new StateGeneration(store, 'behavior');
    assert.deepEqual(await b.ensure(), { generation: first.generation, fresh: false });
    await a.assertCurrent();
    await store.del(a.key); // the store lost everything
    await assert.rejects(a.assertCurrent(), (e: Error) => classifyError(e) === 'transient' && /lost/.test(e.message));
    const second = await a.ensure();
    assert.equal(second.fresh, true);
    assert.notEqual(second.generation, first.generation);
  });
});
