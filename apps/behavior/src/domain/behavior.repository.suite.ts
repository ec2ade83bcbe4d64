/**
 * Behaviour of BehaviorRepository, run on every StateStore adapter (memory in the unit spec,
 * Redis in the integration spec).
 */
import assert from 'node:assert/strict';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { BucketTables, NORMALIZATIONS, SplitMix64, encodeTables, foldedSeq, readHeader, readUserTables, sdimTablesKey, sdimTailKey, withFoldedSeq } from '@recsys/sdim';
import { BehaviorRepository } from './behavior.repository';
import { BehaviorInput, BehaviorRepositoryConfig } from './behavior.types';
import { behaviorKeys } from './behavior-keys';

const D = 8;
const SDIM = { seed: 99, m: 12, tau: 3, d: D };
const HOUR = 3600_000;

export function embeddingOf(i: number): Float32Array {
  const r = new SplitMix64(1000 + i);
  return Float32Array.from({ length: D }, () => Math.fround(r.nextDouble() * 2 - 1));
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const r = new SplitMix64(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r.nextDouble() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function events(userId: string, n: number, opts: { items?: number; t0?: number; prefix?: string } = {}): BehaviorInput[] {
  const items = opts.items ?? 20;
  return Array.from({ length: n }, (_, i) => ({
    eventId: `${opts.prefix ?? 'e'}-${userId}-${i}`,
    userId,
    itemId: `i${(i * 7) % items}`,
    type: i % 3 === 0 ? 'click' : 'view',
    ts: (opts.t0 ?? 1_700_000_000_000) + i * HOUR,
  }));
}

/** A tables blob without its folded seq (which depends on how the updates were batched, not on the tables). */
export const unfolded = (b: Buffer | null) => (b ? withFoldedSeq(Buffer.from(b), 0) : b);

/** Tables built directly from the history the repository reports. */
export async function tablesFromHistory(r: BehaviorRepository, userId: string, emb: (itemId: string) => Float32Array): Promise<BucketTables> {
  const t = new BucketTables(r.hasher);
  for (const h of await r.getHistory(userId, 1e9)) t.add(emb(h.itemId));
  return t;
}

/** Each test gets a fresh store (handed over through `use`), emptied and closed after it. */
export function freshStoreEachTest(makeStore: () => Promise<StateStore>, use: (store: StateStore) => void): void {
  let current: StateStore;
  beforeEach(async () => {
    current = await makeStore();
    use(current);
  });
  afterEach(async () => {
    const keys = await current.scanKeys('*');
    if (keys.length) await current.del(...keys);
    await current.close();
  });
}

async function snapshot(store: StateStore): Promise<Map<string, string>> {
  const keys = (await store.scanKeys('*')).sort();
  const vals = await store.getMany(keys);
  return new Map(keys.map((k, i) => [k, vals[i]?.toString('base64') ?? '']));
}

export function behaviorRepositorySuite(name: string, makeStore: () => Promise<StateStore>): void {
  describe(`BehaviorRepository on ${name}`, () => {
    let store: StateStore;
    const repo = (c: Partial<BehaviorRepositoryConfig> = {}) => new BehaviorRepository(store, { sdim: SDIM, ...c });
    const seedItems = async (r: BehaviorRepository, n = 20) => {
      const res = await r.upsertItems(Array.from({ length: n }, (_, i) => ({ itemId: `i${i}`, embedding: embeddingOf(i), group: `g${i % 3}`, updatedAt: 1 })));
      assert.ok(res.every((x) => x.status === 'created' || x.status === 'unchanged'));
    };
    /** Tables built directly from the history the repository reports. */
    const expectedTables = tablesFromHistory;
    const embOfId = (id: string) => embeddingOf(Number(id.slice(1)));

    freshStoreEachTest(makeStore, (s) => (store = s));

    it('upserts items with versions: created, unchanged, updated, stale, rejected', async () => {
      const r = repo();
      assert.deepEqual(await r.upsertItem({ itemId: 'a', embedding: embeddingOf(1), updatedAt: 10 }), { itemId: 'a', status: 'created', version: 1 });
      assert.equal((await r.upsertItem({ itemId: 'a', embedding: embeddingOf(1), updatedAt: 11 })).status, 'unchanged');
      assert.deepEqual(await r.upsertItem({ itemId: 'a', embedding: embeddingOf(2), group: 'g', updatedAt: 12 }), { itemId: 'a', status: 'updated', version: 2 });
      assert.equal((await r.upsertItem({ itemId: 'a', embedding: embeddingOf(3), updatedAt: 5 })).status, 'stale');
      const bad = await r.upsertItems([
        { itemId: 'b', embedding: [1, 2, 3] },
        { itemId: '', embedding: embeddingOf(1) },
        { itemId: 'c', embedding: [NaN, 0, 0, 0, 0, 0, 0, 0] },
        { itemId: 'd', embedding: [2000, 0, 0, 0, 0, 0, 0, 0] },
      ]);
      assert.deepEqual(
        bad.map((x) => x.status),
        ['rejected', 'rejected', 'rejected', 'rejected'],
      );
      assert.match(bad[3].reason!, /\|x\| <= 1024/);
      assert.equal((await repo({ embeddingBound: 1 }).upsertItem({ itemId: 'e', embedding: [1.5, 0, 0, 0, 0, 0, 0, 0] })).status, 'rejected');
      assert.throws(() => repo({ historyCap: 600_000 }), /at most 524288/);
      assert.match(bad[0].reason!, /dimension 8/);
      const a = await r.getItem('a');
      assert.equal(a!.version, 2);
      assert.equal(a!.group, 'g');
      assert.deepEqual(a!.embedding, embeddingOf(2));
      assert.equal(await r.getItem('b'), null);
    });

    it('applies behaviours: history newest first, exact tables, recency-weighted embedding', async () => {
      const r = repo({ halfLifeMs: 10 * HOUR });
      await seedItems(r);
      const evs = events('u1', 30);
      const res = await r.applyBehaviors(evs);
      assert.equal(res.applied, 30);
      assert.deepEqual(res.unknownItems, []);
      const hist = await r.getHistory('u1', 5);
      assert.deepEqual(
        hist.map((h) => h.eventId),
        ['e-u1-29', 'e-u1-28', 'e-u1-27', 'e-u1-26', 'e-u1-25'],
      );
      assert.deepEqual(hist[0], { eventId: 'e-u1-29', itemId: evs[29].itemId, type: evs[29].type, ts: evs[29].ts });
      assert.ok((await r.getTables('u1'))!.equals(await expectedTables(r, 'u1', embOfId)));
      const emb = await r.getEmbedding('u1');
      const want = new Float64Array(D);
      let wsum = 0;
      for (const e of evs) {
        const w = Math.pow(2, (e.ts! - evs[29].ts!) / (10 * HOUR));
        embOfId(e.itemId).forEach((v, k) => (want[k] += w * v));
        wsum += w;
      }
      assert.equal(emb!.count, 30);
      assert.equal(emb!.newestTs, evs[29].ts);
      emb!.vector.forEach((v, k) => assert.ok(Math.abs(v - want[k] / wsum) < 1e-6, `emb[${k}]`));
      // The tables sit at the keys ranking reads (blob + delta tail, libs/sdim readUserTables), in the libs/sdim codec.
      assert.equal(behaviorKeys.tables('u1'), sdimTablesKey('u1'));
      assert.equal(behaviorKeys.tail('u1'), sdimTailKey('u1'));
      const read = (await readUserTables(store, 'u1'))!;
      assert.deepEqual(unfolded(read), encodeTables((await r.getTables('u1'))!, { dtype: 'i32' }));
      assert.equal(readHeader(read).dtype, 'i32');
      // A new user's updates wait in the tail like anyone's (30 deltas, seqs 1..30) until a fold
      // writes its first blob; readers apply them to empty tables.
      assert.equal(foldedSeq(read), 30);
      assert.deepEqual(
        Object.keys(await store.hgetall(sdimTailKey('u1')))
          .map(Number)
          .sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.equal(await store.get(sdimTablesKey('u1')), null);
    });

    it('is idempotent: applying the same events again changes nothing', async () => {
      const r = repo({ historyCap: 25, segmentSize: 4 });
      await seedItems(r);
      const evs = events('u1', 40);
      await r.applyBehaviors(evs.slice(0, 20));
      await r.applyBehaviors(evs.slice(20));
      const before = await snapshot(store);
      const again = await r.applyBehaviors(shuffle(evs, 3));
      assert.equal(again.applied, 0);
      // 25 still in the history are duplicates; the 15 evicted ones are older than a full history keeps.
      assert.equal(again.duplicates, 25);
      assert.equal(again.dropped, 15);
      assert.deepEqual(await snapshot(store), before);
      // Duplicates inside one batch count once.
      const fresh = events('u2', 3);
      const res = await r.applyBehaviors([...fresh, ...fresh]);
      assert.equal(res.applied, 3);
      assert.equal(res.duplicates, 3);
    });

    it('tolerates out-of-order events: any order and batching gives the same tables and history', async () => {
      const evs = events('u1', 120, { items: 20 });
      const r = repo({ historyCap: 50, segmentSize: 8 });
      await seedItems(r);
      await r.applyBehaviors(evs);
      const inOrder = { tables: await r.getTablesBlob('u1'), hist: await r.getHistory('u1', 1000), emb: await r.getEmbedding('u1') };
      await r.deleteUser('u1');
      assert.deepEqual(await r.getHistory('u1', 10), []);
      const mixed = shuffle(evs, 42);
      for (let i = 0; i < mixed.length; i += 17) await r.applyBehaviors(mixed.slice(i, i + 17));
      assert.deepEqual(unfolded(await r.getTablesBlob('u1')), unfolded(inOrder.tables));
      assert.deepEqual(await r.getHistory('u1', 1000), inOrder.hist);
      const emb = await r.getEmbedding('u1');
      emb!.vector.forEach((v, k) => assert.ok(Math.abs(v - inOrder.emb!.vector[k]) < 1e-5));
      // The history is the newest 50 by event time, newest first.
      assert.deepEqual(
        inOrder.hist.map((h) => h.eventId),
        evs
          .slice(70)
          .reverse()
          .map((e) => e.eventId),
      );
      assert.ok((await r.getTables('u1'))!.equals(await expectedTables(r, 'u1', embOfId)));
    });

    it('writes the same state with one MULTI per user as with one per batch', async () => {
      const evs = shuffle([...events('u1', 60), ...events('u2', 60), ...events('u3', 30)], 9);
      const state = async (r: BehaviorRepository) => {
        for (let i = 0; i < evs.length; i += 40) await r.applyBehaviors(evs.slice(i, i + 40));
        const out = [];
        for (const u of ['u1', 'u2', 'u3']) out.push(await r.getTablesBlob(u), await r.getHistory(u, 1000), await r.getEmbedding(u));
        for (const u of ['u1', 'u2', 'u3']) await r.deleteUser(u);
        return out;
      };
      const perUser = repo({ historyCap: 50, segmentSize: 8, writeMode: 'user' });
      await seedItems(perUser);
      const a = await state(perUser);
      const b = await state(repo({ historyCap: 50, segmentSize: 8, writeMode: 'batch' }));
      assert.deepEqual(a, b);
    });

    it('caps the history, evicting the oldest by event time, and keeps tables exact', async () => {
      const r = repo({ historyCap: 10, segmentSize: 3 });
      await seedItems(r);
      const evs = events('u1', 30);
      const res = await r.applyBehaviors(evs.slice(0, 12));
      assert.equal(res.applied, 10);
      assert.equal(res.dropped, 2);
      const res2 = await r.applyBehaviors(evs.slice(12));
      // 18 newer events for a full history of 10: the newest 10 stay, all 10 old ones go.
      assert.equal(res2.applied, 10);
      assert.equal(res2.evicted, 10);
      assert.equal(res2.dropped, 8);
      assert.equal(await r.historyLength('u1'), 10);
      // An old event arriving late, older than all kept ones, is dropped; a late one inside the window is kept.
      const late = await r.applyBehaviors([
        { ...evs[0], eventId: 'late-old' },
        { ...evs[25], eventId: 'late-new', ts: evs[25].ts! + 1 },
      ]);
      assert.equal(late.dropped, 1);
      assert.equal(late.applied, 1);
      assert.equal(late.evicted, 1);
      const hist = await r.getHistory('u1', 100);
      assert.equal(hist.length, 10);
      assert.ok(hist.some((h) => h.eventId === 'late-new'));
      assert.ok(!hist.some((h) => h.eventId === 'e-u1-20'));
      assert.ok((await r.getTables('u1'))!.equals(await expectedTables(r, 'u1', embOfId)));
      // 10 entries in segments of at most 3: the newest inline in the head, the others in their keys.
      const segs = (await store.scanKeys(`${behaviorKeys.head('u1')}:*`)).length + 1;
      assert.ok(segs >= 4 && segs <= 10, `segments: ${segs}`);
    });

    it('reports behaviours on unknown items without failing the batch; a retry after the upsert applies them', async () => {
      const r = repo();
      await seedItems(r, 5);
      const evs: BehaviorInput[] = [
        { eventId: 'a', userId: 'u1', itemId: 'i1', type: 'click', ts: 1000 },
        { eventId: 'b', userId: 'u1', itemId: 'nope', type: 'click', ts: 2000 },
        { eventId: 'c', userId: 'u2', itemId: 'i2', type: 'like', ts: 3000 },
        { eventId: 'd', userId: 'u1', itemId: 'i3', type: 'hide', ts: 4000 },
        { eventId: '', userId: 'u1', itemId: 'i3', type: 'click', ts: 4000 },
        { eventId: 'f', userId: 'u1', itemId: 'i3', type: 'click', ts: NaN },
        { eventId: 'g', userId: 'u3', itemId: 'i4', type: 'purchase', timestamp: 5000 },
      ];
      const res = await r.applyBehaviors(evs);
      assert.equal(res.applied, 3);
      assert.deepEqual(res.unknownItems, [{ index: 1, eventId: 'b', userId: 'u1', itemId: 'nope' }]);
      assert.equal(res.ignored, 1);
      assert.deepEqual(
        res.rejected.map((x) => x.index),
        [4, 5],
      );
      assert.equal((await r.getHistory('u3', 1))[0].ts, 5000);
      await r.upsertItem({ itemId: 'nope', embedding: embeddingOf(7) });
      const retry = await r.applyBehaviors([evs[1]]);
      assert.equal(retry.applied, 1);
      assert.deepEqual(
        (await r.getHistory('u1', 10)).map((h) => h.eventId),
        ['b', 'a'],
      );
    });

    it('an embedding update does not corrupt the tables: evictions remove the version that was added', async () => {
      const r = repo({ historyCap: 6, segmentSize: 2 });
      await seedItems(r, 3);
      const u = (i: number, item: string): BehaviorInput => ({ eventId: `x${i}`, userId: 'u1', itemId: item, type: 'click', ts: i });
      await r.applyBehaviors([u(1, 'i0'), u(2, 'i1'), u(3, 'i0'), u(4, 'i2')]);
      assert.equal((await r.upsertItem({ itemId: 'i0', embedding: embeddingOf(50), updatedAt: 2 })).version, 2);
      await r.applyBehaviors([u(5, 'i0'), u(6, 'i0'), u(7, 'i1')]);
      // x1 (i0 v1) was evicted; kept: x2 i1, x3 i0 v1, x4 i2, x5 i0 v2, x6 i0 v2, x7 i1.
      const want = new BucketTables(r.hasher);
      for (const x of [embeddingOf(1), embeddingOf(0), embeddingOf(2), embeddingOf(50), embeddingOf(50), embeddingOf(1)]) want.add(x);
      assert.ok((await r.getTables('u1'))!.equals(want));
      await r.applyBehaviors([u(8, 'i2'), u(9, 'i2'), u(10, 'i2')]);
      const want2 = new BucketTables(r.hasher);
      for (const x of [embeddingOf(50), embeddingOf(50), embeddingOf(1), embeddingOf(2), embeddingOf(2), embeddingOf(2)]) want2.add(x);
      assert.ok((await r.getTables('u1'))!.equals(want2));
    });

    it('stores the tables as int32 fixed point, or float64 once a bucket sum leaves the int32 range', async () => {
      const r = repo();
      await r.upsertItems([
        { itemId: 'small', embedding: embeddingOf(1) },
        { itemId: 'big', embedding: [900, -900, 5, 0, 0, 0, 0, 1] },
      ]);
      await r.applyBehaviors(Array.from({ length: 30 }, (_, i) => ({ eventId: `s${i}`, userId: 'u1', itemId: 'small', type: 'click', ts: i })));
      assert.equal(readHeader((await r.getTablesBlob('u1'))!).dtype, 'i32');
      // 40 x 900 = 36,000 >= 2^15 in one bucket.
      await r.applyBehaviors(Array.from({ length: 40 }, (_, i) => ({ eventId: `b${i}`, userId: 'u1', itemId: 'big', type: 'click', ts: 100 + i })));
      assert.equal(readHeader((await r.getTablesBlob('u1'))!).dtype, 'f64');
      assert.ok((await r.getTables('u1'))!.equals(await expectedTables(r, 'u1', (id) => (id === 'small' ? embeddingOf(1) : Float32Array.from([900, -900, 5, 0, 0, 0, 0, 1])))));
      const q = [embeddingOf(1), Float32Array.from([1, -1, 0, 0, 0, 0, 0, 0])];
      const want = (await r.getTables('u1'))!.interestBatch(q);
      (await r.interest('u1', q)).forEach((row, i) => assert.deepEqual(row, want.subarray(i * D, (i + 1) * D)));
    });

    it('serialises overlapping calls that share a user, so no update is lost', async () => {
      const r = repo({ segmentSize: 4 });
      await seedItems(r);
      const evs = shuffle([...events('u1', 60), ...events('u2', 20)], 5);
      const res = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => r.applyBehaviors(evs.slice(k * 14, (k + 1) * 14))));
      assert.equal(
        res.reduce((n, x) => n + x.applied, 0),
        80,
      );
      assert.equal(await r.historyLength('u1'), 60);
      assert.equal(await r.historyLength('u2'), 20);
      for (const u of ['u1', 'u2']) assert.ok((await r.getTables(u))!.equals(await expectedTables(r, u, embOfId)));
    });

    it('never writes from stale cached tables when another writer changed the user', async () => {
      const a = repo();
      const b = repo();
      await seedItems(a);
      const evs = events('u1', 30);
      await a.applyBehaviors(evs.slice(0, 10));
      await b.applyBehaviors(evs.slice(10, 20));
      await a.applyBehaviors(evs.slice(20));
      assert.equal(await a.historyLength('u1'), 30);
      assert.ok((await a.getTables('u1'))!.equals(await expectedTables(a, 'u1', embOfId)));
    });

    it('a cached item lags an embedding change by at most itemCacheMs, and the tables stay exact', async () => {
      const cachedRepo = repo();
      const fresh = repo({ itemCacheMs: 0 });
      await seedItems(cachedRepo, 3);
      await cachedRepo.applyBehaviors([{ eventId: 'a', userId: 'u1', itemId: 'i0', type: 'click', ts: 1 }]);
      await fresh.upsertItem({ itemId: 'i0', embedding: embeddingOf(60), updatedAt: 5 });
      // Within the cache window the old version (1) is used and recorded ...
      await cachedRepo.applyBehaviors([{ eventId: 'b', userId: 'u1', itemId: 'i0', type: 'click', ts: 2 }]);
      // ... a reader without cache sees version 2.
      await fresh.applyBehaviors([{ eventId: 'c', userId: 'u1', itemId: 'i0', type: 'click', ts: 3 }]);
      const want = new BucketTables(fresh.hasher);
      for (const x of [embeddingOf(0), embeddingOf(0), embeddingOf(60)]) want.add(x);
      assert.ok((await fresh.getTables('u1'))!.equals(want));
      // Rebuilding from the recorded versions gives the same tables.
      await fresh.rebuildUser('u1');
      assert.ok((await fresh.getTables('u1'))!.equals(want));
    });

    it('keeps deleted items as tombstones: behaviours on them still count', async () => {
      const r = repo();
      await seedItems(r, 3);
      assert.equal(await r.deleteItem('i1'), true);
      assert.equal(await r.deleteItem('missing'), false);
      assert.equal((await r.getItem('i1'))!.deleted, true);
      const res = await r.applyBehaviors([{ eventId: 'a', userId: 'u1', itemId: 'i1', type: 'click', ts: 1 }]);
      assert.equal(res.applied, 1);
      assert.equal((await r.upsertItem({ itemId: 'i1', embedding: embeddingOf(1), updatedAt: Date.now() + 1000 })).status, 'updated');
      assert.equal((await r.getItem('i1'))!.deleted, false);
    });

    it('answers interest from the stored tables, and zeros for an unknown user', async () => {
      const r = repo();
      await seedItems(r);
      await r.applyBehaviors(events('u1', 40));
      const qs = [embeddingOf(3), embeddingOf(11), embeddingOf(99)];
      const t = (await r.getTables('u1'))!;
      for (const normalize of NORMALIZATIONS) {
        const got = await r.interest('u1', qs, { normalize });
        const want = t.interestBatch(qs, { normalize });
        got.forEach((row, i) => assert.deepEqual(row, want.subarray(i * D, (i + 1) * D)));
      }
      const none = await r.interest('nobody', qs);
      assert.ok(none.every((row) => row.every((v) => v === 0)));
      await assert.rejects(r.interest('u1', [[1, 2]]), RangeError);
      assert.equal(await r.getEmbedding('nobody'), null);
    });

    it('puts every key of a user under its {u:<id>} hash tag', async () => {
      const r = repo({ segmentSize: 4 });
      await seedItems(r);
      await r.applyBehaviors(events('user-7', 20));
      const keys = (await store.scanKeys('*')).filter((k) => !k.startsWith('item'));
      assert.ok(keys.length >= 5);
      for (const k of keys) assert.ok(k.startsWith('{u:user-7}:'), k);
    });

    it('rebuilds a user: same state as the incremental path; repairs a lost segment', async () => {
      const r = repo({ historyCap: 30, segmentSize: 5 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 45));
      const tables = await r.getTablesBlob('u1');
      const hist = await r.getHistory('u1', 100);
      await r.rebuildUser('u1');
      assert.deepEqual(await r.getTablesBlob('u1'), tables);
      assert.deepEqual(await r.getHistory('u1', 100), hist);
      // Lose the oldest segment, then keep ingesting: the tables follow what is left.
      const segKeys = (await store.scanKeys(`${behaviorKeys.head('u1')}:*`)).sort((a, b) => Number(a.split(':').pop()) - Number(b.split(':').pop()));
      await store.del(segKeys[0]);
      const res = await r.applyBehaviors(events('u1', 3, { prefix: 'n', t0: 1_800_000_000_000 }));
      assert.deepEqual(res.rebuilt, ['u1']);
      assert.ok((await r.getTables('u1'))!.equals(await expectedTables(r, 'u1', embOfId)));
      assert.equal((await r.getHistory('u1', 100)).length, await r.historyLength('u1'));
    });

    it('deletes a user entirely', async () => {
      const r = repo({ segmentSize: 4 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 20));
      await r.deleteUser('u1');
      assert.deepEqual(
        (await store.scanKeys('*')).filter((k) => k.includes('{u:u1}')),
        [],
      );
    });
  });
}
