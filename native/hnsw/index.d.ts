/**
 * Zero-copy binding of hnswlib 0.8.0's HierarchicalNSW (see README.md). Vectors are read straight
 * out of Float32Arrays; search results are written into caller-owned typed arrays. Distances
 * follow hnswlib: l2 = squared euclidean, ip = 1 - dot, cosine = 1 - dot of normalised vectors.
 * Labels are unsigned 32-bit integers. Every method throws a JavaScript Error on bad input
 * (wrong type or dimension, non-finite component) or an hnswlib failure ("hnswlib: ...").
 */
export type SpaceName = 'l2' | 'ip' | 'cosine';

export interface InitOptions {
  maxElements: number;
  /** Graph degree (default 16). */
  m?: number;
  /** Default 200. */
  efConstruction?: number;
  /** Default 100. */
  randomSeed?: number;
  /** Lets addPoint(v, label, true) reuse the slot of a markDeleted element (default false). */
  allowReplaceDeleted?: boolean;
}

/**
 * A label passes when every given part admits it:
 * - allowBits: bit (label & 7) of byte (label >> 3) is set (labels past the end are refused);
 * - allowedGroups + labelGroups: allowedGroups[labelGroups[label]] is non-zero (a negative or
 *   missing group code is refused);
 * - excluded: the label is not in the list (any order).
 * Checked in C++ for each candidate; the arrays are read during the call only.
 */
export interface LabelFilter {
  allowBits?: Uint8Array | null;
  labelGroups?: Int32Array | null;
  allowedGroups?: Uint8Array | null;
  excluded?: Uint32Array | null;
}

export class HierarchicalNSW {
  constructor(space: SpaceName, dim: number);
  initIndex(options: InitOptions): void;
  /** Loads an hnswlib index file (as written by writeIndex, hnswlib-node or Python hnswlib) off the JS thread. */
  readIndex(path: string, allowReplaceDeleted?: boolean): Promise<void>;
  readIndexSync(path: string, allowReplaceDeleted?: boolean): void;
  /** Writes the index in hnswlib's file format off the JS thread; changes are refused until it settles. */
  writeIndex(path: string): Promise<void>;
  writeIndexSync(path: string): void;
  resizeIndex(maxElements: number): void;
  /** Adds label, or replaces its vector (and undeletes it) when it exists. */
  addPoint(vector: Float32Array, label: number, replaceDeleted?: boolean): void;
  markDelete(label: number): void;
  unmarkDelete(label: number): void;
  /** false when the label is live or absent. */
  isMarkedDeleted(label: number): boolean;
  /**
   * Writes the (up to) k nearest admitted live labels and their distances, nearest first, into
   * outLabels / outDistances (each at least k long) and returns how many were written.
   */
  searchKnn(query: Float32Array, k: number, outLabels: Uint32Array, outDistances: Float32Array, filter?: LabelFilter | null): number;
  /** Copies the stored vector of a live label (normalised, for cosine) into out. */
  getPoint(label: number, out: Float32Array): void;
  getMaxElements(): number;
  getCurrentCount(): number;
  getDeletedCount(): number;
  getEf(): number;
  setEf(ef: number): void;
  getNumDimensions(): number;
  getSpace(): SpaceName;
  /**
   * 'fast': unfiltered searches of a graph without deleted elements run src/fast_search.h (the same
   * walk as hnswlib's, inlined SIMD kernels, prefetching, no per-query allocation); filtered ones and
   * graphs with deletions use hnswlib's searchKnn. 'hnswlib': every search uses hnswlib's searchKnn
   * (RECSYS_HNSW_SEARCH=hnswlib in the environment when the index was constructed, or setSearchPath).
   */
  getSearchPath(): 'fast' | 'hnswlib';
  /** Chooses the search path of unfiltered searches (a cross-check and benchmark switch; answers are the same). */
  setSearchPath(path: 'fast' | 'hnswlib'): void;
}

/** How this copy was compiled: -march value, hnswlib's distance kernels (builds, filtered searches) and those of the unfiltered search path. */
export const buildInfo: { march: string; simd: 'avx512' | 'avx' | 'sse' | 'scalar'; hnswlib: string; searchSimd: 'avx512' | 'avx2' | 'scalar' };
