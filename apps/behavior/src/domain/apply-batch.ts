import type { StateBatch, StateStore } from '@recsys/infra/state-store/state-store.port';
import { SdimHasher, TablesOp, applyOps, foldedSeq, pendingDeltas, withFoldedSeq } from '@recsys/sdim';
import { ItemOp, NewBehavior, UserBatch, keyedSegment, mergeAndEvict, planSegmentWrites, segmentsToLoad, tableOps, userBatch, versionKey } from './apply-behaviors';
import { behaviorKeys as K } from './behavior-keys';
import { ApplyResult, BehaviorInput, BehaviorRepositoryConfig } from './behavior.types';
import { Entry, HEAD_FORMAT, Head, LITTLE_ENDIAN, compareEntries, decodeHead, emptyHead, encodeHead } from './history';
import { ItemCatalog } from './item-catalog';
import { ItemRecord, decodeItem, itemDelta } from './item-record';
import { CachedTables, TablesCache } from './tables-cache';

/**
 * The I/O of applyBehaviors for all users of a batch together (apply-behaviors.ts is the pure part):
 *   read 1: history heads of the batch's users, item records not cached;
 *   read 2 (when needed): history segments that late events fall into, the oldest ones the cap
 *     evicts from (and the newest one of a format-1 head);
 *   read 3 (when the cap evicts items whose version is not at hand): item versions;
 *   read 4 (only users whose tail folds this batch and whose tables this writer did not store
 *     last): their blobs and tails;
 *   write: per user head (with the newest segment inline), table deltas appended to the tail (or,
 *     folding, the tables blob and the tail's deletion), embedding, and the rare segment key; one
 *     MULTI for the batch ('batch') or per user ('user').
 * In 'batch' mode each read is one MGET (StateStore.getMany), in 'user' mode a pipeline of GETs
 * (slot-local commands for Redis Cluster). A behaviour costs one small tail delta (libs/sdim
 * tail.ts), not a rewrite of the 33 KB blob: a user's tail folds into its blob when it would
 * exceed `tailFoldAt` deltas; a new user has no blob until then. A fold patches the blob
 * (patchEncodedTables, only the touched buckets); for a user whose tables this writer stored last
 * (TablesCache: blob and pending updates, checked against the head's stamp) nothing is read back.
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

/**
 * Writes of users, queued as three commands: one MSET, one DEL and one hsetMany of the tails (a
 * command per key would cost ioredis a command object, an encoded buffer and two replies inside
 * MULTI each: session 2 sent three or four per touched user). A batch touches a user once; the
 * only key both deleted and written is a new user's tail (stale fields of a lost head cleared
 * before its first deltas), hence DEL before hsetMany.
 */
export class Writes {
  readonly sets: [string, Buffer][] = [];
  readonly dels: string[] = [];
  readonly hsets: [string, Record<string, Buffer>][] = [];

  queue(tx: StateBatch): StateBatch {
    if (this.sets.length) tx.setMany(this.sets);
    if (this.dels.length) tx.del(...this.dels);
    if (this.hsets.length) tx.hsetMany(this.hsets);
    return tx;
  }
}

/**
 * Queues the user's head (with a new stamp, returned), embedding and either the folded tables (a
 * blob holding every delta up to head.tailSeq: stamped with it, the tail deleted) or the deltas
 * appended to the tail as seqs head.tailSeq - deltas.length + 1 .. head.tailSeq.
 */
export function writeUserState(out: Writes, userId: string, head: Head, tables: Buffer | null, deltas: readonly Buffer[] = [], openAppend: readonly Entry[] = []): number {
  const previous = head.stamp;
  do head.stamp = (Math.random() * 0x100000000) >>> 0;
  while (head.stamp === previous || head.stamp === 0);
  out.sets.push([K.head(userId), encodeHead(head, openAppend)]);
  if (tables) {
    if (head.foldedSeq !== head.tailSeq) throw new Error(`user ${userId}: a folded blob must hold every delta (folded ${head.foldedSeq}, tail ${head.tailSeq})`);
    out.sets.push([K.tables(userId), withFoldedSeq(tables, head.foldedSeq)]);
    out.dels.push(K.tail(userId));
  } else if (deltas.length) {
    const fields: Record<string, Buffer> = {};
    deltas.forEach((b, i) => (fields[String(head.tailSeq - deltas.length + 1 + i)] = b));
    out.hsets.push([K.tail(userId), fields]);
  }
  if (head.total > 0 && head.weight > 0) {
    // Float32 LE of the mean, written straight into a (pooled, 8-aligned) Buffer: what encodeFloat32 gives.
    const d = head.sum.length;
    const emb = Buffer.allocUnsafe(4 * d);
    if (LITTLE_ENDIAN && emb.byteOffset % 4 === 0) {
      const f = new Float32Array(emb.buffer, emb.byteOffset, d);
      for (let k = 0; k < d; k++) f[k] = head.sum[k] / head.weight;
    } else for (let k = 0; k < d; k++) emb.writeFloatLE(head.sum[k] / head.weight, 4 * k);
    out.sets.push([K.embedding(userId), emb]);
  } else out.dels.push(K.embedding(userId));
  return head.stamp;
}

