import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { distanceAt, prepareVector } from './distance';
import { compileFilter, GroupCodes, idTableBytes, NO_GROUP, passes, type CompiledFilter } from './groups';
import { HnswlibNodeEngine } from './hnsw-engine.hnswlib-node.adapter';
import { NativeHnswEngine } from './hnsw-engine.native.adapter';
import { HNSW_ENGINES, type HnswEngine, type HnswEngineName } from './hnsw-engine.port';
import { TopK } from './topk';
import type { Metric, SearchFilter, SearchHit, SearchOptions, VectorIndex } from './vector-index.port';

export interface HnswParams {
  /** Graph degree (hnswlib M). */
  m?: number;
  efConstruction?: number;
  /** Default search breadth; a query may override it with options.ef. */
  ef?: number;
  seed?: number;
  /** Labels allocated up front; the index doubles itself when full. */
  initialCapacity?: number;
  /**
   * A filtered query whose filter admits at most this many items is answered by an exact scan
   * over those items instead of the graph (the graph would visit far more nodes to find them).
   */
  exactScanBelow?: number;
  /**
   * Which binding runs the hnswlib graph: 'native' (default; the repo's zero-copy addon in
   * native/hnsw) or 'hnswlib-node'. Both read and write the same index file.
   */
  engine?: HnswEngineName;
}

export type { HnswEngineName } from './hnsw-engine.port';

function createEngine(name: HnswEngineName, metric: Metric, dim: number): HnswEngine {
  switch (name) {
    case 'native':
      return new NativeHnswEngine(metric, dim);
    case 'hnswlib-node':
      return new HnswlibNodeEngine(metric, dim);
    default:
      throw new Error(`HnswIndex: unknown engine '${String(name)}' (expected ${HNSW_ENGINES.join(' or ')})`);
  }
}

const INDEX_FILE = 'hnsw.index';
const META_FILE = 'hnsw.meta.json';

interface HnswMeta {
  kind: 'hnsw';
  version: 1;
  dim: number;
  metric: Metric;
  /** engine may be absent in snapshots written before engines existed (they used hnswlib-node; the file format is the same). */
  params: Omit<Required<HnswParams>, 'engine'> & { engine?: HnswEngineName };
  /** labelIds[label]: the item id, or null for a freed (markDeleted) label. */
  labelIds: Array<string | null>;
  groupNames: string[];
  labelGroup: number[];
}

