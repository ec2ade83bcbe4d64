import { HierarchicalNSW } from 'hnswlib-node';
import { NO_GROUP } from './groups';
import type { EngineFilter, HnswEngine } from './hnsw-engine.port';
import type { Metric } from './vector-index.port';

/**
 * HnswEngine over the hnswlib-node package. It takes plain JS arrays (copied element by element
 * through N-API), returns fresh arrays, and runs a filter as a JS callback per candidate.
 */
export class HnswlibNodeEngine implements HnswEngine {
  readonly name = 'hnswlib-node' as const;
  labels = new Uint32Array(64);
  distances = new Float32Array(64);
  private readonly ix: HierarchicalNSW;
  /** Reused argument array: hnswlib-node only accepts plain arrays, so we fill one in place. */
  private readonly arg: number[];

  constructor(
    metric: Metric,
    private readonly dim: number,
  ) {
    this.ix = new HierarchicalNSW(metric, dim);
    this.arg = new Array<number>(dim).fill(0);
  }

  init(capacity: number, m: number, efConstruction: number, seed: number): void {
    this.ix.initIndex(capacity, m, efConstruction, seed, true);
  }

  add(vector: Float32Array | number[], label: number): void {
    this.fillArg(vector);
    this.ix.addPoint(this.arg, label, false);
  }

  revive(vector: Float32Array | number[], label: number): void {
    this.fillArg(vector); // validated before the label is touched
    this.ix.unmarkDelete(label);
    this.ix.addPoint(this.arg, label, false);
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
    this.fillArg(query);
    let r: { distances: number[]; neighbors: number[] };
    if (filter === null) {
      r = this.ix.searchKnn(this.arg, k);
    } else {
      const { labelGroups, allowedGroups, excluded } = filter;
      const admit = (label: number): boolean => {
        if (allowedGroups !== null) {
          const c = labelGroups[label];
          if (c === NO_GROUP || allowedGroups[c] !== 1) return false;
        }
        return excluded === null || !excluded.has(label);
      };
      r = this.ix.searchKnn(this.arg, k, admit);
    }
    const n = r.neighbors.length;
    if (this.labels.length < n) {
      this.labels = new Uint32Array(n);
      this.distances = new Float32Array(n);
    }
    for (let i = 0; i < n; i++) {
      this.labels[i] = r.neighbors[i];
      this.distances[i] = r.distances[i];
    }
    return n;
  }

  getPoint(label: number, out: Float32Array): void {
    const p = this.ix.getPoint(label);
    for (let j = 0; j < this.dim; j++) out[j] = p[j];
  }

  count(): number {
    return this.ix.getCurrentCount();
  }

  capacity(): number {
    return this.ix.getMaxElements();
  }

  async write(path: string): Promise<void> {
    await this.ix.writeIndex(path);
  }

  async read(path: string): Promise<void> {
    await this.ix.readIndex(path, true);
  }

  info(): Record<string, unknown> {
    return { engine: this.name, version: (require('hnswlib-node/package.json') as { version: string }).version };
  }

  private fillArg(v: Float32Array | number[]): void {
    if (v.length !== this.dim) throw new Error(`vector has dimension ${v.length}, index has ${this.dim}`);
    const a = this.arg;
    for (let j = 0; j < this.dim; j++) {
      const x = v[j];
      if (!Number.isFinite(x)) throw new Error(`vector component ${j} is not a finite number`);
      a[j] = x;
    }
  }
}