interface Work {
  u: UserBatch;
  /** A head of format 1 or 2 (no tail seqs): its first batch folds, continuing after the blob's folded seq. */
  legacy: boolean;
  /**
   * The stored tables when known without reading them: a new user's (no blob, empty tail), or this
   * writer's cached copy, valid for the stored head (its blob is patched in place at a fold; it
   * stays out of the cache until written).
   */
  state: CachedTables | null;
  /** `state` came from the cache (else a new user, or unknown). */
  hit: boolean;
  /** No stored head: a new user. */
  fresh: boolean;
  news: NewBehavior[];
  load: number[];
}

interface Fold {
  w: Work;
  ops: TablesOp[];
  blob: Buffer | null;
  tail: Record<string, Buffer>;
}

/** Applies the grouped valid events; fills `result`; returns the users whose tables need a rebuild. */
export async function applyBatch(ctx: BatchContext, byUser: Map<string, PendingEvent[]>, result: ApplyResult): Promise<string[]> {
  const { config, hasher, items: catalog } = ctx;
  const users = [...byUser.keys()];
  const now = Date.now();
  const items = new Map<string, ItemRecord | null>();
  for (const l of byUser.values()) for (const { e } of l) if (!items.has(e.itemId)) items.set(e.itemId, catalog.peek(e.itemId, now) ?? null);
  const fetchItems = [...items].filter(([, rec]) => !rec).map(([id]) => id);
  const keys1 = users.map((u) => K.head(u));
  const itemsAt = keys1.length;
  for (const id of fetchItems) keys1.push(K.item(id));
  const raw1 = await readKeys(ctx, keys1);
  fetchItems.forEach((id, i) => items.set(id, catalog.decode(id, raw1[itemsAt + i])));

  const work: Work[] = [];
  users.forEach((userId, i) => {
    const headBlob = raw1[i];
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
    // The cached copy leaves the cache while it may be patched: a failure below cannot leave a
    // changed but unwritten copy behind. It is ours only if nobody wrote the user since our last
    // write (and it agrees with the head's seqs); else (rare) a fold reads the stored tables.
    const c = ctx.cache.take(userId);
    const legacy = !!headBlob && headBlob[0] < HEAD_FORMAT;
    const hit = !!c && !!headBlob && !legacy && head.stamp === c.stamp && c.pending.length === head.tailSeq - head.foldedSeq && (c.blob !== null) === head.foldedSeq > 0;
    const state = hit ? c! : headBlob ? null : { stamp: 0, blob: null, pending: [] };
    work.push({ u, legacy, state, hit, fresh: !headBlob, news, load: segmentsToLoad(u, news, config) });
  });

  // Read 2. A lost segment (deleted by hand, evicted by a full Redis) is forgotten in the head, the
  // segments that then become needed are loaded in one more round, and the user is rebuilt.
  const repair = new Set<string>();
  for (let pending = work.filter((w) => w.load.length); pending.length;) {
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
  const raw3 = await readKeys(
    ctx,
    [...need.values()].map(([id, ver]) => K.itemVersion(id, ver)),
  );
  [...need.entries()].forEach(([key, [id]], i) => versions.set(key, raw3[i] ? decodeItem(id, raw3[i]!) : null));

  // Table updates; the users whose tail folds this batch (read 4: their blobs and tails).
  const rebuild: string[] = [];
  const changed: { w: Work; ops: ItemOp[] }[] = [];
  const folds: Fold[] = [];
  for (const w of work) {
    const { u } = w;
    result.duplicates += u.duplicates;
    result.dropped += u.dropped;
    result.applied += u.added.length;
    result.evicted += u.evicted.length;
    // Nothing added or evicted: entries inserted and dropped again left the history as it was.
    if (!u.added.length && !u.evicted.length) {
      if (w.hit) ctx.cache.set(u.userId, w.state!);
      continue;
    }
    const { ops, complete } = tableOps(u, { hasher, fingerprint: ctx.fingerprint, halfLifeMs: config.halfLifeMs, versions });
    if (!complete || repair.has(u.userId)) rebuild.push(u.userId);
    changed.push({ w, ops });
    // A new user's updates wait in the tail like anyone's (no blob until its first fold).
    const waiting = u.head.tailSeq - u.head.foldedSeq;
    if (w.legacy || waiting + ops.length > config.tailFoldAt) folds.push({ w, ops, blob: w.state?.blob ?? null, tail: {} });
  }
  // A format-3 head has a blob once it folded (foldedSeq > 0); one with no delta ever (tailSeq 0,
  // a session-2 rebuild of a format-2 head) may have one too.
  const expectBlob = (w: Work) => w.legacy || w.u.head.foldedSeq > 0;
  const blobsFor = folds.filter((f) => !f.w.state && (expectBlob(f.w) || f.w.u.head.tailSeq === 0));
  const tailsFor = folds.filter((f) => !f.w.state && (f.w.legacy || f.w.u.head.tailSeq > f.w.u.head.foldedSeq));
  const [blobs, tails] = await Promise.all([
    readKeys(
      ctx,
      blobsFor.map((f) => K.tables(f.w.u.userId)),
    ),
    Promise.all(tailsFor.map((f) => ctx.store.hgetall(K.tail(f.w.u.userId)))),
  ]);
  blobsFor.forEach((f, i) => (f.blob = blobs[i]));
  tailsFor.forEach((f, i) => (f.tail = tails[i]));
  const folded = new Map<Work, Buffer>();
  for (const f of folds) {
    const { head, userId } = f.w.u;
    // The tail must hold exactly foldedSeq(blob)+1 .. head.tailSeq; anything else (a lost key) is
    // folded as found and the user rebuilt from its history.
    let pending: TablesOp[] = f.w.state?.pending ?? [];
    if (!f.w.state) {
      try {
        const after = f.blob ? foldedSeq(f.blob) : 0;
        const deltas = pendingDeltas(f.tail, after);
        const last = deltas.length ? deltas[deltas.length - 1].seq : after;
        if ((last !== head.tailSeq && !f.w.legacy) || (expectBlob(f.w) && !f.blob)) rebuild.push(userId);
        pending = deltas.map((x) => x.op);
        // Seqs never go back, whatever the head said (a legacy head says 0).
        head.tailSeq = Math.max(head.tailSeq, last);
      } catch {
        rebuild.push(userId);
      }
    }
    head.tailSeq += f.ops.length;
    head.foldedSeq = head.tailSeq;
    folded.set(f.w, applyOps(f.blob, hasher, [...pending, ...f.ops], { inPlace: f.w.hit }));
  }

  // Write.
  const done: Promise<unknown>[] = [];
  const written: { userId: string; next: CachedTables | null; done: number }[] = [];
  const shared = config.writeMode === 'batch' ? new Writes() : undefined;
  for (const { w, ops } of changed) {
    const { u } = w;
    const blob = folded.get(w) ?? null;
    let deltas: Buffer[] = [];
    if (!blob) {
      // The item versions' cached deltas: the bytes encodeDeltas(ops) gives, with no encoding per behaviour.
      deltas = ops.map((o) => itemDelta(o.rec, o.sign, hasher, ctx.fingerprint));
      u.head.tailSeq += ops.length;
    }
    const segs = planSegmentWrites(u);
    const out = shared ?? new Writes();
    // A new user starts from nothing stored: a blob or tail left behind by a lost head (a key
    // evicted by a full Redis, deleted by hand) must not mix into its tables.
    if (w.fresh && !blob) out.dels.push(K.tables(u.userId), K.tail(u.userId));
    const stamp = writeUserState(out, u.userId, u.head, blob, deltas, segs.openAppend);
    for (const s of segs.keyed) out.sets.push([K.segment(u.userId, s.id), s.bytes]);
    for (const id of segs.removed) out.dels.push(K.segment(u.userId, id));
    // What the stored tables are after this write, kept for users with a blob (those that folded:
    // 64 updates or more): the fold, or the known state with the deltas appended (the blob stays
    // what it was). A user without a blob reads its tail at its first fold instead: caching the
    // many light users of a stream would cost more than that one read.
    let next: CachedTables | null = null;
    if (blob) next = { stamp, blob, pending: [] };
    else if (w.state?.blob) {
      next = w.state;
      next.stamp = stamp;
      for (const o of ops) next.pending.push(o);
    }
    written.push({ userId: u.userId, next, done: shared ? 0 : done.length });
    if (!shared) done.push(out.queue(ctx.store.transaction()).exec());
  }
  if (shared && written.length) done.push(shared.queue(ctx.store.transaction()).exec());
  const settled = await Promise.allSettled(done);
  // A user whose write failed stays out of the cache: its next batch reads the stored state.
  for (const x of written) {
    if (settled[x.done].status === 'fulfilled' && x.next) ctx.cache.set(x.userId, x.next);
    else ctx.cache.delete(x.userId);
  }
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return [...new Set(rebuild)];
}
