import type { StateBatch, StateStore } from '../../../../libs/infra/src/state-store/state-store.port';
import {
  BucketTables,
  InterestOptions,
  SdimHasher,
  decodeTables,
  encodeTables,
  interestFromEncoded,
} from '../../../../libs/sdim/src';
import { encodeFloat32 } from '../../../../libs/contracts/src/state-keys';
import { NewBehavior, UserBatch, applyToTables, mergeAndEvict, segmentBytes, segmentsToLoad, versionKey } from './apply-behaviors';
import { behaviorKeys as K } from './behavior-keys';
import {
  ApplyResult,
  BehaviorInput,
  BehaviorRepositoryConfig,
  HistoryEntry,
  ItemInput,
  UpsertItemResult,
  UserEmbedding,
  behaviorRepositoryConfig,
} from './behavior.types';
import { Entry, Head, MAX_ID_BYTES, MAX_TYPE_BYTES, compareEntries, decodeHead, decodeSegment, emptyHead, encodeHead, encodeSegment } from './history';
import { ItemCatalog } from './item-catalog';
import { ItemRecord, configFingerprint, decodeItem } from './item-record';
import { Lru } from './lru';
import { rebuildUserState } from './rebuild';

/**
 * Per-user behaviour state in the StateStore: capped history, SDIM tables, user embedding.
 *
 * applyBehaviors(batch) does, for all users of the batch together:
 *   read 1 (one pipeline): history heads, tables, item records of the batch's items;
 *   read 2 (one pipeline, when needed): the history segments the new events fall into, and the
 *     oldest segments the cap will evict from;
 *   read 3 (one pipeline, when the cap evicts): the item versions of the evicted entries;
 *   write (one MULTI per user, all sent at once): head, tables, embedding, touched segments.
 * Idempotent: an event whose (ts, eventId) is already in the history changes nothing, and an event
 * older than everything a full history keeps is dropped (it would be evicted at once), so a replay
 * of an evicted event changes nothing either. The result is independent of the order of events,
 * up to float64 rounding of the user embedding (the tables are exact, see libs/sdim).
 * One process writes a user at a time (Kafka partitions keyed by user); within this instance,
 * overlapping calls that share a user are serialised. A cached copy of a user's decoded tables is
 * used only while the stored head still carries the stamp of this instance's last write.
 */
