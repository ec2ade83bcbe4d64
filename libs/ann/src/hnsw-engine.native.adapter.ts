import type * as Addon from '@recsys/hnsw-native';
import type { EngineFilter, HnswEngine } from './hnsw-engine.port';
import type { Metric } from './vector-index.port';

type AddonModule = typeof Addon;
let addon: AddonModule | null = null;

/** The addon is loaded on first use, so the hnswlib-node engine works even where it is not built. */
function loadAddon(): AddonModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, so the hnswlib-node engine works where the addon is not built
  addon ??= require('@recsys/hnsw-native') as AddonModule;
  return addon;
}

/**
 * HnswEngine over the repo's own addon (native/hnsw): vectors go in as Float32Array views (no
 * copy), results come back in the preallocated labels/distances arrays, and a filter is handed
 * over as typed arrays that C++ checks per candidate (no call into JS during the search).
 */
export class NativeHnswEngine implements HnswEngine {
  readonly name = 'native' as const;
  labels = new Uint32Array(64);
  distances = new Float32Array(64);
  private readonly ix: Addon.HierarchicalNSW;
  /** Converted number[] arguments (the addon takes Float32Array only). */
  private readonly scratch: Float32Array;

  constructor(
    metric: Metric,
    private readonly dim: number,
  ) {
    this.ix = new (loadAddon().HierarchicalNSW)(metric, dim);
    this.scratch = new Float32Array(dim);
  }

  init(capacity: number, m: number, efConstruction: number, seed: number): void {
    // allowReplaceDeleted stays false: addPoint on a deleted label then undeletes it itself,
    // after validating the vector, so a rejected vector never leaves a half-revived label.
    this.ix.initIndex({ maxElements: capacity, m, efConstruction, randomSeed: seed, allowReplaceDeleted: false });
  }

  add(vector: Float32Array | number[], label: number): void {
    this.ix.addPoint(this.f32(vector), label);
  }

  revive(vector: Float32Array | number[], label: number): void {
    this.ix.addPoint(this.f32(vector), label);
  }

  markDelete(label: number): void {
    this.ix.markDelete(label);
  }

  resize(capacity: number): void {
    this.ix.resizeIndex(capacity);
  }

  setEf(ef: number): void {
    this.ix.setEf(ef);
  }

  search(query: Float32Array | number[], k: number, filter: EngineFilter | null): number {
    if (this.labels.length < k) {
      this.labels = new Uint32Array(k);
      this.distances = new Float32Array(k);
    }
    const q = this.f32(query);
    if (filter === null) return this.ix.searchKnn(q, k, this.labels, this.distances);
    return this.ix.searchKnn(q, k, this.labels, this.distances, {
      labelGroups: filter.allowedGroups === null ? null : filter.labelGroups,
      allowedGroups: filter.allowedGroups,
      excluded: filter.excluded === null ? null : Uint32Array.from(filter.excluded),
    });
  }

  getPoint(label: number, out: Float32Array): void {
    this.ix.getPoint(label, out);
  }

  count(): number {
    return this.ix.getCurrentCount();
  }

  capacity(): number {
    return this.ix.getMaxElements();
  }

  write(path: string): Promise<void> {
    return this.ix.writeIndex(path);
  }

  read(path: string): Promise<void> {
    return this.ix.readIndex(path, false);
  }

  info(): Record<string, unknown> {
    const b = loadAddon().buildInfo;
    return { engine: this.name, march: b.march, simd: b.simd, searchSimd: b.searchSimd, hnswlib: b.hnswlib };
  }

  private f32(v: Float32Array | number[]): Float32Array {
    if (v instanceof Float32Array) return v;
    if (v.length !== this.dim) throw new Error(`vector has dimension ${v.length}, index has ${this.dim}`);
    this.scratch.set(v);
    return this.scratch;
  }
}
