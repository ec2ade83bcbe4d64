import type { VectorIndex } from '../../libs/ann/src/vector-index.port';

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
  SpannIndex?: {
    build(opts: { dir: string; dim: number; metric: 'l2'; vectors: Float32Array; ids: string[]; params?: Record<string, number> }): Promise<VectorIndex>;
  };
};

export function loadSpann(): { available: true } | { available: false; reason: string } {
  try {
    const mod = require('../../libs/ann/src/spann/spann.index') as SpannModule;
    if (typeof mod.SpannIndex?.build !== 'function') return { available: false, reason: 'spann.index has no SpannIndex.build' };
    return { available: true };
  } catch (e) {
    return { available: false, reason: (e as Error).message.split('\n')[0] };
  }
}

/** Builds a SPANN index over base (row-major n x dim, ids "0".."n-1") with its posting file in dir. */
export async function buildSpann(dir: string, dim: number, vectors: Float32Array, ids: string[]): Promise<SpannRun> {
  const mod = require('../../libs/ann/src/spann/spann.index') as SpannModule;
  const index = await mod.SpannIndex!.build({ dir, dim, metric: 'l2', vectors, ids });
  return { index, sweepKey: 'maxLists' };
}
