import { MAX_ABS_COMPONENT, MAX_BUCKET_COUNT, type SdimConfig } from '@recsys/sdim';

/**
 * A behaviour as the repository takes it. `ts` is the event time (epoch ms); events straight from
 * the user.behaviors topic carry it as `timestamp`, which is accepted as well.
 */
export interface BehaviorInput {
  eventId: string;
  userId: string;
  itemId: string;
  type: string;
  ts?: number;
  timestamp?: number;
}

export interface HistoryEntry {
  eventId: string;
  itemId: string;
  type: string;
  /** Event time, epoch ms. */
  ts: number;
}

export interface ItemInput {
  itemId: string;
  embedding: ArrayLike<number>;
  group?: string;
  /** Time of the catalog change (epoch ms); an upsert older than the stored one is ignored. */
  updatedAt?: number;
}

export interface BehaviorRepositoryConfig {
  /** Hash functions; `d` must equal the item embedding dimension. */
  sdim: SdimConfig;
  /** Behaviours kept per user (the newest by event time). Default 10,000. */
  historyCap: number;
  /** Entries per history segment blob. Default 256. */
  segmentSize: number;
  /**
   * Largest |component| accepted in an item embedding. Default 1024, the limit under which the
   * float64 bucket sums stay exact (libs/sdim snap()). The tables blob is int32 fixed point (4 bytes
   * per value) while every bucket sum is below 2^15 in magnitude, e.g. always for |x_i| <= 1 and
   * a cap below 32,768, and float64 (8 bytes, equally exact) otherwise; ranking reads both.
   */
  embeddingBound: number;
  /** Half-life of the recency weights of the user embedding. Default 7 days. */
  halfLifeMs: number;
  /**
   * Behaviour types that enter the history, the SDIM tables and the user embedding: positive
   * engagement. Others (hide, dislike, unknown types) are counted as ignored and change nothing.
   */
  tableTypes: ReadonlySet<string>;
  /** How long a decoded item record is reused without reading the store. Default 30 s; 0 disables. */
  itemCacheMs: number;
  itemCacheSize: number;
  /**
   * Bytes of tables blobs this writer keeps of the users it wrote last (TablesCache), so that a
   * user's next batch does not read its blob back; default 64 MiB (about 2,000 users at m=48,
   * tau=3, d=64, whose blobs fill to 33 KB). Used only while the stored head carries the stamp of
   * our own write. 0 disables.
   */
  tablesCacheBytes: number;
  /**
   * 'batch' (default): reads are one MGET per round trip and writes one MULTI for the whole batch,
   * the cheapest on a single Redis (a MGET or MULTI may not span Cluster slots). 'user': reads are
   * pipelined GETs and writes one MULTI per user, all sent at once: atomic per user and slot-local
   * thanks to the {u:<id>} hash tag, the mode for Redis Cluster (whose adapter must also split the
   * read pipelines by slot).
   */
  writeMode: 'user' | 'batch';
  /**
   * Table updates a user's delta tail (libs/sdim tail.ts) may hold; default 64. A batch that would
   * take the tail past it folds tail and batch into the tables blob (one blob read, unless cached,
   * and one blob write) instead of appending deltas. Readers apply at most this many deltas.
   */
  tailFoldAt: number;
}

/** The positive engagement types of libs/contracts `behaviorTypes` (all but hide and dislike). */
export const DEFAULT_TABLE_TYPES: ReadonlySet<string> = new Set(['view', 'click', 'like', 'add_to_cart', 'purchase', 'share']);

export const DEFAULT_SDIM_CONFIG: SdimConfig = { seed: 20220517, m: 48, tau: 3, d: 64 };

export function behaviorRepositoryConfig(overrides: Partial<BehaviorRepositoryConfig> = {}): BehaviorRepositoryConfig {
  const c: BehaviorRepositoryConfig = {
    sdim: DEFAULT_SDIM_CONFIG,
    historyCap: 10_000,
    segmentSize: 256,
    halfLifeMs: 7 * 24 * 3600 * 1000,
    embeddingBound: MAX_ABS_COMPONENT,
    tableTypes: DEFAULT_TABLE_TYPES,
    itemCacheMs: 30_000,
    itemCacheSize: 100_000,
    tablesCacheBytes: 64 * 2 ** 20,
    writeMode: 'batch',
    tailFoldAt: 64,
    ...overrides,
  };
  if (!Number.isInteger(c.historyCap) || c.historyCap < 1) throw new RangeError(`historyCap must be a positive integer, got ${c.historyCap}`);
  if (!Number.isInteger(c.segmentSize) || c.segmentSize < 2 || c.segmentSize > 65535) throw new RangeError(`segmentSize must be in 2..65535`);
  if (!Number.isInteger(c.tailFoldAt) || c.tailFoldAt < 0) throw new RangeError(`tailFoldAt must be a non-negative integer, got ${c.tailFoldAt}`);
  if (!(c.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be positive`);
  if (c.historyCap > MAX_BUCKET_COUNT) throw new RangeError(`historyCap must be at most ${MAX_BUCKET_COUNT} (bucket counts of the SDIM tables)`);
  if (!(c.embeddingBound > 0 && c.embeddingBound <= MAX_ABS_COMPONENT)) throw new RangeError(`embeddingBound must be in (0, ${MAX_ABS_COMPONENT}]`);
  return c;
}

export interface UnknownItemEvent {
  /** Index of the event in the applyBehaviors input. */
  index: number;
  eventId: string;
  userId: string;
  itemId: string;
}

export interface RejectedEvent {
  index: number;
  code: 'invalid_event';
  reason: string;
}

export interface ApplyResult {
  /** Events that entered a history (and the tables). */
  applied: number;
  /** Events already in the history (replays, redeliveries, repeats within the batch). */
  duplicates: number;
  /** Events of a type that does not enter the tables. */
  ignored: number;
  /** Events older than everything a full history keeps: they would be evicted at once. */
  dropped: number;
  /** Older entries evicted by the cap. */
  evicted: number;
  /** Events whose item has no embedding yet: not applied; retry later or dead-letter. */
  unknownItems: UnknownItemEvent[];
  /** Malformed events (dead-letter them). */
  rejected: RejectedEvent[];
  /** Users whose tables were rebuilt from their history because an evicted item version was missing. */
  rebuilt: string[];
}

export type UpsertItemStatus = 'created' | 'updated' | 'unchanged' | 'stale' | 'rejected';

export interface UpsertItemResult {
  itemId: string;
  status: UpsertItemStatus;
  /** Embedding version after the call (0 when rejected). */
  version: number;
  reason?: string;
}

export interface UserEmbedding {
  /** Recency-weighted mean of the behaviour embeddings (not normalised). */
  vector: Float32Array;
  /** Behaviours in the history. */
  count: number;
  /** Event time of the newest behaviour. */
  newestTs: number;
}