export class BehaviorRepository {
  readonly config: BehaviorRepositoryConfig;
  readonly hasher: SdimHasher;
  private readonly fingerprint: number;
  private readonly items: ItemCatalog;
  /** Decoded tables of recently written users, valid while the stored head carries `stamp`. */
  private readonly userCache: Lru<string, { stamp: number; tables: BucketTables }>;
  /** Users a call of this instance is working on (see withUsers). */
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: StateStore,
    config: Partial<BehaviorRepositoryConfig> = {},
  ) {
    this.config = behaviorRepositoryConfig(config);
    this.hasher = new SdimHasher(this.config.sdim);
    this.fingerprint = configFingerprint(this.config.sdim);
    this.items = new ItemCatalog(store, this.config, this.hasher, this.fingerprint);
    this.userCache = new Lru(this.config.userCacheSize);
  }

  // ---- items ----------------------------------------------------------------------------------

  async upsertItem(item: ItemInput): Promise<UpsertItemResult> {
    return (await this.items.upsert([item]))[0];
  }

  /** Upserts in one read pipeline and one write pipeline. A changed embedding gets a new version. */
  async upsertItems(items: readonly ItemInput[]): Promise<UpsertItemResult[]> {
    return this.items.upsert(items);
  }

  /** Marks the item deleted (a tombstone that keeps its embedding versions, see ItemCatalog.delete). */
  async deleteItem(itemId: string, deletedAt: number = Date.now()): Promise<boolean> {
    return this.items.delete(itemId, deletedAt);
  }

  async getItem(itemId: string): Promise<ItemRecord | null> {
    return (await this.items.load([itemId])).get(itemId) ?? null;
  }

  // ---- behaviours -----------------------------------------------------------------------------

  async applyBehaviors(events: readonly BehaviorInput[]): Promise<ApplyResult> {
    const result: ApplyResult = { applied: 0, duplicates: 0, ignored: 0, dropped: 0, evicted: 0, unknownItems: [], rejected: [], rebuilt: [] };
    const byUser = new Map<string, { index: number; e: BehaviorInput; ts: number }[]>();
    events.forEach((e, index) => {
      const ts = e?.ts ?? e?.timestamp;
      const reason = eventProblem(e, ts);
      if (reason) return void result.rejected.push({ index, code: 'invalid_event', reason });
      if (!this.config.tableTypes.has(e.type)) return void result.ignored++;
      let list = byUser.get(e.userId);
      if (!list) byUser.set(e.userId, (list = []));
      list.push({ index, e, ts: ts! });
    });
    if (byUser.size === 0) return result;
    return this.withUsers([...byUser.keys()], () => this.applyGrouped(byUser, result));
  }

  /**
   * Runs fn once no other call of this repository is working on any of `users`: calls for
   * different users overlap freely, calls sharing a user run one after the other (a user's state
   * is read, changed and written back, so overlapping calls would lose updates).
   */
  private async withUsers<T>(users: readonly string[], fn: () => Promise<T>): Promise<T> {
    for (;;) {
      const busy = users.map((u) => this.inflight.get(u)).filter((p): p is Promise<void> => p !== undefined);
      if (!busy.length) break;
      await Promise.allSettled(busy);
    }
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const u of users) this.inflight.set(u, mine);
    try {
      return await fn();
    } finally {
      for (const u of users) if (this.inflight.get(u) === mine) this.inflight.delete(u);
      release();
    }
  }

  private async applyGrouped(byUser: Map<string, { index: number; e: BehaviorInput; ts: number }[]>, result: ApplyResult): Promise<ApplyResult> {
    // Read 1: heads; tables of users not cached; items not cached.
    const users = [...byUser.keys()];
    const cached = users.map((u) => this.userCache.get(u));
    const items = new Map<string, ItemRecord | null>();
    const now = Date.now();
    for (const l of byUser.values()) for (const { e } of l) if (!items.has(e.itemId)) items.set(e.itemId, this.items.peek(e.itemId, now) ?? null);
    const fetchItems = [...items].filter(([, rec]) => !rec).map(([id]) => id);
    const r1 = this.store.pipeline();
    users.forEach((u, i) => (cached[i] ? r1.get(K.head(u)) : r1.get(K.head(u)).get(K.tables(u))));
    for (const id of fetchItems) r1.get(K.item(id));
    const raw1 = (await r1.exec()) as (Buffer | null)[];
    let at1 = 0;
    const heads = users.map((_, i) => ({ head: raw1[at1++], tables: cached[i] ? undefined : raw1[at1++] }));
    for (const id of fetchItems) items.set(id, this.items.decode(id, raw1[at1++]));

    const work: { u: UserBatch; tables?: BucketTables; tablesBlob?: Buffer | null; news: NewBehavior[]; load: number[] }[] = [];
    users.forEach((userId, i) => {
      const headBlob = heads[i].head;
      const head = headBlob ? decodeHead(headBlob) : emptyHead(this.config.sdim.d);
      // Cached tables are ours only if nobody wrote the user since our last write.
      const mine = cached[i] && headBlob && head.stamp === cached[i]!.stamp ? cached[i]!.tables : undefined;
      this.userCache.delete(userId);
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
      const u: UserBatch = { userId, head, segments: new Map(), dirty: new Set(), removedSegments: [], added: [], evicted: [], duplicates: 0, dropped: 0 };
      work.push({ u, tables: mine, tablesBlob: heads[i].tables, news, load: segmentsToLoad(head, news, this.config) });
    });
    // Tables of cached users written by someone else meanwhile (rare): one more read.
    const stale = work.filter((w) => !w.tables && w.tablesBlob === undefined);
    if (stale.length) {
      const p = this.store.pipeline();
      for (const w of stale) p.get(K.tables(w.u.userId));
      const raw = (await p.exec()) as (Buffer | null)[];
      stale.forEach((w, i) => (w.tablesBlob = raw[i]));
    }

    // Read 2: the segments the events fall into and the oldest ones the cap evicts from. A lost
    // segment (deleted by hand, evicted by a full Redis) is forgotten in the head, the segments
    // that then become needed are loaded in one more round, and the user's tables are rebuilt.
    const repair = new Set<string>();
    for (let pending = work.filter((w) => w.load.length); pending.length; ) {
      const p = this.store.pipeline();
      for (const w of pending) for (const id of w.load) p.get(K.segment(w.u.userId, id));
      const raw = (await p.exec()) as (Buffer | null)[];
      let at = 0;
      for (const w of pending) {
        let lost = false;
        for (const id of w.load) {
          const b = raw[at++];
          if (b) w.u.segments.set(id, { raw: b, entries: null, tail: [] });
          else {
            const i = w.u.head.segments.findIndex((x) => x.id === id);
            w.u.head.total -= w.u.head.segments[i].count;
            w.u.head.segments.splice(i, 1);
            lost = true;
            repair.add(w.u.userId);
          }
        }
        w.load = lost ? segmentsToLoad(w.u.head, w.news, this.config).filter((id) => !w.u.segments.has(id)) : [];
      }
      pending = pending.filter((w) => w.load.length);
    }
    for (const w of work) mergeAndEvict(w.u, w.news, this.config);

    // Read 3: embedding versions of evicted entries not already at hand.
    const versions = new Map<string, ItemRecord | null>();
    for (const [id, rec] of items) if (rec) versions.set(versionKey(id, rec.version), rec);
    for (const w of work) {
      for (const x of w.u.evicted) {
        const rec = this.items.peek(x.itemId, now);
        if (rec && rec.version === x.ver) versions.set(versionKey(x.itemId, x.ver), rec);
      }
    }
    const need = new Map<string, [string, number]>();
    for (const w of work) for (const x of w.u.evicted) if (!versions.has(versionKey(x.itemId, x.ver))) need.set(versionKey(x.itemId, x.ver), [x.itemId, x.ver]);
    if (need.size) {
      const r3 = this.store.pipeline();
      for (const [id, ver] of need.values()) r3.get(K.itemVersion(id, ver));
      const raw3 = (await r3.exec()) as (Buffer | null)[];
      [...need.entries()].forEach(([key, [id]], i) => versions.set(key, raw3[i] ? decodeItem(id, raw3[i]!) : null));
    }

    // Compute and write, one MULTI per user.
    const writes: { userId: string; stamp: number; tables: BucketTables; done?: Promise<unknown> }[] = [];
    const shared = this.config.writeMode === 'batch' ? this.store.transaction() : undefined;
    for (const w of work) {
      const { u } = w;
      result.duplicates += u.duplicates;
      result.dropped += u.dropped;
      result.applied += u.added.length;
      result.evicted += u.evicted.length;
      const tables = w.tables ?? (w.tablesBlob ? decodeTables(w.tablesBlob, this.hasher) : new BucketTables(this.hasher));
      // Nothing added or evicted: entries inserted and dropped again left the history as it was.
      if (!u.added.length && !u.evicted.length) {
        if (u.head.stamp) this.userCache.set(u.userId, { stamp: u.head.stamp, tables });
        continue;
      }
      const complete = applyToTables(u, { tables, hasher: this.hasher, fingerprint: this.fingerprint, halfLifeMs: this.config.halfLifeMs, versions });
      if (!complete || repair.has(u.userId)) result.rebuilt.push(u.userId);
      const tx = shared ?? this.store.transaction();
      const stamp = this.writeUser(tx, u.userId, u.head, tables);
      for (const id of u.dirty) tx.set(K.segment(u.userId, id), segmentBytes(u.segments.get(id)!));
      for (const id of u.removedSegments) tx.del(K.segment(u.userId, id));
      writes.push({ userId: u.userId, stamp, tables, done: shared ? undefined : tx.exec() });
    }
    // A user whose write failed stays out of the cache: its next batch reads the stored state.
    const all = shared && writes.length ? shared.exec() : undefined;
    const settled = await Promise.allSettled(writes.map((x) => x.done ?? all));
    settled.forEach((r, i) => r.status === 'fulfilled' && this.userCache.set(writes[i].userId, { stamp: writes[i].stamp, tables: writes[i].tables }));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const userId of result.rebuilt) await this.rebuildUnlocked(userId);
    return result;
  }

  /** Queues the user's head, tables and embedding; returns the new stamp. */
  private writeUser(tx: StateBatch, userId: string, head: Head, tables: BucketTables): number {
    const previous = head.stamp;
    do head.stamp = (Math.random() * 0x100000000) >>> 0;
    while (head.stamp === previous || head.stamp === 0);
    tx.set(K.head(userId), encodeHead(head));
    // 'auto': int32 fixed point when every sum fits (|sum| < 2^15), float64 otherwise; both exact.
    tx.set(K.tables(userId), encodeTables(tables, { dtype: 'auto' }));
    const mean = head.total > 0 && head.weight > 0 ? Float32Array.from(head.sum, (v) => v / head.weight) : null;
    if (mean) tx.set(K.embedding(userId), encodeFloat32(mean));
    else tx.del(K.embedding(userId));
    return head.stamp;
  }

  /**
   * Recomputes the user's tables and embedding from the history with the items' recorded
   * embedding versions (falling back to the current one, dropping entries whose item is gone).
   * For repairs and after a change of the SDIM config or the half-life.
   */
  async rebuildUser(userId: string): Promise<void> {
    return this.withUsers([userId], () => this.rebuildUnlocked(userId));
  }

  private async rebuildUnlocked(userId: string): Promise<void> {
    this.userCache.delete(userId);
    const headBlob = await this.store.get(K.head(userId));
    if (!headBlob) return;
    const head = decodeHead(headBlob);
    const segs = await this.loadSegments(userId, head.segments.map((s) => s.id));
    const plan = await rebuildUserState(this.store, head, segs, this.config, this.hasher, this.fingerprint);
    const tx = this.store.transaction();
    this.writeUser(tx, userId, plan.head, plan.tables);
    for (const [id, entries] of plan.segments) tx.set(K.segment(userId, id), encodeSegment(entries));
    for (const id of plan.removedSegments) tx.del(K.segment(userId, id));
    await tx.exec();
  }

  private async loadSegments(userId: string, ids: readonly number[]): Promise<Map<number, Entry[]>> {
    const out = new Map<number, Entry[]>();
    if (!ids.length) return out;
    const p = this.store.pipeline();
    for (const id of ids) p.get(K.segment(userId, id));
    const raw = (await p.exec()) as (Buffer | null)[];
    ids.forEach((id, i) => out.set(id, raw[i] ? decodeSegment(raw[i]!) : []));
    return out;
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The newest `limit` behaviours, newest first. */
  async getHistory(userId: string, limit = 100): Promise<HistoryEntry[]> {
    const headBlob = await this.store.get(K.head(userId));
    if (!headBlob || limit <= 0) return [];
    const head = decodeHead(headBlob);
    const ids: number[] = [];
    let n = 0;
    for (let i = head.segments.length - 1; i >= 0 && n < limit; i--) {
      ids.push(head.segments[i].id);
      n += head.segments[i].count;
    }
    const segs = await this.loadSegments(userId, ids);
    const out: HistoryEntry[] = [];
    for (const id of ids) {
      const entries = segs.get(id)!;
      for (let j = entries.length - 1; j >= 0 && out.length < limit; j--) {
        const { eventId, itemId, type, ts } = entries[j];
        out.push({ eventId, itemId, type, ts });
      }
    }
    return out;
  }

  async historyLength(userId: string): Promise<number> {
    const headBlob = await this.store.get(K.head(userId));
    return headBlob ? decodeHead(headBlob).total : 0;
  }

  /** The encoded tables as stored (what ranking reads), or null. */
  async getTablesBlob(userId: string): Promise<Buffer | null> {
    return this.store.get(K.tables(userId));
  }

  async getTables(userId: string): Promise<BucketTables | null> {
    const b = await this.getTablesBlob(userId);
    return b ? decodeTables(b, this.hasher) : null;
  }

  /** SDIM interest of the user for each vector (zero vectors when the user has no history). */
  async interest(userId: string, vectors: readonly ArrayLike<number>[], options: InterestOptions = {}): Promise<Float64Array[]> {
    const d = this.config.sdim.d;
    vectors.forEach((v, i) => {
      if (v.length !== d) throw new RangeError(`vector ${i} has dimension ${v.length}, expected ${d}`);
    });
    const b = await this.getTablesBlob(userId);
    const flat = b ? interestFromEncoded(b, this.hasher, vectors as number[][], options) : new Float64Array(vectors.length * d);
    return vectors.map((_, i) => flat.subarray(i * d, (i + 1) * d));
  }

  async getEmbedding(userId: string): Promise<UserEmbedding | null> {
    const p = this.store.pipeline().get(K.embedding(userId)).get(K.head(userId));
    const [emb, headBlob] = (await p.exec()) as (Buffer | null)[];
    if (!emb || !headBlob) return null;
    const head = decodeHead(headBlob);
    const vector = new Float32Array(emb.length / 4);
    Buffer.from(vector.buffer).set(emb);
    return { vector, count: head.total, newestTs: head.newestTs };
  }

  /** Removes everything stored for the user (history, tables, embedding). */
  async deleteUser(userId: string): Promise<void> {
    return this.withUsers([userId], () => this.deleteUnlocked(userId));
  }

  private async deleteUnlocked(userId: string): Promise<void> {
    this.userCache.delete(userId);
    const headBlob = await this.store.get(K.head(userId));
    const tx = this.store.transaction();
    if (headBlob) for (const s of decodeHead(headBlob).segments) tx.del(K.segment(userId, s.id));
    tx.del(K.head(userId)).del(K.tables(userId)).del(K.embedding(userId));
    await tx.exec();
  }
}

function eventProblem(e: BehaviorInput, ts: number | undefined): string | undefined {
  if (!e || typeof e !== 'object') return 'event must be an object';
  // A UTF-16 string of n units has at most 3n UTF-8 bytes: measure only strings that could be too long.
  const tooLong = (v: string, max: number) => v.length * 3 > max && Buffer.byteLength(v) > max;
  for (const f of ['eventId', 'userId', 'itemId'] as const) {
    if (typeof e[f] !== 'string' || e[f].length === 0) return `${f} must be a non-empty string`;
    if (tooLong(e[f], MAX_ID_BYTES)) return `${f} longer than ${MAX_ID_BYTES} bytes`;
  }
  if (typeof e.type !== 'string' || e.type.length === 0 || tooLong(e.type, MAX_TYPE_BYTES)) return `type must be a string of 1..${MAX_TYPE_BYTES} bytes`;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) return 'ts (or timestamp) must be a finite epoch-ms number >= 0';
  return undefined;
}
