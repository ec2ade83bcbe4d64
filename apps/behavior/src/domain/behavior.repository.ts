import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { BucketTables, InterestOptions, SdimHasher, decodeTables, encodeTables, interestFromEncoded, readUserTables } from '@recsys/sdim';
import { PendingEvent, Writes, applyBatch, writeUserState } from './apply-batch';
import { behaviorKeys as K } from './behavior-keys';
import { ApplyResult, BehaviorInput, BehaviorRepositoryConfig, HistoryEntry, ItemInput, UpsertItemResult, UserEmbedding, behaviorRepositoryConfig } from './behavior.types';
import { Entry, Head, MAX_ID_BYTES, MAX_TYPE_BYTES, SegmentMeta, decodeHead, decodeSegment, encodeSegment } from './history';
import { ItemCatalog } from './item-catalog';
import { ItemRecord, configFingerprint } from './item-record';
import { rebuildUserState } from './rebuild';
import { TablesCache } from './tables-cache';

/**
 * Per-user behaviour state in the StateStore: capped history, SDIM tables, user embedding.
 *
 * applyBehaviors(batch) reads, for all users of the batch together, their history heads and
 * tables in one round trip (plus one for history segments when late events or evictions need
 * them, and one for evicted item versions not at hand), then writes each user's head, tables and
 * embedding in one MULTI for the batch (apply-batch.ts).
 * Idempotent: an event whose (ts, eventId) is already in the history changes nothing, and an event
 * older than everything a full history keeps is dropped (it would be evicted at once), so a replay
 * of an evicted event changes nothing either. The result is independent of the order of events,
 * up to float64 rounding of the user embedding (the tables are exact, see libs/sdim).
 * One process writes a user at a time (Kafka partitions keyed by user); within this instance,
 * overlapping calls that share a user are serialised. Nothing about a user is cached between
 * calls (item records are, see ItemCatalog), so another writer's changes are always seen.
 */
export class BehaviorRepository {
  readonly config: BehaviorRepositoryConfig;
  readonly hasher: SdimHasher;
  private readonly fingerprint: number;
  private readonly items: ItemCatalog;
  private readonly tablesCache: TablesCache;
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
    this.tablesCache = new TablesCache(this.config.tablesCacheBytes);
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
    const byUser = new Map<string, PendingEvent[]>();
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

  private async applyGrouped(byUser: Map<string, PendingEvent[]>, result: ApplyResult): Promise<ApplyResult> {
    const ctx = { store: this.store, config: this.config, hasher: this.hasher, fingerprint: this.fingerprint, items: this.items, cache: this.tablesCache };
    result.rebuilt = await applyBatch(ctx, byUser, result);
    for (const userId of result.rebuilt) await this.rebuildUnlocked(userId);
    return result;
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
    this.tablesCache.delete(userId);
    const headBlob = await this.store.get(K.head(userId));
    if (!headBlob) return;
    const head = decodeHead(headBlob);
    const segs = await this.loadSegments(userId, head, head.segments.length);
    const plan = await rebuildUserState(this.store, head, segs, this.config, this.hasher, this.fingerprint);
    const out = new Writes();
    // The newest segment goes inline in the head, the others to their (new) keys.
    const ids = plan.head.segments.map((s) => s.id);
    const newest = ids[ids.length - 1];
    plan.head.open = ids.length ? encodeSegment(plan.segments.get(newest)!) : null;
    // Seqs stay monotonic across a rebuild: the new blob folds everything up to the old tailSeq,
    // and at least 1: a format-3 head has a blob exactly when its foldedSeq is above 0.
    plan.head.tailSeq = plan.head.foldedSeq = Math.max(head.tailSeq, 1);
    writeUserState(out, userId, plan.head, encodeTables(plan.tables, { dtype: 'auto' }));
    for (const id of ids) if (id !== newest) out.sets.push([K.segment(userId, id), encodeSegment(plan.segments.get(id)!)]);
    for (const id of plan.removedSegments) out.dels.push(K.segment(userId, id));
    await out.queue(this.store.transaction()).exec();
  }

  /** The live entries of the newest `n` segments (the inline one from the head, the others from their keys; a lost key gives none). */
  private async loadSegments(userId: string, head: Head, n: number): Promise<Map<number, Entry[]>> {
    const out = new Map<number, Entry[]>();
    const segs = head.segments;
    const keyed: SegmentMeta[] = [];
    for (let i = Math.max(0, segs.length - n); i < segs.length; i++) {
      if (i === segs.length - 1 && head.open) out.set(segs[i].id, decodeSegment(head.open, segs[i].skip));
      else keyed.push(segs[i]);
    }
    if (keyed.length) {
      const p = this.store.pipeline();
      for (const m of keyed) p.get(K.segment(userId, m.id));
      const raw = (await p.exec()) as (Buffer | null)[];
      keyed.forEach((m, i) => out.set(m.id, raw[i] ? decodeSegment(raw[i]!, m.skip) : []));
    }
    return out;
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The newest `limit` behaviours, newest first. */
  async getHistory(userId: string, limit = 100): Promise<HistoryEntry[]> {
    const headBlob = await this.store.get(K.head(userId));
    if (!headBlob || limit <= 0) return [];
    const head = decodeHead(headBlob);
    let need = 0;
    for (let i = head.segments.length - 1, n = 0; i >= 0 && n < limit; i--, need++) n += head.segments[i].count;
    const segs = await this.loadSegments(userId, head, need);
    const out: HistoryEntry[] = [];
    for (let i = head.segments.length - 1; i >= head.segments.length - need; i--) {
      const entries = segs.get(head.segments[i].id)!;
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

  /** The encoded tables, blob and delta tail together (what ranking reads: libs/sdim readUserTables), or null. */
  async getTablesBlob(userId: string): Promise<Buffer | null> {
    return readUserTables(this.store, userId, this.hasher);
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
    this.tablesCache.delete(userId);
    const headBlob = await this.store.get(K.head(userId));
    const tx = this.store.transaction();
    if (headBlob) for (const s of decodeHead(headBlob).segments) tx.del(K.segment(userId, s.id));
    tx.del(K.head(userId)).del(K.tables(userId)).del(K.tail(userId)).del(K.embedding(userId));
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
