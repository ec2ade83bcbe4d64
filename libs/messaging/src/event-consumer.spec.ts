import assert from 'node:assert/strict';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import type { BusRecord } from '@recsys/infra/event-bus/event-bus.port';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { DLQ_HEADERS, EventPublisher, PermanentEventError, startEventBatchConsumer, startEventConsumer, StateStoreIdempotencyLedger } from './index';

const behavior = (i: number, user = 'u1') => ({
  eventId: `e${i}`,
  key: user,
  timestamp: 1000 + i,
  schemaVersion: 1 as const,
  userId: user,
  itemId: `i${i}`,
  type: 'click' as const,
});

async function makeBus(partitions: number) {
  const bus = new InProcessEventBus({ defaultPartitions: partitions });
  await bus.ensureTopics([{ topic: 'user.behaviors' }, { topic: 'user.behaviors.dlq' }]);
  return bus;
}

async function until(cond: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function collect(bus: InProcessEventBus, topic: string, group: string, out: BusRecord[]) {
  return bus.subscribe({ groupId: group, topics: [topic], fromBeginning: true, handler: async (r) => void out.push(r) });
}

describe('validated event consumer', () => {
  it('dead-letters an invalid message with its reason and original bytes, and applies the valid ones around it', async () => {
    const bus = await makeBus(1);
    const ledger = new StateStoreIdempotencyLedger(new MemoryStateStore());
    const publisher = new EventPublisher(bus);
    await publisher.publish('user.behaviors', [behavior(1)]);
    await bus.produce('user.behaviors', [
      { key: 'u1', value: '{"eventId":"bad","key":"u1"}' },
      { key: 'u1', value: 'not json at all' },
    ]);
    await publisher.publish('user.behaviors', [behavior(2)]);
    const applied: string[] = [];
    const sub = await startEventConsumer({ bus, topic: 'user.behaviors', groupId: 'g', ledger, handle: async (e) => void applied.push(e.eventId) });
    const dead: BusRecord[] = [];
    const dlqSub = await collect(bus, 'user.behaviors.dlq', 'dlq-reader', dead);
    await until(() => applied.length === 2 && dead.length === 2);
    assert.deepEqual(applied, ['e1', 'e2']);
    assert.equal(dead[0].value.toString(), '{"eventId":"bad","key":"u1"}');
    assert.equal(dead[0].headers[DLQ_HEADERS.code], 'event_invalid');
    assert.match(dead[0].headers[DLQ_HEADERS.reason], /userId/);
    assert.equal(dead[0].headers[DLQ_HEADERS.sourceTopic], 'user.behaviors');
    assert.equal(dead[1].value.toString(), 'not json at all');
    assert.match(dead[1].headers[DLQ_HEADERS.reason], /not JSON/);
    await sub.stop();
    await dlqSub.stop();
  });

  it('replaying the topic into the same consumer changes nothing (event-id ledger)', async () => {
    const bus = await makeBus(2);
    const ledger = new StateStoreIdempotencyLedger(new MemoryStateStore());
    await new EventPublisher(bus).publish(
      'user.behaviors',
      [1, 2, 3, 4].map((i) => behavior(i, `u${i}`)),
    );
    const applied: string[] = [];
    const handle = async (e: { eventId: string }) => void applied.push(e.eventId);
    // What each run got through: the last offset done per partition, and the duplicates skipped.
    const run = () => {
      const done = new Map<number, string>();
      const counts = { duplicates: 0 };
      const hooks = { onProgress: (_g: string, _t: string, partition: number, lastOffset: string) => void done.set(partition, lastOffset), onDuplicate: () => void counts.duplicates++ };
      return { done, counts, hooks };
    };
    const first = run();
    // The last offset of each non-empty partition: the end of the range a replay from 0 must reach.
    const ends = Object.entries(await bus.endOffsets('user.behaviors'))
      .filter(([, end]) => end !== '0')
      .map(([p, end]) => [Number(p), String(Number(end) - 1)] as const);
    assert.equal(
      ends.reduce((n, [, last]) => n + Number(last) + 1, 0),
      4,
    );
    const reached = (done: Map<number, string>) => ends.every(([p, last]) => done.get(p) === last);
    let sub = await startEventConsumer({ bus, topic: 'user.behaviors', groupId: 'g', ledger, handle, hooks: first.hooks });
    await until(() => reached(first.done));
    await sub.stop();
    assert.deepEqual([...applied].sort(), ['e1', 'e2', 'e3', 'e4']);
    const replay = run();
    sub = await startEventConsumer({ bus, topic: 'user.behaviors', groupId: 'g', ledger, handle, hooks: replay.hooks, startOffsets: { 'user.behaviors': { 0: '0', 1: '0' } } });
    // The replay provably reached the end of the replayed range on every partition ...
    await until(() => reached(replay.done));
    await sub.stop();
    // ... every replayed event was seen and skipped as a duplicate, and nothing was applied again.
    assert.equal(replay.counts.duplicates, 4);
    assert.deepEqual([...applied].sort(), ['e1', 'e2', 'e3', 'e4']);
  });

  it('redelivers on a transient error and dead-letters a permanent one without stopping', async () => {
    const bus = await makeBus(1);
    const ledger = new StateStoreIdempotencyLedger(new MemoryStateStore());
    await new EventPublisher(bus).publish('user.behaviors', [behavior(1), behavior(2), behavior(3)]);
    let failures = 0;
    const applied: string[] = [];
    const sub = await startEventConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'g',
      ledger,
      handle: async (e) => {
        if (e.eventId === 'e1' && failures++ < 2) throw new Error('redis briefly away');
        if (e.eventId === 'e2') throw new PermanentEventError('unknown_item', 'item i2 is not in the catalog');
        applied.push(e.eventId);
      },
    });
    const dead: BusRecord[] = [];
    const dlqSub = await collect(bus, 'user.behaviors.dlq', 'dlq-reader', dead);
    await until(() => applied.length === 2 && dead.length === 1);
    assert.deepEqual(applied, ['e1', 'e3']);
    assert.equal(failures, 3);
    assert.equal(dead[0].headers[DLQ_HEADERS.code], 'unknown_item');
    await sub.stop();
    await dlqSub.stop();
  });

  it('batch consumer: invalid and rejected events go to the DLQ, the rest of the batch applies', async () => {
    const bus = await makeBus(1);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(1), behavior(2)]);
    await bus.produce('user.behaviors', [{ key: 'u1', value: '[]' }]);
    await new EventPublisher(bus).publish('user.behaviors', [behavior(3)]);
    const applied: string[] = [];
    const sub = await startEventBatchConsumer({
      bus,
      topic: 'user.behaviors',
      groupId: 'g',
      handleBatch: async (events) => {
        const rejected = [];
        for (let i = 0; i < events.length; i++) {
          if (events[i].event.eventId === 'e2') rejected.push({ index: i, code: 'unknown_item', reason: 'no item i2' });
          else applied.push(events[i].event.eventId);
        }
        return { rejected };
      },
    });
    const dead: BusRecord[] = [];
    const dlqSub = await collect(bus, 'user.behaviors.dlq', 'dlq-reader', dead);
    await until(() => applied.length === 2 && dead.length === 2);
    assert.deepEqual(applied, ['e1', 'e3']);
    assert.deepEqual(dead.map((d) => d.headers[DLQ_HEADERS.code]).sort(), ['event_invalid', 'unknown_item']);
    await sub.stop();
    await dlqSub.stop();
  });
});
