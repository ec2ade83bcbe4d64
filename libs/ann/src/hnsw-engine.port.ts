/**
 * HnswEngine: the hnswlib graph behind HnswIndex, with labels (dense integers handed out by
 * HnswIndex) instead of item ids. Two adapters run the same hnswlib 0.8.0 code and read and
 * write the same file format:
 * - 'native' (hnsw-engine.native.adapter.ts): the repo's own addon (native/hnsw), zero-copy
 *   Float32Array in and out, filters checked in C++, built with -march=native;
 * - 'hnswlib-node' (hnsw-engine.hnswlib-node.adapter.ts): the hnswlib-node package (JS arrays,
 *   a JS callback per filtered candidate).
 */
export type HnswEngineName = 'native' | 'hnswlib-node';

export const HNSW_ENGINES: readonly HnswEngineName[] = ['native', 'hnswlib-node'];

/** What a filtered search admits: the label's group must be allowed and the label not excluded. */
export interface EngineFilter {
  /** Group code per label (NO_GROUP = -1 for none); read only when allowedGroups is set. */
  labelGroups: Int32Array;
  /** allowedGroups[code] === 1 admits the group; null: any group (and none) passes. */
  allowedGroups: Uint8Array | null;
  /** Labels never returned; null: none. */
  excluded: Set<number> | null;
}

export interface HnswEngine {
  readonly name: HnswEngineName;
  /** Labels and distances found by the last search(), nearest first; overwritten by the next one. */
  readonly labels: Uint32Array;
  readonly distances: Float32Array;
  init(capacity: number, m: number, efConstruction: number, seed: number): void;
  /**
   * Adds a new label or replaces the vector of a live one. Validates the vector (dimension,
   * finite components) before changing anything.
   */
  add(vector: Float32Array | number[], label: number): void;
  /** Gives a markDeleted label a new vector and makes it live again (same validation as add). */
  revive(vector: Float32Array | number[], label: number): void;
  markDelete(label: number): void;
  resize(capacity: number): void;
  setEf(ef: number): void;
  /** The k nearest live labels the filter admits, into labels/distances; returns how many. */
  search(query: Float32Array | number[], k: number, filter: EngineFilter | null): number;
  /** Copies the stored vector of a live label (normalised, for cosine) into out. */
  getPoint(label: number, out: Float32Array): void;
  /** Labels ever added (hnswlib's element count, deleted ones included). */
  count(): number;
  capacity(): number;
  /** hnswlib's index file format: either engine (and Python hnswlib) reads what the other wrote. */
  write(path: string): Promise<void>;
  read(path: string): Promise<void>;
  /** Build facts for params() and benchmark reports. */
  info(): Record<string, unknown>;
}
