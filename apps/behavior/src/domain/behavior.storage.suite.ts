/**
 * Storage layout of BehaviorRepository (format-2 history heads, lazy eviction, the tables cache,
 * reading session-1 state), run on every StateStore adapter like behavior.repository.suite.ts.
 */
import assert from 'node:assert/strict';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { decodeDelta, decodeTables, foldedSeq, withFoldedSeq } from '@recsys/sdim';
import { BehaviorRepository } from './behavior.repository';
import { embeddingOf, freshStoreEachTest, tablesFromHistory, unfolded } from './behavior.repository.suite';
import { BehaviorInput, BehaviorRepositoryConfig } from './behavior.types';
import { behaviorKeys } from './behavior-keys';
import { Head, decodeHead } from './history';

const D = 8;
const SDIM = { seed: 99, m: 12, tau: 3, d: D };

function events(userId: string, from: number, to: number): BehaviorInput[] {
  return Array.from({ length: to - from }, (_, i) => ({ eventId: `e${from + i}`, userId, itemId: `i${((from + i) * 7) % 20}`, type: 'click', ts: 1_000_000 + (from + i) * 1000 }));
}

/** A head in the session-1 layout (format 1: no skip, no inline segment, a stamp at 40). */
function encodeHeadV1(h: Head): Buffer {
  const d = h.sum.length;
  const ids = h.segments.map((s) => [Buffer.from(s.firstEventId), Buffer.from(s.lastEventId)]);
  const buf = Buffer.alloc(48 + 8 * d + ids.reduce((n, [a, b]) => n + 28 + a.length + b.length, 0));
  buf.writeUInt8(1, 0);
  buf.writeUInt16LE(d, 2);
  buf.writeUInt32LE(h.total, 4);
  buf.writeUInt32LE(h.nextSegId, 8);
  buf.writeUInt32LE(h.segments.length, 12);
  buf.writeDoubleLE(h.anchorTs, 16);
  buf.writeDoubleLE(h.weight, 24);
  buf.writeDoubleLE(h.newestTs, 32);
  buf.writeUInt32LE(12345, 40);
  let o = 48;
  for (let k = 0; k < d; k++, o += 8) buf.writeDoubleLE(h.sum[k], o);
  h.segments.forEach((s, i) => {
    const [a, b] = ids[i];
    buf.writeUInt32LE(s.id, o);
    buf.writeUInt32LE(s.count, o + 4);
    buf.writeDoubleLE(s.firstTs, o + 8);
    buf.writeDoubleLE(s.lastTs, o + 16);
    buf.writeUInt16LE(a.length, o + 24);
    buf.writeUInt16LE(b.length, o + 26);
    a.copy(buf, o + 28);
    b.copy(buf, o + 28 + a.length);
    o += 28 + a.length + b.length;
  });
  return buf;
}

