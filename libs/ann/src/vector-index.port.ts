/**
 * VectorIndex: approximate (or exact) nearest-neighbour search over string item ids.
 * Implementations: exact (brute force, the recall oracle), HNSW (hnswlib, through the native addon
 * in native/hnsw or hnswlib-node), SPANN-style hybrid.
 *
 * Invariants (checked by vector-index.contract.ts against every implementation):
 * - search never returns a removed id, nor an id outside filter.groups, nor an id in filter.excludeIds;
 * - when at least k ids pass the filter, search returns k hits (approximate indexes may miss some
 *   true neighbours, but never return fewer than k because of filtering);
 * - hits are sorted by ascending distance;
 * - upsert of an existing id replaces its vector and group.
 */
export type Metric = 'l2' | 'ip' | 'cosine';

/**
 * Distances follow hnswlib: l2 = squared euclidean, ip = 1 - dot, cosine = 1 - cos.
 * Smaller is nearer for every metric.
 */
export interface SearchHit {
  id: string;
  distance: number;
}

export interface SearchFilter {
  /** Only items whose group is in this set. */
  groups?: Iterable<string>;
  /** Never these ids (e.g. items the user has already seen). */
  excludeIds?: Iterable<string>;
}

export interface SearchOptions {
  /** Per-query override of the search breadth (HNSW ef, SPANN max probed lists...). */
  [param: string]: number | undefined;
}

export interface VectorIndex {
  readonly kind: 'exact' | 'hnsw' | 'spann';
  readonly dim: number;
  readonly metric: Metric;
  size(): number;
  has(id: string): boolean;
  upsert(id: string, vector: Float32Array | number[], group?: string): void;
  /** Returns false when the id was not present. */
  remove(id: string): boolean;
  search(query: Float32Array | number[], k: number, filter?: SearchFilter, options?: SearchOptions): SearchHit[];
  /** Bytes resident in memory for this index (vectors, graph, tables), not counting the disk part. */
  memoryBytes(): number;
  params(): Record<string, unknown>;
  /** Writes a snapshot into dir (created if missing). */
  save(dir: string): Promise<void>;
}
