/**
 * The EventBus contract: the invariants of event-bus.port.ts, checked against every adapter
 * (embedded log in event-bus.inprocess.adapter.spec.ts, real Kafka in
 * event-bus.kafka.adapter.int-spec.ts). Every test uses its own topic and group names and its own
 * bus instance, so the tests run concurrently (Kafka group joins take seconds each).
 */
import assert from 'node:assert/strict';
import { uniqueName } from '@recsys/testing/infra';
import { Collector, duplicates, range, sleep, tp, waitUntil } from './event-bus.contract.support';
import { partitionForKey } from './event-bus.partitioner';
import type { BusRecord, EventBus, StartOffsets, Subscription } from './event-bus.port';

const T = 45_000; // per-test limit: generous for Kafka rebalances on a loaded machine
const WAIT = 30_000;

/** Keys whose partition among 4 is known from Kafka's Java murmur2 (Utils.murmur2 test vectors). */
const KNOWN_PARTITIONS_OF_4: Record<string, number> = { '21': 0, alice: 1, foobar: 2, abc: 3 };

export function eventBusContract(name: string, makeBus: () => Promise<EventBus>): void {
  describe(`EventBus contract: ${name}`, () => {
    /** Runs a test body with a fresh bus and a fresh 4-partition topic; always closes the bus. */
    async function withBus(fn: (bus: EventBus, topic: string) => Promise<void>, partitions = 4): Promise<void> {
      const bus = await makeBus();
      try {
        const topic = uniqueName('bus-contract');
        await bus.ensureTopics([{ topic, partitions }]);
        await fn(bus, topic);
      } finally {
        await bus.close();
      }
    }

    it(
      'keeps order per key, puts a key on one partition, the same one as Kafka',
      () =>
        withBus(async (bus, topic) => {
          const keys = [...Object.keys(KNOWN_PARTITIONS_OF_4), 'user-1', 'item-42', 'carol'];
          // Interleaved keys over several produce calls.
          for (let round = 0; round < 4; round++) {
            await bus.produce(
              topic,
              range(10).flatMap((i) => keys.map((k) => ({ key: k, value: `${k}|${round * 10 + Number(i)}` }))),
            );
          }
          const c = new Collector();
          const sub = await bus.subscribe({ groupId: uniqueName('g'), topics: [topic], fromBeginning: true, handler: c.handler() });
          await c.waitFor(40 * keys.length, WAIT);
          await sub.stop();
          assert.equal(c.records.length, 40 * keys.length);
          for (const k of keys) {
            const mine = c.records.filter((r) => r.key === k);
            assert.deepEqual(
              mine.map((r) => Number(r.value.toString().split('|')[1])),
              range(40).map(Number),
              `order of key ${k}`,
            );
            assert.deepEqual([...new Set(mine.map((r) => r.partition))], [partitionForKey(k, 4)], `partition of key ${k}`);
            const offsets = mine.map((r) => BigInt(r.offset));
            assert.ok(
              offsets.every((o, i) => i === 0 || o > offsets[i - 1]),
              `offsets of key ${k} increase`,
            );
            if (k in KNOWN_PARTITIONS_OF_4) assert.equal(mine[0].partition, KNOWN_PARTITIONS_OF_4[k], `murmur2 partition of ${k}`);
          }
        }),
      T,
    );

    it(
      'redelivers after a handler error and commits nothing past the failing record',
      () =>
        withBus(async (bus, topic) => {
          const groupId = uniqueName('g');
          await bus.produce(
            topic,
            range(10).map((i) => ({ key: 'one-key', value: String(i) })),
          );
          // Phase 1: record 3 fails twice, then succeeds: redelivered, nothing after it skipped.
          let failuresOf3 = 0;
          const c1 = new Collector();
          const sub1 = await bus.subscribe({
            groupId,
            topics: [topic],
            fromBeginning: true,
            handler: c1.handler((r) => {
              if (r.value.toString() === '3' && failuresOf3 < 2) {
                failuresOf3++;
                throw new Error('transient failure (expected by the test)');
              }
            }),
          });
          await c1.waitFor(10, WAIT);
          assert.equal(failuresOf3, 2);
          assert.deepEqual(c1.values(), range(10));
          await sub1.stop();
          // Phase 2: record 12 keeps failing; stop() must not wait out the backoff, and must not commit past 11.
          await bus.produce(
            topic,
            range(5).map((i) => ({ key: 'one-key', value: String(10 + Number(i)) })),
          );
          let attemptsOf12 = 0;
          const c2 = new Collector();
          const sub2 = await bus.subscribe({
            groupId,
            topics: [topic],
            fromBeginning: true,
            handler: c2.handler((r) => {
              if (r.value.toString() === '12') {
                attemptsOf12++;
                throw new Error('permanent failure (expected by the test)');
              }
            }),
          });
          await waitUntil(() => attemptsOf12 >= 2, WAIT, 'two attempts of record 12');
          const t0 = Date.now();
          await sub2.stop();
          assert.ok(Date.now() - t0 < 5_000, `stop() during redelivery backoff took ${Date.now() - t0} ms`);
          assert.deepEqual(c2.values(), ['10', '11'], 'continues after the committed offset, stops at the failing record');
          // Phase 3: a new subscriber of the group starts exactly at the failing record.
          const c3 = new Collector();
          const sub3 = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: c3.handler() });
          await c3.waitFor(3, WAIT);
          await sub3.stop();
          assert.deepEqual(c3.values(), ['12', '13', '14']);
        }),
      T,
    );

    it(
      'commits after handling: a new subscriber of the group continues where a stopped one left off',
      () =>
        withBus(async (bus, topic) => {
          const groupId = uniqueName('g');
          const all = range(120, 'v');
          await bus.produce(
            topic,
            all.map((v, i) => ({ key: `k${i % 16}`, value: v })),
          );
          const c1 = new Collector();
          const sub1 = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: c1.handler(() => sleep(10)) });
          await c1.waitFor(30, WAIT);
          await sub1.stop();
          const seenBy1 = c1.values();
          assert.ok(seenBy1.length < all.length, 'stopped mid-stream');
          const c2 = new Collector();
          const sub2 = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: c2.handler() });
          await waitUntil(() => new Set([...seenBy1, ...c2.values()]).size === all.length, WAIT, 'the rest of the stream');
          await sleep(200); // a late duplicate would show up here
          await sub2.stop();
          const both = [...seenBy1, ...c2.values()];
          assert.deepEqual(new Set(both), new Set(all), 'no loss');
          const dups = duplicates(both);
          assert.ok(dups.length <= 1, `at most the in-flight record is redelivered, got ${dups.length}: ${dups.join(',')}`);
        }),
      T,
    );

    it(
      'gives every group every record',
      () =>
        withBus(async (bus, topic) => {
          const all = range(60, 'e');
          await bus.produce(
            topic,
            all.map((v, i) => ({ key: `k${i}`, value: v })),
          );
          const [a, b] = [new Collector(), new Collector()];
          const subs = await Promise.all([a, b].map((c) => bus.subscribe({ groupId: uniqueName('g'), topics: [topic], fromBeginning: true, handler: c.handler() })));
          await Promise.all([a.waitFor(60, WAIT), b.waitFor(60, WAIT)]);
          await sleep(200);
          await Promise.all(subs.map((s) => s.stop()));
          for (const c of [a, b]) assert.deepEqual([...c.values()].sort(), [...all].sort());
        }),
      T,
    );

    it(
      'splits the partitions of a group between its subscribers, each record handled once',
      () =>
        withBus(async (bus, topic) => {
          const groupId = uniqueName('g');
          const [a, b] = [new Collector(), new Collector()];
          const subA = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: a.handler() });
          const subB = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: b.handler() });
          const all = range(200, 's');
          await bus.produce(
            topic,
            all.map((v, i) => ({ key: `key-${i}`, value: v })),
          );
          await waitUntil(() => a.records.length + b.records.length >= all.length, WAIT, 'all records across the group');
          await sleep(300);
          await Promise.all([subA.stop(), subB.stop()]);
          const both = [...a.values(), ...b.values()];
          assert.deepEqual(duplicates(both), [], 'no record handled twice');
          assert.deepEqual(new Set(both), new Set(all));
          const pa = new Set(a.records.map((r) => r.partition));
          const pb = new Set(b.records.map((r) => r.partition));
          assert.ok(pa.size > 0 && pb.size > 0, `both subscribers got partitions (${[...pa]} / ${[...pb]})`);
          assert.deepEqual(
            [...pa].filter((p) => pb.has(p)),
            [],
            'no partition shared',
          );
          assert.equal(pa.size + pb.size, 4);
        }),
      T,
    );

    it(
      'applies fromBeginning only without a committed offset; startOffsets override both',
      () =>
        withBus(async (bus, topic) => {
          const groupId = uniqueName('g');
          const first = range(20, 'a');
          await bus.produce(
            topic,
            first.map((v, i) => ({ key: `k${i}`, value: v })),
          );
          const c1 = new Collector();
          const sub1 = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: c1.handler() });
          await c1.waitFor(20, WAIT);
          await sub1.stop();
          const snapshot: StartOffsets = { [topic]: toStart(await bus.endOffsets(topic)) };
          const later = range(5, 'b');
          await bus.produce(
            topic,
            later.map((v, i) => ({ key: `k${i * 3}`, value: v })),
          );

          const [again, fromSnap] = [new Collector(), new Collector()];
          const subs = await Promise.all([
            // the group's committed offsets win over fromBeginning
            bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: again.handler() }),
            // startOffsets win over fromBeginning: a new group replays from a snapshot's offsets
            bus.subscribe({ groupId: uniqueName('g'), topics: [topic], fromBeginning: true, startOffsets: snapshot, handler: fromSnap.handler() }),
          ]);
          await Promise.all([again.waitFor(5, WAIT), fromSnap.waitFor(5, WAIT)]);
          await sleep(200);
          await Promise.all(subs.map((s) => s.stop()));
          assert.deepEqual(again.values().sort(), [...later].sort());
          assert.deepEqual(fromSnap.values().sort(), [...later].sort());

          // startOffsets win over the group's committed offsets: replay everything.
          const replay = new Collector();
          const zero: StartOffsets = { [topic]: { 0: '0', 1: '0', 2: '0', 3: '0' } };
          const subReplay = await bus.subscribe({ groupId, topics: [topic], startOffsets: zero, handler: replay.handler() });
          await replay.waitFor(25, WAIT);
          await sleep(200);
          await subReplay.stop();
          assert.deepEqual(replay.values().sort(), [...first, ...later].sort());

          // The replay was committed as usual: the group's next subscriber starts after it.
          const resumed = new Collector();
          await bus.produce(topic, [{ key: 'k0', value: 'c0' }]);
          const sub = await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: resumed.handler() });
          await resumed.waitFor(1, WAIT);
          await sleep(200);
          await sub.stop();
          assert.deepEqual(resumed.values(), ['c0']);
        }),
      T,
    );

    it(
      'starts a new group without fromBeginning at the end of the log',
      () =>
        withBus(async (bus, topic) => {
          await bus.produce(
            topic,
            range(10, 'old').map((v, i) => ({ key: `k${i}`, value: v })),
          );
          const c = new Collector();
          const sub = await bus.subscribe({ groupId: uniqueName('g'), topics: [topic], handler: c.handler() });
          // The group's start position is resolved some time after subscribe on Kafka: keep producing
          // until something arrives, then check that none of the older records did.
          for (let i = 0; c.records.length === 0; i++) {
            if (i > 150) throw new Error('no new record delivered');
            await bus.produce(topic, [{ key: `n${i}`, value: `new${i}` }]);
            await sleep(100);
          }
          await sub.stop();
          assert.deepEqual(
            c.values().filter((v) => v.startsWith('old')),
            [],
          );
        }),
      T,
    );

    it(
      'reports end offsets per partition; ensureTopics is idempotent',
      () =>
        withBus(async (bus, topic) => {
          assert.deepEqual(await bus.endOffsets(topic), { 0: '0', 1: '0', 2: '0' });
          await bus.ensureTopics([{ topic, partitions: 3 }]);
          const keys = range(50, 'u');
          await bus.produce(
            topic,
            keys.map((k) => ({ key: k, value: 'x' })),
          );
          await bus.produce(topic, [{ key: 'u1', value: 'y' }]);
          const expected: Record<number, string> = { 0: '0', 1: '0', 2: '0' };
          for (const k of [...keys, 'u1']) {
            const p = partitionForKey(k, 3);
            expected[p] = String(Number(expected[p]) + 1);
          }
          assert.deepEqual(await bus.endOffsets(topic), expected);
          await bus.ping();
        }, 3),
      T,
    );

    it(
      'round-trips binary values, headers, null and unicode keys',
      () =>
        withBus(async (bus, topic) => {
          const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
          const before = Date.now();
          await bus.produce(topic, [
            { key: 'bin', value: bytes, headers: { 'content-type': 'application/octet-stream', 'x-ünï': 'çødé ✓' } },
            { key: null, value: 'no key' },
            { key: 'ключ-🔑', value: '' },
          ]);
          const c = new Collector();
          const sub = await bus.subscribe({ groupId: uniqueName('g'), topics: [topic], fromBeginning: true, handler: c.handler() });
          await c.waitFor(3, WAIT);
          await sub.stop();
          const byKey = new Map<string | null, BusRecord>(c.records.map((r) => [r.key, r]));
          const bin = byKey.get('bin')!;
          assert.ok(Buffer.isBuffer(bin.value) && bin.value.equals(bytes), 'binary value intact');
          assert.deepEqual(bin.headers, { 'content-type': 'application/octet-stream', 'x-ünï': 'çødé ✓' });
          assert.equal(bin.topic, topic);
          assert.equal(bin.partition, partitionForKey('bin', 4));
          assert.match(bin.offset, /^\d+$/);
          assert.ok(bin.timestamp >= before - 5_000 && bin.timestamp <= Date.now() + 5_000, 'timestamp is the produce time');
          assert.equal(byKey.get(null)!.value.toString(), 'no key');
          assert.deepEqual(byKey.get(null)!.headers, {});
          assert.equal(byKey.get('ключ-🔑')!.value.length, 0);
          assert.equal(byKey.get('ключ-🔑')!.partition, partitionForKey('ключ-🔑', 4));
        }),
      T,
    );

    it(
      'batch handler: one partition per call, in order, at most maxBatchSize, whole batch redelivered on error',
      () =>
        withBus(async (bus, topic) => {
          await bus.produce(
            topic,
            range(50).map((i) => ({ key: 'batch-key', value: String(i) })),
          );
          const calls: BusRecord[][] = [];
          let failed = false;
          const done: string[] = [];
          const sub: Subscription = await bus.subscribe({
            groupId: uniqueName('g'),
            topics: [topic],
            fromBeginning: true,
            maxBatchSize: 8,
            batchHandler: async (records) => {
              calls.push(records);
              if (!failed && records.some((r) => r.value.toString() === '20')) {
                failed = true;
                throw new Error('batch failure (expected by the test)');
              }
              done.push(...records.map((r) => r.value.toString()));
            },
          });
          await waitUntil(
            () => done.length >= 50,
            WAIT,
            () => `50 handled (have ${done.length})`,
          );
          await sub.stop();
          assert.deepEqual(done, range(50), 'every record once, in order');
          assert.ok(
            calls.every((b) => b.length >= 1 && b.length <= 8),
            'batch sizes within 1..8',
          );
          assert.ok(
            calls.every((b) => new Set(b.map((r) => r.partition)).size === 1),
            'one partition per batch',
          );
          const failedAt = calls.findIndex((b) => b.some((r) => r.value.toString() === '20'));
          assert.equal(calls[failedAt + 1][0].offset, calls[failedAt][0].offset, 'the failed batch is redelivered from its first record');
          for (const b of calls) {
            assert.ok(
              b.every((r, i) => i === 0 || BigInt(r.offset) === BigInt(b[i - 1].offset) + 1n),
              `consecutive offsets in one call (${b.map(tp)})`,
            );
          }
        }),
      T,
    );

    it(
      'batch handler with batchLingerMs: records appended within the linger come in one batch',
      () =>
        withBus(async (bus, topic) => {
          const calls: BusRecord[][] = [];
          const sub: Subscription = await bus.subscribe({
            groupId: uniqueName('g'),
            topics: [topic],
            fromBeginning: true,
            maxBatchSize: 100,
            batchLingerMs: 3_000,
            batchHandler: async (records) => {
              calls.push(records);
            },
          });
          await bus.produce(
            topic,
            range(3).map((v) => ({ key: 'linger', value: v })),
          );
          await sleep(50);
          await bus.produce(
            topic,
            range(6)
              .slice(3)
              .map((v) => ({ key: 'linger', value: v })),
          );
          await waitUntil(
            () => calls.flat().length >= 6,
            WAIT,
            () => `6 handled (have ${calls.flat().length})`,
          );
          await sub.stop();
          assert.deepEqual(
            calls[0].map((r) => r.value.toString()),
            range(6),
            'both produces in the first batch',
          );
        }),
      T,
    );
  });
}

/** endOffsets as StartOffsets: "everything produced so far is applied". */
function toStart(ends: Record<number, string>): Record<number, string> {
  return Object.fromEntries(Object.entries(ends).map(([p, o]) => [Number(p), o]));
}
