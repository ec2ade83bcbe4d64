import { join } from 'node:path';
import { ExactIndex } from '../../../../libs/ann/src/exact.index';
import { HnswIndex, HnswParams } from '../../../../libs/ann/src/hnsw.index';
import type { Metric, VectorIndex } from '../../../../libs/ann/src/vector-index.port';

export type IndexKind = VectorIndex['kind'];

export interface IndexFactory {
  create(kind: IndexKind, namespace: string, dim: number, metric: Metric): VectorIndex;
  load(kind: IndexKind, dir: string): Promise<VectorIndex>;
}

/**
 * Builds indexes for the retrieval service. SPANN keeps its posting lists on disk, so it gets a
 * working directory under dataDir; HNSW and exact live in memory and only touch disk on snapshot.
 */
export class DefaultIndexFactory implements IndexFactory {
  constructor(
    private readonly dataDir: string,
    private readonly hnsw: HnswParams = {},
  ) {}

  create(kind: IndexKind, namespace: string, dim: number, metric: Metric): VectorIndex {
    switch (kind) {
      case 'exact':
        return new ExactIndex(dim, metric);
      case 'hnsw':
        return new HnswIndex(dim, metric, this.hnsw);
      case 'spann': {
        // Loaded lazily: the SPANN module pulls in its on-disk machinery only when used.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { SpannIndex } = require('../../../../libs/ann/src/spann');
        return SpannIndex.createEmpty({ dir: join(this.dataDir, 'spann-live', `${namespace}-${Date.now().toString(36)}`), dim, metric });
      }
    }
  }

  async load(kind: IndexKind, dir: string): Promise<VectorIndex> {
    switch (kind) {
      case 'exact':
        return ExactIndex.load(dir);
      case 'hnsw':
        return HnswIndex.load(dir);
      case 'spann': {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { SpannIndex } = require('../../../../libs/ann/src/spann');
        return SpannIndex.open(dir);
      }
    }
  }
}
