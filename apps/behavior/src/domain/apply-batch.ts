import type { StateBatch, StateStore } from '../../../../libs/infra/src/state-store/state-store.port';
import { BucketTables, SNAP_SCALE, SdimHasher, TablesOp, decodeTables, encodeTables, patchEncodedTables } from '../../../../libs/sdim/src';
import { encodeFloat32 } from '../../../../libs/contracts/src/state-keys';
import { NewBehavior, UserBatch, keyedSegment, mergeAndEvict, planSegmentWrites, segmentsToLoad, tableOps, userBatch, versionKey } from './apply-behaviors';
import { behaviorKeys as K } from './behavior-keys';
import { ApplyResult, BehaviorInput, BehaviorRepositoryConfig } from './behavior.types';
import { Head, compareEntries, decodeHead, emptyHead, encodeHead } from './history';
import { ItemCatalog } from './item-catalog';
import { ItemRecord, decodeItem } from './item-record';
import { TablesCache } from './tables-cache';

/**
 * The I/O of applyBehaviors for all users of a batch together (apply-behaviors.ts is the pure part):
 *   read 1: history heads and tables blobs of the batch's users, item records not cached;
 *   read 2 (when needed): history segments that late events fall into, the oldest ones the cap
 *     evicts from (and the newest one of a format-1 head);
 *   read 3 (when the cap evicts items whose version is not at hand): item versions;
 *   write: per user head (with the newest segment inline), tables, embedding, and the rare segment
 *     key; one MULTI for the batch ('batch') or per user ('user').
 * In 'batch' mode each read is one MGET (StateStore.getMany), in 'user' mode a pipeline of GETs
 * (slot-local commands for Redis Cluster). The tables blob is patched (libs/sdim
 * patchEncodedTables): only the m/tau buckets a behaviour touches are computed. A user whose
 * tables this writer stored last (TablesCache, checked against the head's stamp) is not read back.
 */
export interface BatchContext {
  store: StateStore;
  config: BehaviorRepositoryConfig;
  hasher: SdimHasher;
  fingerprint: number;
  items: ItemCatalog;
  cache: TablesCache;
}

export interface PendingEvent {
  index: number;
  e: BehaviorInput;
  ts: number;
}

/** Values of `keys`, one round trip. */
export async function readKeys(ctx: BatchContext, keys: readonly string[]): Promise<(Buffer | null)[]> {
  if (!keys.length) return [];
  if (ctx.config.writeMode === 'batch') return ctx.store.getMany([...keys]);
  const p = ctx.store.pipeline();
  for (const k of keys) p.get(k);
  return (await p.exec()) as (Buffer | null)[];
}

/** Queues the user's head (with a new stamp, returned), tables and embedding. */
export function writeUserState(tx: StateBatch, userId: string, head: Head, tables: Buffer): number {
  const previous = head.stamp;
  do head.stamp = (Math.random() * 0x100000000) >>> 0;
  while (head.stamp === previous || head.stamp === 0);
  tx.set(K.head(userId), encodeHead(head));
  tx.set(K.tables(userId), tables);
  if (head.total > 0 && head.weight > 0) {
    const mean = new Float32Array(head.sum.length);
    for (let k = 0; k < mean.length; k++) mean[k] = head.sum[k] / head.weight;
    tx.set(K.embedding(userId), encodeFloat32(mean));
  } else tx.del(K.embedding(userId));
  return head.stamp;
}

/** The ops applied through BucketTables, for blobs patchEncodedTables does not handle (float64, or a sum leaving int32). */
function tablesTheSlowWay(blob: Buffer | null, hasher: SdimHasher, ops: readonly TablesOp[]): Buffer {
  const t = blob ? decodeTables(blob, hasher) : new BucketTables(hasher);
  for (const op of ops) {
    const snapped = Float64Array.from(op.fixed, (v) => v / SNAP_SCALE);
    if (op.sign > 0) t.addSnapped(snapped, op.signatures);
    else t.removeSnapped(snapped, op.signatures);
  }
  // 'auto': int32 fixed point when every sum fits (|sum| < 2^15), float64 otherwise; both exact.
  return encodeTables(t, { dtype: 'auto' });
}

interface Work {
  u: UserBatch;
  tables: Buffer | null;
  /** `tables` is this writer's own cached copy (patched in place; out of the cache until written). */
  own: boolean;
  news: NewBehavior[];
  load: number[];
}

