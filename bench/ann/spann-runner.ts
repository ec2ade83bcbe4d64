import { buildSpannForBench } from '@recsys/ann/spann/index';
import type { VectorIndex } from '@recsys/ann/vector-index.port';

/** Hook between the benchmark and the SPANN index (libs/ann/src/spann). The sweep parameter is the per-query SearchOptions key `maxLists`. */
export interface SpannRun {
  index: VectorIndex;
  /** SearchOptions key swept per query. */
  sweepKey: string;
}

/** SPANN is part of libs/ann now: always available (kept as a function so the harness reads the same). */
export function loadSpann(): { available: true } | { available: false; reason: string } {
  return { available: true };
}

/** Builds a SPANN index over base (row-major n x dim, ids "0".."n-1") with its posting file in dir. */
export async function buildSpann(dir: string, dim: number, vectors: Float32Array, n: number): Promise<SpannRun> {
  const index = await buildSpannForBench(vectors, n, dim, 'l2', dir);
  return { index, sweepKey: 'maxLists' };
}
