import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { ExactIndex } from '../../../../libs/ann/src/exact.index';
import { HnswIndex, HnswParams } from '../../../../libs/ann/src/hnsw.index';
import { SpannIndex } from '../../../../libs/ann/src/spann';
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
      case 'spann':
        return SpannIndex.create({ dir: this.liveDir(namespace), dim, metric });
    }
  }

  private liveDir(name: string): string {
    return join(this.dataDir, 'spann-live', `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  }

  async load(kind: IndexKind, dir: string): Promise<VectorIndex> {
    switch (kind) {
      case 'exact':
        return ExactIndex.load(dir);
      case 'hnsw':
        return HnswIndex.load(dir);
      case 'spann': {
        // SPANN writes its posting file in place: work on a copy so the snapshot stays immutable
        // (and can be deleted once a newer one exists) while the live index keeps changing.
        const live = this.liveDir(basename(dir));
        await fsp.cp(dir, live, { recursive: true });
        return SpannIndex.open(live);
      }
    }
  }
}