export function behaviorStorageSuite(name: string, makeStore: () => Promise<StateStore>): void {
  describe(`BehaviorRepository storage on ${name}`, () => {
    let store: StateStore;
    const repo = (c: Partial<BehaviorRepositoryConfig> = {}) => new BehaviorRepository(store, { sdim: SDIM, ...c });
    const seedItems = (r: BehaviorRepository) => r.upsertItems(Array.from({ length: 20 }, (_, i) => ({ itemId: `i${i}`, embedding: embeddingOf(i), updatedAt: 1 })));
    const segmentKeys = async (u: string) => (await store.scanKeys(`${behaviorKeys.head(u)}:*`)).sort();
    const head = async (u: string) => decodeHead((await store.get(behaviorKeys.head(u)))!);
    const expected = (r: BehaviorRepository, u: string) => tablesFromHistory(r, u, (id) => embeddingOf(Number(id.slice(1))));

    freshStoreEachTest(makeStore, (s) => (store = s));

    it('keeps the newest segment inline in the head: in-order behaviours write no segment key until it is full', async () => {
      const r = repo({ segmentSize: 8 });
      await seedItems(r);
      for (let i = 0; i < 8; i++) await r.applyBehaviors(events('u1', i, i + 1));
      assert.deepEqual(await segmentKeys('u1'), []);
      const h = await head('u1');
      assert.equal(h.segments.length, 1);
      assert.equal(h.segments[0].count, 8);
      assert.ok(h.open && h.open.length > 8);
      // The ninth opens a new inline segment; the full one moves to its key.
      await r.applyBehaviors(events('u1', 8, 9));
      assert.deepEqual(await segmentKeys('u1'), [behaviorKeys.segment('u1', h.segments[0].id)]);
      assert.deepEqual(
        (await r.getHistory('u1', 100)).map((x) => x.eventId),
        events('u1', 0, 9)
          .map((e) => e.eventId)
          .reverse(),
      );
    });

    it('evicts lazily: the oldest segment is not rewritten, its dead entries are skipped, its key goes once all are dead', async () => {
      const r = repo({ historyCap: 12, segmentSize: 4 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 0, 12));
      const keys = await segmentKeys('u1');
      assert.equal(keys.length, 2);
      const oldest = await store.get(keys[0]);
      await r.applyBehaviors(events('u1', 12, 13));
      // One entry evicted from the oldest segment: same bytes, skip 1 in the head.
      assert.deepEqual(await store.get(keys[0]), oldest);
      assert.equal((await head('u1')).segments[0].skip, 1);
      assert.deepEqual(
        (await r.getHistory('u1', 100)).map((x) => x.eventId),
        events('u1', 1, 13)
          .map((e) => e.eventId)
          .reverse(),
      );
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
      // A replay of the evicted event is dropped, of a kept one a duplicate.
      const again = await r.applyBehaviors([...events('u1', 0, 1), ...events('u1', 1, 2)]);
      assert.deepEqual([again.dropped, again.duplicates, again.applied], [1, 1, 0]);
      await r.applyBehaviors(events('u1', 13, 16));
      assert.ok(!(await segmentKeys('u1')).includes(keys[0]));
      assert.equal(await r.historyLength('u1'), 12);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
      // A late event into a segment with dead entries rewrites it with its live entries only.
      const late = await r.applyBehaviors([{ eventId: 'late', userId: 'u1', itemId: 'i3', type: 'click', ts: 1_000_000 + 5500 }]);
      assert.equal(late.applied, 1);
      const hist = (await r.getHistory('u1', 100)).map((x) => x.eventId);
      assert.equal(hist.length, 12);
      assert.equal(hist[hist.length - 2], 'late');
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
    });

    it('reads state written by session 1 (format-1 head, newest segment in its key) and moves it to the new layout', async () => {
      const evs = events('u1', 0, 30);
      const r = repo({ historyCap: 20, segmentSize: 4 });
      await seedItems(r);
      await r.applyBehaviors(evs.slice(0, 18));
      // Store the user as session 1 did: every segment in its key, a format-1 head.
      const h = await head('u1');
      const newest = h.segments[h.segments.length - 1];
      assert.ok(h.segments.every((s) => s.skip === 0));
      await store.set(behaviorKeys.segment('u1', newest.id), h.open!);
      await store.set(behaviorKeys.head('u1'), encodeHeadV1(h));
      // Session 1 kept the tables in the blob (bytes 20..23 zero) and had no tail.
      await store.set(behaviorKeys.tables('u1'), withFoldedSeq(Buffer.from((await r.getTablesBlob('u1'))!), 0));
      await store.del(behaviorKeys.tail('u1'));
      const fresh = repo({ historyCap: 20, segmentSize: 4 });
      assert.deepEqual(
        (await fresh.getHistory('u1', 100)).map((x) => x.eventId),
        evs
          .slice(0, 18)
          .map((e) => e.eventId)
          .reverse(),
      );
      // One more behaviour: the newest segment moves inline (its key goes).
      await fresh.applyBehaviors(evs.slice(18, 19));
      assert.deepEqual(
        (await head('u1')).segments.map((s) => s.id),
        h.segments.map((s) => s.id),
      );
      assert.ok((await head('u1')).open);
      assert.ok(!(await segmentKeys('u1')).includes(behaviorKeys.segment('u1', newest.id)));
      // More, with evictions: the state stays exact.
      await fresh.applyBehaviors(evs.slice(19));
      assert.deepEqual(
        (await fresh.getHistory('u1', 100)).map((x) => x.eventId),
        evs
          .slice(10)
          .map((e) => e.eventId)
          .reverse(),
      );
      assert.ok((await fresh.getTables('u1'))!.equals(await expected(fresh, 'u1')));
      // The same events on a user that never left the new layout give the same tables and embedding.
      await r.applyBehaviors(evs.map((e) => ({ ...e, userId: 'u2' })));
      assert.deepEqual(unfolded(await r.getTablesBlob('u2')), unfolded(await fresh.getTablesBlob('u1')));
      const [e1, e2] = [await fresh.getEmbedding('u1'), await r.getEmbedding('u2')];
      e1!.vector.forEach((v, k) => assert.ok(Math.abs(v - e2!.vector[k]) < 1e-6));
    });

    it('appends one delta per table update to the tail (evictions as -1) and folds past tailFoldAt', async () => {
      const r = repo({ historyCap: 6, segmentSize: 4, tailFoldAt: 8 });
      await seedItems(r);
      const blob = () => store.get(behaviorKeys.tables('u1'));
      const tail = () => store.hgetall(behaviorKeys.tail('u1'));
      const seqs = async () =>
        Object.keys(await tail())
          .map(Number)
          .sort((a, b) => a - b);
      const seqsOfHead = async () => [(await head('u1')).tailSeq, (await head('u1')).foldedSeq];
      // A new user's updates go to the tail too: seqs 1..5, no blob yet.
      await r.applyBehaviors(events('u1', 0, 5));
      assert.equal(await blob(), null);
      assert.deepEqual(await seqs(), [1, 2, 3, 4, 5]);
      assert.deepEqual(await seqsOfHead(), [5, 0]);
      // The 7th behaviour evicts the oldest first (a -1 delta).
      for (let i = 5; i < 7; i++) await r.applyBehaviors(events('u1', i, i + 1));
      assert.equal(await blob(), null);
      const t = await tail();
      assert.deepEqual(await seqs(), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(
        [1, 2, 3, 4, 5, 6, 7, 8].map((s) => decodeDelta(s, t[String(s)]).op.sign),
        [1, 1, 1, 1, 1, 1, -1, 1],
      );
      assert.deepEqual(await seqsOfHead(), [8, 0]);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
      // 8 waiting + an eviction and a behaviour > 8: a fold (by a writer without the cached state:
      // it reads the tail; the user has no blob to read), the first blob.
      const other = repo({ historyCap: 6, segmentSize: 4, tailFoldAt: 8 });
      await other.applyBehaviors(events('u1', 7, 8));
      assert.deepEqual(await tail(), {});
      assert.equal(foldedSeq((await blob())!), 10);
      assert.deepEqual(await seqsOfHead(), [10, 10]);
      assert.ok(decodeTables((await blob())!, r.hasher).equals(await expected(r, 'u1')));
      // Deltas again after the blob; the first writer's cached state is stale (another wrote) and unused.
      const folded = await blob();
      await r.applyBehaviors(events('u1', 8, 9));
      assert.deepEqual(await blob(), folded);
      assert.deepEqual(await seqs(), [11, 12]);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
      // A rebuild folds everything and keeps seqs monotonic.
      await other.applyBehaviors(events('u1', 9, 10));
      await other.rebuildUser('u1');
      assert.deepEqual(await tail(), {});
      assert.equal(foldedSeq((await blob())!), 14);
      await other.applyBehaviors(events('u1', 10, 11));
      assert.deepEqual(Object.keys(await tail()).sort(), ['15', '16']);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
    });

    it('a writer folds from the tables it stored last: no blob or tail read, same bytes as a writer that reads', async () => {
      const reads: string[] = [];
      const counting: StateStore = Object.create(store, {
        getMany: { value: (keys: string[]) => (reads.push(...keys), store.getMany(keys)) },
        get: { value: (key: string) => (reads.push(key), store.get(key)) },
        hgetall: { value: (key: string) => (reads.push(key), store.hgetall(key)) },
      });
      const cfg = { sdim: SDIM, historyCap: 10, segmentSize: 4, tailFoldAt: 4 };
      const cached = new BehaviorRepository(counting, cfg);
      await seedItems(cached);
      const tablesRead = () => reads.filter((k) => k === behaviorKeys.tables('u1') || k === behaviorKeys.tail('u1'));
      // The first fold reads the tail (not the blob: the user has none yet); the writer keeps the tables from then on.
      await cached.applyBehaviors(events('u1', 0, 3));
      await cached.applyBehaviors(events('u1', 3, 6));
      assert.deepEqual(tablesRead(), [behaviorKeys.tail('u1')]);
      assert.equal((await head('u1')).foldedSeq, 6);
      reads.length = 0;
      for (let i = 6; i < 30; i += 3) await cached.applyBehaviors(events('u1', i, i + 3));
      assert.deepEqual(tablesRead(), []);
      assert.ok((await head('u1')).foldedSeq > 6, 'the user folded again');
      const stored = [await store.get(behaviorKeys.tables('u1')), await store.hgetall(behaviorKeys.tail('u1'))];
      // The same batches by a writer without the cache (it reads at every fold) store the same bytes.
      await cached.deleteUser('u1');
      const reading = repo({ historyCap: 10, segmentSize: 4, tailFoldAt: 4, tablesCacheBytes: 0 });
      for (let i = 0; i < 30; i += 3) await reading.applyBehaviors(events('u1', i, i + 3));
      assert.deepEqual([await store.get(behaviorKeys.tables('u1')), await store.hgetall(behaviorKeys.tail('u1'))], stored);
    });

    it('a lost tail is detected at the next fold by a writer that reads it, and repaired by a rebuild', async () => {
      const r = repo({ historyCap: 50, segmentSize: 4, tailFoldAt: 4, tablesCacheBytes: 0 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 0, 3));
      await r.applyBehaviors(events('u1', 3, 5));
      assert.equal(foldedSeq((await store.get(behaviorKeys.tables('u1')))!), 5);
      await r.applyBehaviors(events('u1', 5, 6));
      await r.applyBehaviors(events('u1', 6, 7));
      await store.del(behaviorKeys.tail('u1'));
      const res = await r.applyBehaviors(events('u1', 7, 11));
      assert.deepEqual(res.rebuilt, ['u1']);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
      // A user with no blob yet: its lost tail too.
      await r.applyBehaviors(events('u2', 0, 3));
      await store.del(behaviorKeys.tail('u2'));
      assert.deepEqual((await r.applyBehaviors(events('u2', 3, 6))).rebuilt, ['u2']);
      assert.ok((await r.getTables('u2'))!.equals(await expected(r, 'u2')));
    });

    it('a writer with the cached state restores a lost tail at its next fold without a rebuild', async () => {
      const r = repo({ historyCap: 50, segmentSize: 4, tailFoldAt: 4 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 0, 3));
      await r.applyBehaviors(events('u1', 3, 5));
      await r.applyBehaviors(events('u1', 5, 6));
      await store.del(behaviorKeys.tail('u1'));
      const res = await r.applyBehaviors(events('u1', 6, 10));
      assert.deepEqual(res.rebuilt, []);
      assert.deepEqual(await store.hgetall(behaviorKeys.tail('u1')), {});
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
    });

    it('a user whose head is lost starts afresh: the blob and tail left behind do not mix into its tables', async () => {
      const r = repo({ historyCap: 50, segmentSize: 4, tailFoldAt: 4 });
      await seedItems(r);
      await r.applyBehaviors(events('u1', 0, 6));
      await r.applyBehaviors(events('u1', 6, 8));
      assert.ok(await store.get(behaviorKeys.tables('u1')));
      assert.equal(Object.keys(await store.hgetall(behaviorKeys.tail('u1'))).length, 2);
      await store.del(behaviorKeys.head('u1'));
      // A new history of 2 behaviours: deltas 1 and 2 only (not the stale blob, not the stale fields).
      await repo({ historyCap: 50, segmentSize: 4, tailFoldAt: 4 }).applyBehaviors(events('u1', 20, 22));
      assert.deepEqual(
        (await r.getHistory('u1', 100)).map((x) => x.eventId),
        ['e21', 'e20'],
      );
      assert.equal(await store.get(behaviorKeys.tables('u1')), null);
      assert.deepEqual(Object.keys(await store.hgetall(behaviorKeys.tail('u1'))).sort(), ['1', '2']);
      assert.ok((await r.getTables('u1'))!.equals(await expected(r, 'u1')));
    });

    it('the tables cache changes nothing: same stored state with and without it', async () => {
      const evs = [...events('u1', 0, 40), ...events('u2', 0, 40)];
      const state = async (r: BehaviorRepository) => {
        for (let i = 0; i < evs.length; i += 7) await r.applyBehaviors(evs.slice(i, i + 7));
        const out = [await r.getTablesBlob('u1'), await r.getTablesBlob('u2'), await r.getHistory('u1', 100), await r.getHistory('u2', 100)];
        await r.deleteUser('u1');
        await r.deleteUser('u2');
        return out;
      };
      const cached = repo({ historyCap: 25, segmentSize: 4 });
      await seedItems(cached);
      const a = await state(cached);
      const b = await state(repo({ historyCap: 25, segmentSize: 4, tablesCacheBytes: 0 }));
      assert.deepEqual(a, b);
    });
  });
}