/** Applies the grouped valid events; fills `result`; returns the users whose tables need a rebuild. */
export async function applyBatch(ctx: BatchContext, byUser: Map<string, PendingEvent[]>, result: ApplyResult): Promise<string[]> {
  const { config, hasher, items: catalog } = ctx;
  const users = [...byUser.keys()];
  const now = Date.now();
  const items = new Map<string, ItemRecord | null>();
  for (const l of byUser.values()) for (const { e } of l) if (!items.has(e.itemId)) items.set(e.itemId, catalog.peek(e.itemId, now) ?? null);
  const fetchItems = [...items].filter(([, rec]) => !rec).map(([id]) => id);
  const cached = users.map((u) => ctx.cache.get(u));
  const keys1: string[] = [];
  const headAt: number[] = [];
  const tablesAt: number[] = [];
  users.forEach((u, i) => {
    headAt.push(keys1.push(K.head(u)) - 1);
    tablesAt.push(cached[i] ? -1 : keys1.push(K.tables(u)) - 1);
  });
  const itemsAt = keys1.length;
  for (const id of fetchItems) keys1.push(K.item(id));
  const raw1 = await readKeys(ctx, keys1);
  fetchItems.forEach((id, i) => items.set(id, catalog.decode(id, raw1[itemsAt + i])));

  const work: Work[] = [];
  const stale: Work[] = [];
  users.forEach((userId, i) => {
    const headBlob = raw1[headAt[i]];
    const head = headBlob ? decodeHead(headBlob) : emptyHead(config.sdim.d);
    const news: NewBehavior[] = [];
    for (const { index, e, ts } of byUser.get(userId)!) {
      const item = items.get(e.itemId);
      if (!item) {
        result.unknownItems.push({ index, eventId: e.eventId, userId, itemId: e.itemId });
        continue;
      }
      news.push({ index, item, entry: { ts, eventId: e.eventId, itemId: e.itemId, type: e.type, ver: item.version } });
    }
    if (!news.length) return;
    news.sort((a, b) => compareEntries(a.entry, b.entry));
    const u = userBatch(userId, head);
    const c = cached[i];
    const w: Work = { u, tables: c ? c.blob : raw1[tablesAt[i]], own: !!c, news, load: segmentsToLoad(u, news, config) };
    // The cached copy leaves the cache while it may be patched: a failure below cannot leave a
    // changed but unwritten copy behind. It is ours only if nobody wrote the user since our last
    // write; else (rare) read the stored tables.
    ctx.cache.delete(userId);
    if (c && (!headBlob || head.stamp !== c.stamp)) {
      w.own = false;
      stale.push(w);
    }
    work.push(w);
  });
  if (stale.length) {
    const raw = await readKeys(ctx, stale.map((w) => K.tables(w.u.userId)));
    stale.forEach((w, i) => (w.tables = raw[i]));
  }

  // Read 2. A lost segment (deleted by hand, evicted by a full Redis) is forgotten in the head, the
  // segments that then become needed are loaded in one more round, and the user is rebuilt.
  const repair = new Set<string>();
  for (let pending = work.filter((w) => w.load.length); pending.length; ) {
    const keys: string[] = [];
    for (const w of pending) for (const id of w.load) keys.push(K.segment(w.u.userId, id));
    const raw = await readKeys(ctx, keys);
    let at = 0;
    for (const w of pending) {
      let lost = false;
      for (const id of w.load) {
        const b = raw[at++];
        const i = w.u.head.segments.findIndex((x) => x.id === id);
        if (b) w.u.segments.set(id, keyedSegment(b, w.u.head.segments[i]));
        else {
          w.u.head.total -= w.u.head.segments[i].count;
          w.u.head.segments.splice(i, 1);
          lost = true;
          repair.add(w.u.userId);
        }
      }
      w.load = lost ? segmentsToLoad(w.u, w.news, config) : [];
    }
    pending = pending.filter((w) => w.load.length);
  }
  for (const w of work) mergeAndEvict(w.u, w.news, config);

  // Read 3: embedding versions of evicted entries not already at hand.
  const versions = new Map<string, ItemRecord | null>();
  for (const [id, rec] of items) if (rec) versions.set(versionKey(id, rec.version), rec);
  const need = new Map<string, [string, number]>();
  for (const w of work) {
    for (const x of w.u.evicted) {
      const key = versionKey(x.itemId, x.ver);
      if (versions.has(key) || need.has(key)) continue;
      const rec = catalog.peek(x.itemId, now);
      if (rec && rec.version === x.ver) versions.set(key, rec);
      else need.set(key, [x.itemId, x.ver]);
    }
  }
  const raw3 = await readKeys(ctx, [...need.values()].map(([id, ver]) => K.itemVersion(id, ver)));
  [...need.entries()].forEach(([key, [id]], i) => versions.set(key, raw3[i] ? decodeItem(id, raw3[i]!) : null));

  // Compute and write.
  const rebuild: string[] = [];
  const done: Promise<unknown>[] = [];
  const written: { userId: string; stamp: number; blob: Buffer; done: number }[] = [];
  const shared = config.writeMode === 'batch' ? ctx.store.transaction() : undefined;
  for (const { u, tables, own } of work) {
    result.duplicates += u.duplicates;
    result.dropped += u.dropped;
    result.applied += u.added.length;
    result.evicted += u.evicted.length;
    // Nothing added or evicted: entries inserted and dropped again left the history as it was.
    if (!u.added.length && !u.evicted.length) {
      if (own && tables) ctx.cache.set(u.userId, u.head.stamp, tables);
      continue;
    }
    const { ops, complete } = tableOps(u, { hasher, fingerprint: ctx.fingerprint, halfLifeMs: config.halfLifeMs, versions });
    if (!complete || repair.has(u.userId)) rebuild.push(u.userId);
    const blob = patchEncodedTables(tables, hasher, ops, { inPlace: own }) ?? tablesTheSlowWay(tables, hasher, ops);
    const segs = planSegmentWrites(u);
    const tx = shared ?? ctx.store.transaction();
    const stamp = writeUserState(tx, u.userId, u.head, blob);
    for (const s of segs.keyed) tx.set(K.segment(u.userId, s.id), s.bytes);
    for (const id of segs.removed) tx.del(K.segment(u.userId, id));
    written.push({ userId: u.userId, stamp, blob, done: shared ? 0 : done.length });
    if (!shared) done.push(tx.exec());
  }
  if (shared && written.length) done.push(shared.exec());
  const settled = await Promise.allSettled(done);
  // A user whose write failed stays out of the cache: its next batch reads the stored state.
  for (const x of written) {
    if (settled[x.done].status === 'fulfilled') ctx.cache.set(x.userId, x.stamp, x.blob);
    else ctx.cache.delete(x.userId);
  }
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rebuild;
}