/**
 * HNSW over hnswlib (through an HnswEngine: the native addon or hnswlib-node). Item ids are
 * strings; hnswlib labels are dense integers 0..used-1 that we hand out ourselves.
 *
 * Deletion: remove() calls markDelete and pushes the label on a free list; a later insert pops
 * it, unmarkDeletes it and overwrites it in place (addPoint on an existing label re-links the
 * node), so freed slots are reused and labels stay dense. We never pass replaceDeleted=true:
 * hnswlib would then pick an arbitrary deleted node and re-label it, leaving our label table
 * unable to know which old label vanished (and a stale label could later erase a live one).
 *
 * Filters run inside hnswlib's search through its filter (a C++ functor over typed arrays in the
 * native engine, a JS callback in hnswlib-node), called with labels, so a
 * forbidden item never enters the result. hnswlib's filtered search keeps expanding until it
 * holds ef admitted nodes, so it returns k whenever k admitted nodes are reachable; two
 * safeguards make "k when k pass" hold regardless: (1) a selective filter, admitting at most
 * exactScanBelow items and at most half of the live ones, is answered by an exact scan over those
 * items (cheaper than a graph walk that skips most of what it visits; a filter that only excludes
 * a user's few seen items from a small catalog stays on the graph, where it costs nothing); (2) if the graph returns fewer than k while more pass, the query is
 * re-answered by the exact scan. Both are counted in stats().
 */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  private readonly engine: HnswEngine;
  private readonly p: Required<HnswParams>;
  private capacity: number;
  /** Labels handed out so far (hnswlib's element count). */
  private used = 0;
  private labelIds: Array<string | undefined> = [];
  private labelGroup: Int32Array;
  private readonly idLabel = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly groups = new GroupCodes();
  private idChars = 0;
  private currentEf: number;
  private readonly fallbackCounts = { exactScanSelective: 0, exactScanShortfall: 0 };

  constructor(
    readonly dim: number,
    readonly metric: Metric,
    params: HnswParams = {},
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`HnswIndex: bad dim ${dim}`);
    this.p = {
      m: params.m ?? 16,
      efConstruction: params.efConstruction ?? 200,
      ef: params.ef ?? 64,
      seed: params.seed ?? 100,
      initialCapacity: Math.max(16, params.initialCapacity ?? 1024),
      exactScanBelow: params.exactScanBelow ?? 2000,
      engine: params.engine ?? 'native',
    };
    this.capacity = this.p.initialCapacity;
    this.engine = createEngine(this.p.engine, metric, dim);
    this.engine.init(this.capacity, this.p.m, this.p.efConstruction, this.p.seed);
    this.currentEf = this.p.ef;
    this.engine.setEf(this.currentEf);
    this.labelGroup = new Int32Array(this.capacity).fill(NO_GROUP);
  }

  size(): number {
    return this.idLabel.size;
  }

  has(id: string): boolean {
    return this.idLabel.has(id);
  }

  upsert(id: string, vector: Float32Array | number[], group?: string): void {
    if (vector.length !== this.dim) throw new Error(`vector has dimension ${vector.length}, index has ${this.dim}`);
    // The engine validates the vector before it changes anything; our tables change only after it accepted.
    let label = this.idLabel.get(id);
    if (label !== undefined) {
      this.engine.add(vector, label); // existing live label: updated in place
      this.groups.add(this.labelGroup[label], -1);
    } else if (this.free.length > 0) {
      label = this.free[this.free.length - 1];
      this.engine.revive(vector, label);
      this.free.pop();
    } else {
      if (this.used === this.capacity) this.grow();
      label = this.used;
      this.engine.add(vector, label);
      this.used++;
    }
    if (this.labelIds[label] === undefined) {
      this.labelIds[label] = id;
      this.idLabel.set(id, label);
      this.idChars += id.length;
    }
    const code = group === undefined ? NO_GROUP : this.groups.intern(group);
    this.labelGroup[label] = code;
    this.groups.add(code, 1);
  }

  remove(id: string): boolean {
    const label = this.idLabel.get(id);
    if (label === undefined) return false;
    this.engine.markDelete(label);
    this.idLabel.delete(id);
    this.labelIds[label] = undefined;
    this.idChars -= id.length;
    this.groups.add(this.labelGroup[label], -1);
    this.labelGroup[label] = NO_GROUP;
    this.free.push(label);
    return true;
  }

  search(query: Float32Array | number[], k: number, filter?: SearchFilter, options?: SearchOptions): SearchHit[] {
    if (query.length !== this.dim) throw new Error(`query has dimension ${query.length}, index has ${this.dim}`);
    const live = this.idLabel.size;
    const kk = Math.min(Math.max(0, Math.floor(k)), live);
    if (kk === 0) return [];
    const ef = options?.ef ?? this.p.ef;
    if (ef !== this.currentEf) {
      this.engine.setEf(ef);
      this.currentEf = ef;
    }
    if (filter === undefined || (filter.groups === undefined && filter.excludeIds === undefined)) {
      return this.toHits(this.engine.search(query, kk, null));
    }
    const f = compileFilter(filter, this.groups, (id) => this.idLabel.get(id), live);
    if (f.passUpperBound <= this.p.exactScanBelow && 2 * f.passUpperBound <= live) {
      this.fallbackCounts.exactScanSelective++;
      return this.exactScan(query, kk, f);
    }
    const n = this.engine.search(query, kk, { labelGroups: this.labelGroup, allowedGroups: f.allowedGroups, excluded: f.excluded });
    const hits = this.toHits(n);
    if (hits.length < kk && this.passCount(f) > hits.length) {
      // The graph walk ran dry before finding k admitted nodes: answer exactly instead.
      const exact = this.exactScan(query, kk, f);
      if (exact.length > hits.length) {
        this.fallbackCounts.exactScanShortfall++;
        return exact;
      }
    }
    return hits;
  }

  /** How often a filtered query was answered by the exact scan (selective filter / graph shortfall). */
  stats(): { exactScanSelective: number; exactScanShortfall: number } {
    return { ...this.fallbackCounts };
  }

  memoryBytes(): number {
    // hnswlib layout: level 0 = maxElements * (links (2M+1)*4 + vector + label 8);
    // upper levels: on average 1/(M-1) levels per element of (M+1)*4 bytes; label map ~40 B each;
    // the visited-list pool holds maxElements uint16 tags.
    const m = this.p.m;
    const level0 = this.capacity * ((2 * m + 1) * 4 + this.dim * 4 + 8);
    const upper = this.used * (((m + 1) * 4) / (m - 1) + 8);
    const lookup = this.used * 40 + this.capacity * 2;
    return level0 + upper + lookup + this.labelGroup.byteLength + this.free.length * 8 + idTableBytes(this.idLabel.size, this.idChars) + this.groups.memoryBytes();
  }

  params(): Record<string, unknown> {
    const { m, efConstruction, ef, seed, exactScanBelow, engine } = this.p;
    return { metric: this.metric, dim: this.dim, m, efConstruction, ef, seed, exactScanBelow, capacity: this.capacity, engine };
  }

  /** Build facts of the engine (native: -march and SIMD level; hnswlib-node: package version). */
  engineInfo(): Record<string, unknown> {
    return this.engine.info();
  }

  async save(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
    await this.engine.write(join(dir, INDEX_FILE));
    const labelIds: Array<string | null> = [];
    for (let l = 0; l < this.used; l++) labelIds.push(this.labelIds[l] ?? null);
    const meta: HnswMeta = {
      kind: 'hnsw',
      version: 1,
      dim: this.dim,
      metric: this.metric,
      params: { ...this.p, initialCapacity: this.capacity },
      labelIds,
      groupNames: this.groups.allNames(),
      labelGroup: Array.from(this.labelGroup.subarray(0, this.used)),
    };
    // The sidecar is written last: its presence means the graph file is complete.
    await fsp.writeFile(join(dir, META_FILE), JSON.stringify(meta));
  }

  /**
   * Loads a snapshot written by save(). The engine is options.engine if given, else the one that
   * wrote the snapshot, else 'native'; either engine reads a graph file written by the other.
   */
  static async load(dir: string, options: { engine?: HnswEngineName } = {}): Promise<HnswIndex> {
    const meta = JSON.parse(await fsp.readFile(join(dir, META_FILE), 'utf8')) as HnswMeta;
    if (meta.kind !== 'hnsw') throw new Error(`HnswIndex.load: ${dir} holds a ${meta.kind} snapshot`);
    const engine = options.engine ?? meta.params.engine ?? 'native';
    const idx = new HnswIndex(meta.dim, meta.metric, { ...meta.params, engine, initialCapacity: 16 });
    await idx.engine.read(join(dir, INDEX_FILE));
    if (idx.engine.count() !== meta.labelIds.length) {
      throw new Error(`HnswIndex.load: graph holds ${idx.engine.count()} labels, sidecar ${meta.labelIds.length}`);
    }
    idx.capacity = idx.engine.capacity();
    idx.p.initialCapacity = meta.params.initialCapacity;
    idx.engine.setEf(idx.currentEf);
    idx.labelGroup = new Int32Array(idx.capacity).fill(NO_GROUP);
    const codes = meta.groupNames.map((g) => idx.groups.intern(g));
    idx.used = meta.labelIds.length;
    for (let l = 0; l < idx.used; l++) {
      const id = meta.labelIds[l];
      if (id === null) {
        idx.free.push(l); // still markDeleted inside the graph file
        continue;
      }
      idx.labelIds[l] = id;
      idx.idLabel.set(id, l);
      idx.idChars += id.length;
      const g = meta.labelGroup[l];
      const code = g === NO_GROUP ? NO_GROUP : codes[g];
      idx.labelGroup[l] = code;
      idx.groups.add(code, 1);
    }
    return idx;
  }

  /** Exact number of live items a filter admits. */
  private passCount(f: CompiledFilter): number {
    let n = f.passUpperBound;
    if (f.excluded !== null) {
      for (const l of f.excluded) {
        const c = this.labelGroup[l];
        if (f.allowedGroups === null || (c !== NO_GROUP && f.allowedGroups[c] === 1)) n--;
      }
    }
    return n;
  }

  /** Exact answer over the admitted live labels, reading vectors back from the graph. */
  private exactScan(query: Float32Array | number[], k: number, f: CompiledFilter): SearchHit[] {
    const q = prepareVector(query, this.dim, this.metric);
    const top = new TopK(k);
    const v = new Float32Array(this.dim);
    for (let l = 0; l < this.used; l++) {
      if (this.labelIds[l] === undefined || !passes(f, l, this.labelGroup[l])) continue;
      // getPoint returns the stored vector (already normalised for cosine), so the distance
      // equals what hnswlib itself would report.
      this.engine.getPoint(l, v);
      const d = distanceAt(this.metric, q, v, 0, this.dim);
      if (d <= top.bound) top.push(d, l);
    }
    return top.sorted().map((e) => ({ id: this.labelIds[e.slot]!, distance: e.distance }));
  }

  /** The engine's last n results as hits. */
  private toHits(n: number): SearchHit[] {
    const labels = this.engine.labels;
    const dists = this.engine.distances;
    const out: SearchHit[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = this.labelIds[labels[i]];
      if (id === undefined) throw new Error(`hnswlib returned freed label ${labels[i]}`);
      out[i] = { id, distance: dists[i] };
    }
    return out;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    this.engine.resize(cap);
    const g = new Int32Array(cap).fill(NO_GROUP);
    g.set(this.labelGroup);
    this.labelGroup = g;
    this.capacity = cap;
  }
}
