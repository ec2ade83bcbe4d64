/**
 * SPANN-style memory-disk hybrid index (see spann.index.ts).
 *
 * Benchmark sweep parameters (per query, SearchOptions): `maxLists` (lists probed, the main
 * recall/speed knob, default 16) and `maxDistRatio` (query-aware pruning on squared routing
 * distances, default 2; SPTAG's 10000 turns it off); `graphEf` widens the centroid search.
 */
import type { Metric } from '../vector-index.port';
import { SpannIndex } from './spann.index';
import type { SpannParams } from './spann.params';

export { SpannIndex, type SpannCreateOptions } from './spann.index';
export type { SpannBuildOptions } from './spann.build';
export { DEFAULT_SPANN_PARAMS, type SpannParams } from './spann.params';
export { availableIoModes, defaultIoMode, type PostingIoMode } from './posting-io';

/** SearchOptions keys the benchmark sweeps (maxLists first). */
export const SPANN_SWEEP_KEYS = ['maxLists', 'maxDistRatio'] as const;

/**
 * Builds a SPANN index for the benchmark: the first n rows of vectors (row-major, dim floats
 * each) with ids "0".."n-1", posting file in dir, default parameters unless overridden.
 */
export async function buildSpannForBench(
  vectors: Float32Array,
  n: number,
  dim: number,
  metric: Metric,
  dir: string,
  onProgress?: (fraction: number, phase: string) => void,
  params?: Partial<SpannParams>,
): Promise<SpannIndex> {
  const ids = Array.from({ length: n }, (_, i) => String(i));
  return SpannIndex.build({ dir, dim, metric, vectors: vectors.subarray(0, n * dim), ids, params, onProgress });
}
