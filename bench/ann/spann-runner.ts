import type { VectorIndex } from '@recsys/ann/vector-index.port';

/**
 * Hook between the benchmark and the SPANN index (libs/ann/src/spann, written separately). The
 * module is required lazily so the harness runs, without a SPANN row, when it is absent or fails
 * to load. The sweep parameter is the per-query SearchOptions key `maxLists`.
 */
export interface SpannRun {
  index: VectorIndex;
  /** SearchOptions key swept per query. */
  sweepKey: string;
}

type SpannModule = {
  buildSpannForBench?: (vectors: Float32Array, n: number, dim: number, metric: 'l2', dir: string) => Promise<VectorIndex>;
};

const MODULE = '../../libs/ann/src/spann/index';

export function loadSpann(): { available: true } | { available: false; reason: string } {
  try {
    const mod = require(MODULE) as SpannModule;
    if (typeof mod.buildSpannForBench !== 'function') return { available: false, reason: 'libs/ann/src/spann has no buildSpannForBench' };
    return { available: true };
  } catch (e) {
    return { available: false, reason: (e as Error).message.split('\n')[0] };
  }
}

/** Builds a SPANN index over base (row-major n x dim, ids "0".."n-1") with its posting file in dir. */
export async function buildSpann(dir: string, dim: number, vectors: Float32Array, n: number): Promise<SpannRun> {
  const mod = require(MODULE) as SpannModule;
  const index = await mod.buildSpannForBench!(vectors, n, dim, 'l2', dir);
  return { index, sweepKey: 'maxLists' };
}
