import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { SdimHasher } from '@recsys/sdim';
import { behaviorKeys as K } from './behavior-keys';
import { BehaviorRepositoryConfig, ItemInput, UpsertItemResult } from './behavior.types';
import { MAX_ID_BYTES } from './history';
import { ItemRecord, decodeItem, encodeItem, sameEmbedding } from './item-record';

/**
 * Item embeddings as the behavior service knows them, with versions, and a short-lived cache of
 * decoded records. A cached record may lag a catalog change by up to itemCacheMs: a behaviour in
 * that window enters the tables with the previous embedding version, and the history records that
 * version, so its eviction still removes exactly what was added.
 */
export class ItemCatalog {
  /** Insertion-ordered map with FIFO eviction: a hit costs one Map lookup (items are read far more than written). */
  private readonly cache = new Map<string, { rec: ItemRecord; until: number }>();
  private readonly capacity: number;

  constructor(
    private readonly store: StateStore,
    private readonly config: BehaviorRepositoryConfig,
    private readonly hasher: SdimHasher,
    private readonly fingerprint: number,
  ) {
    this.capacity = config.itemCacheMs > 0 ? config.itemCacheSize : 0;
  }

  /** A fresh cached record, if any. */
  peek(itemId: string, now = Date.now()): ItemRecord | undefined {
    const c = this.cache.get(itemId);
    if (!c) return undefined;
    if (c.until < now) {
      this.cache.delete(itemId);
      return undefined;
    }
    return c.rec;
  }

  remember(rec: ItemRecord, now = Date.now()): void {
    if (this.capacity <= 0) return;
    this.cache.delete(rec.itemId);
    this.cache.set(rec.itemId, { rec, until: now + this.config.itemCacheMs });
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Decodes a stored record and caches it. */
  decode(itemId: string, buf: Buffer | null): ItemRecord | null {
    if (!buf) return null;
    const rec = decodeItem(itemId, buf);
    this.remember(rec);
    return rec;
  }

  /** Current records from the store (bypassing the cache, refreshing it). */
  async load(ids: readonly string[]): Promise<Map<string, ItemRecord | null>> {
    const out = new Map<string, ItemRecord | null>();
    if (!ids.length) return out;
    const p = this.store.pipeline();
    for (const id of ids) p.get(K.item(id));
    const raw = (await p.exec()) as (Buffer | null)[];
    ids.forEach((id, i) => out.set(id, this.decode(id, raw[i])));
    return out;
  }

  /** Upserts in one read pipeline and one write pipeline. A changed embedding gets a new version. */
  async upsert(items: readonly ItemInput[]): Promise<UpsertItemResult[]> {
    const results: UpsertItemResult[] = new Array(items.length);
    const valid: number[] = [];
    items.forEach((it, i) => {
      const reason = this.problem(it);
      if (reason) results[i] = { itemId: String(it?.itemId), status: 'rejected', version: 0, reason };
      else valid.push(i);
    });
    const current = await this.load([...new Set(valid.map((i) => items[i].itemId))]);
    const batch = this.store.pipeline();
    const written: ItemRecord[] = [];
    for (const i of valid) {
      const it = items[i];
      const cur = current.get(it.itemId) ?? null;
      const embedding = Float32Array.from(it.embedding);
      const updatedAt = it.updatedAt ?? Date.now();
      if (cur && updatedAt < cur.updatedAt) {
        results[i] = { itemId: it.itemId, status: 'stale', version: cur.version };
        continue;
      }
      const same = cur !== null && sameEmbedding(cur.embedding, embedding);
      const group = it.group ?? cur?.group ?? '';
      if (same && cur!.group === group && !cur!.deleted) {
        results[i] = { itemId: it.itemId, status: 'unchanged', version: cur!.version };
        continue;
      }
      const rec: ItemRecord = {
        itemId: it.itemId,
        embedding: same ? cur!.embedding : embedding,
        version: same ? cur!.version : (cur?.version ?? 0) + 1,
        updatedAt,
        deleted: false,
        group,
        fingerprint: this.fingerprint,
        signatures: Uint8Array.from(this.hasher.signatures(embedding)),
      };
      const blob = encodeItem(rec);
      // The version key first: a crash in between leaves a version nobody points to yet, which the
      // retried upsert rewrites identically.
      batch.set(K.itemVersion(rec.itemId, rec.version), blob).set(K.item(rec.itemId), blob);
      written.push(rec);
      current.set(rec.itemId, rec);
      results[i] = { itemId: it.itemId, status: cur ? 'updated' : 'created', version: rec.version };
    }
    if (written.length) await batch.exec();
    for (const rec of written) this.remember(rec);
    return results;
  }

  /**
   * Marks the item deleted. Its embedding versions stay: histories still hold behaviours on it and
   * their eviction must subtract exactly what was added. Behaviours on a deleted item are still
   * accepted (a click that happened before the deletion is a real signal).
   */
  async delete(itemId: string, deletedAt: number): Promise<boolean> {
    const cur = (await this.load([itemId])).get(itemId);
    if (!cur) return false;
    if (cur.deleted || deletedAt < cur.updatedAt) return true;
    const rec = { ...cur, deleted: true, updatedAt: deletedAt };
    await this.store.set(K.item(itemId), encodeItem(rec));
    this.remember(rec);
    return true;
  }

  private problem(it: ItemInput): string | undefined {
    const d = this.config.sdim.d;
    if (!it || typeof it.itemId !== 'string' || it.itemId.length === 0) return 'itemId must be a non-empty string';
    if (Buffer.byteLength(it.itemId) > MAX_ID_BYTES) return `itemId longer than ${MAX_ID_BYTES} bytes`;
    if (!it.embedding || it.embedding.length !== d) return `embedding must have dimension ${d}, got ${it.embedding?.length}`;
    const bound = this.config.embeddingBound;
    for (let k = 0; k < d; k++) {
      const v = it.embedding[k];
      if (typeof v !== 'number' || !(Math.abs(v) <= bound)) return `embedding[${k}] must be a finite number with |x| <= ${bound}`;
    }
    if (it.updatedAt !== undefined && !Number.isFinite(it.updatedAt)) return 'updatedAt must be a finite number';
    return undefined;
  }
}
