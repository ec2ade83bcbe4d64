import type { SdimHasher } from '@recsys/sdim';
import { fnv1a32 } from './fnv1a';

/**
 * What ranking keeps per catalog item: the raw attributes the feature spec reads (embedding,
 * genres, year) plus what is costly per request and independent of the model: the id hash and the
 * SDIM signatures of the embedding (fixed by the deployment's hash functions).
 */
export interface ItemFeatures {
  readonly itemId: string;
  readonly embedding: Float32Array;
  readonly genres: readonly string[];
  /** undefined: unknown year (the spec's yearDefault applies). */
  readonly year: number | undefined;
  /** fnv1a32(itemId); the bucket is hash % hash.itemBuckets. */
  readonly hash: number;
  /** SDIM signatures (m / tau values) of the float32 embedding. */
  readonly signatures: Uint16Array;
}

export interface ItemInput {
  itemId: string;
  embedding: ArrayLike<number>;
  genres?: readonly string[];
  year?: number;
}

/** Reads genres and year from catalog.items attributes (CONTRACT.md section 3). */
export function itemAttributes(attributes: Record<string, unknown> | undefined): { genres: string[]; year: number | undefined } {
  const g = attributes?.genres;
  const genres = Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string') : typeof g === 'string' ? [g] : [];
  const y = attributes?.year;
  const year = typeof y === 'number' && Number.isFinite(y) ? y : undefined;
  return { genres, year };
}

/**
 * In-memory item feature table, one per process; reads are plain Map look-ups on the request path.
 * Embeddings are stored as float32, as the behavior service stores them for the SDIM tables.
 */
export class ItemFeatureTable {
  private readonly items = new Map<string, ItemFeatures>();

  constructor(readonly hasher: SdimHasher) {}

  get size(): number {
    return this.items.size;
  }

  get(itemId: string): ItemFeatures | undefined {
    return this.items.get(itemId);
  }

  /** Throws RangeError when the embedding does not have the deployment's dimension. */
  upsert(item: ItemInput): ItemFeatures {
    const d = this.hasher.config.d;
    if (item.embedding.length !== d) throw new RangeError(`item ${item.itemId}: embedding has dimension ${item.embedding.length}, expected ${d}`);
    const embedding = Float32Array.from(item.embedding);
    const f: ItemFeatures = {
      itemId: item.itemId,
      embedding,
      genres: [...(item.genres ?? [])],
      year: item.year,
      hash: fnv1a32(item.itemId),
      signatures: this.hasher.signatures(embedding, new Uint16Array(this.hasher.groups)),
    };
    this.items.set(item.itemId, f);
    return f;
  }

  delete(itemId: string): boolean {
    return this.items.delete(itemId);
  }
}
