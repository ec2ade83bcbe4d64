import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { ExactIndex } from '@recsys/ann/exact.index';
import { HnswIndex, HnswParams } from '@recsys/ann/hnsw.index';
import { SpannIndex } from '@recsys/ann/spann';
import type { Metric, VectorIndex } from '@recsys/ann/vector-index.port';

export type IndexKind = VectorIndex['kind'];

export interface IndexFactory {
  create(kind: IndexKind, namespace: string, dim: number, metric: Metric): VectorIndex;
  load(kind: IndexKind, dir: string): Promise<VectorIndex>;
  /** An index is no longer used (replaced by a rebuild, or a failed rebuild's): free its files. */
  release?(index: VectorIndex): Promise<void>;
}

/**
 * Builds indexes for the retrieval service. SPANN keeps its posting lists on disk, so it gets a
 * working directory under dataDir/spann-live; HNSW and exact live in memory and only touch disk
 * on snapshot.
 *
 * Garbage: a working directory belongs to one live index. It is deleted when that index is
 * released (replaced by a rebuild), and collectGarbage() at startup deletes the directories that
 * no index of this process owns (left by earlier processes: after a restart the indexes are
 * reloaded from the snapshot into fresh directories). Snapshot folders are pruned by CatalogIndex.
 */
export class DefaultIndexFactory implements IndexFactory {
  /** Working directory of each SPANN index this factory made. */
  private readonly workDirs = new Map<VectorIndex, string>();

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
        const dir = this.liveDir(namespace);
        return this.own(SpannIndex.create({ dir, dim, metric }), dir);
      }
    }
  }

  async release(index: VectorIndex): Promise<void> {
    const dir = this.workDirs.get(index);
    if (dir === undefined) return;
    this.workDirs.delete(index);
    (index as SpannIndex).close();
    await fsp.rm(dir, { recursive: true, force: true });
  }

  /** Deletes the SPANN working directories no index of this factory owns; returns them. */
  async collectGarbage(): Promise<string[]> {
    const root = join(this.dataDir, 'spann-live');
    const owned = new Set(this.workDirs.values());
    let entries: string[];
    try {
      entries = await fsp.readdir(root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const removed: string[] = [];
    for (const name of entries) {
      const dir = join(root, name);
      if (owned.has(dir)) continue;
      await fsp.rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
    return removed;
  }

  private own(index: SpannIndex, dir: string): SpannIndex {
    this.workDirs.set(index, dir);
    return index;
  }

  private liveDir(name: string): string {
    return join(this.dataDir, 'spann-live', `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  }

  async load(kind: IndexKind, dir: string): Promise<VectorIndex> {
    switch (kind) {
      case 'exact':
        return ExactIndex.load(dir);
      case 'hnsw':
        return HnswIndex.load(dir, this.hnsw.engine ? { engine: this.hnsw.engine } : {});
      case 'spann': {
        // SPANN writes its posting file in place: work on a copy so the snapshot stays immutable
        // (and can be deleted once a newer one exists) while the live index keeps changing.
        const live = this.liveDir(basename(dir));
        await fsp.cp(dir, live, { recursive: true });
        return this.own(await SpannIndex.open(live), live);
      }
    }
  }
}
