import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Metric, SearchFilter, SearchHit, SearchOptions, VectorIndex } from '../vector-index.port';
import { f64, readSections, u32, writeSections } from './binfile';
import { CentroidGraph } from './centroid-graph';
import { MaxHeap } from './heaps';
import { IdTable } from './id-table';
import { PostingStore } from './posting-store';
import { buildCore, POSTINGS_FILE, type SpannBuildOptions } from './spann.build';
import { InsertScratch, insertVector, newRand, type SpannCore } from './spann.core';
import { resolveParams, type SpannParams } from './spann.params';
import { dot, l2sq } from './vector-math';
import { VectorSpace } from './vector-space';

const META_FILE = 'spann.meta.json';
const GRAPH_FILE = 'spann.centroids';
const IDS_FILE = 'spann.ids';
const LISTS_FILE = 'spann.lists';

interface SpannMeta {
  kind: 'spann';
  version: 1;
  dim: number;
  metric: Metric;
  ipMaxNormSq: number;
  params: SpannParams;
  stats: SpannCore['stats'];
}

export interface SpannCreateOptions {
  dir: string;
  dim: number;
  metric: Metric;
  params?: Partial<SpannParams>;
}

/**
 * SPANN-style memory-disk hybrid index (Chen et al., NeurIPS 2021; SPTAG's SPANN; SPFresh-style
 * updates). Resident: the centroid HNSW, the posting table (offset, length, capacity per list),
 * the id/group/tombstone tables and per-query scratch. On disk: posting lists of
 * [internal id][vector] records, read with one positional read per probed list.
 *
 * Search: the centroid graph gives the maxLists nearest lists; lists beyond maxDistRatio times
 * the nearest (squared routing distance) are pruned; records are de-duplicated (replicas) with a
 * generation-stamped array, tombstones and filters skipped, and the rest re-scored exactly into a
 * top-k heap. If fewer than k hits pass, the probe widens until k are found or every list is read.
 *
 * Per-query SearchOptions: maxLists, maxDistRatio, graphEf.
 * Not thread-safe; one writer per directory.
 */
export class SpannIndex implements VectorIndex {
  readonly kind = 'spann' as const;
  readonly dim: number;
  readonly metric: Metric;
  private readonly core: SpannCore;
  private readonly qStored: Float32Array;
  private readonly qRouting: Float32Array;
  private readonly vStored: Float32Array;
  private readonly vRouting: Float32Array;
  private readonly heap = new MaxHeap(64);
  private readonly insertScratch: InsertScratch;
  private stamp = new Uint32Array(0);
  private gen = 0;
  private listStamp = new Uint32Array(0);
  private candL = new Uint32Array(64);
  private candD = new Float64Array(64);
  private outD = new Float64Array(64);
  private outN = new Uint32Array(64);
  /** Work done by the last search (for benchmarks and tests): lists read, records read, records scored. */
  readonly lastSearch = { lists: 0, records: 0, scored: 0 };

  private constructor(core: SpannCore) {
    this.core = core;
    this.dim = core.space.dim;
    this.metric = core.space.metric;
    this.qStored = new Float32Array(this.dim);
    this.qRouting = new Float32Array(core.space.routingDim);
    this.vStored = new Float32Array(this.dim);
    this.vRouting = new Float32Array(core.space.routingDim);
    this.insertScratch = new InsertScratch(core.params, core.store.recFloats);
    this.ensureStamps();
  }

  /** Builds from a batch of vectors (see SpannBuildOptions); the posting file goes into opts.dir. */
  static async build(opts: SpannBuildOptions): Promise<SpannIndex> {
    return new SpannIndex(await buildCore(opts));
  }

  /** An empty index that grows by upserts (the first insert bootstraps the first list; splits do the rest). */
  static create(opts: SpannCreateOptions): SpannIndex {
    mkdirSync(opts.dir, { recursive: true });
    const p = resolveParams(opts.params);
    const space = new VectorSpace(opts.metric, opts.dim);
    const core: SpannCore = {
      dir: opts.dir,
      space,
      params: p,
      graph: new CentroidGraph(space.routingDim, { m: p.graphM, efConstruction: p.graphEfConstruction, seed: p.seed }),
      store: PostingStore.create(join(opts.dir, POSTINGS_FILE), opts.dim),
      ids: new IdTable(),
      stats: { splits: 0, purges: 0 },
      rand: newRand(p.seed + 1),
    };
    return new SpannIndex(core);
  }

  /** Reopens the snapshot last saved into dir (the posting file is used in place). */
  static async open(dir: string): Promise<SpannIndex> {
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as SpannMeta;
    if (meta.kind !== 'spann' || meta.version !== 1) throw new Error(`${dir}: not a SPANN snapshot`);
    const s = readSections(join(dir, LISTS_FILE));
    const header = f64(s[3]);
    const tables = {
      offsets: f64(s[0]).slice(),
      lengths: u32(s[1]).slice(),
      capacities: u32(s[2]).slice(),
      listCount: header[0],
      fileEnd: header[1],
    };
    const params = resolveParams(meta.params);
    const core: SpannCore = {
      dir,
      space: new VectorSpace(meta.metric, meta.dim, meta.ipMaxNormSq),
      params,
      graph: CentroidGraph.load(join(dir, GRAPH_FILE), params.seed),
      store: PostingStore.open(join(dir, POSTINGS_FILE), meta.dim, grow(tables)),
      ids: IdTable.load(join(dir, IDS_FILE)),
      stats: meta.stats,
      rand: newRand(params.seed + tables.listCount),
    };
    return new SpannIndex(core);
  }

  size(): number {
    return this.core.ids.live;
  }

  has(id: string): boolean {
    return this.core.ids.lookup(id) >= 0;
  }

  /** Number of posting lists (grows with splits). */
  listCount(): number {
    return this.core.graph.size();
  }

  upsert(id: string, vector: Float32Array | number[], group?: string): void {
    if (vector.length !== this.dim) throw new Error(`SpannIndex: vector has ${vector.length} dims, expected ${this.dim}`);
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) throw new Error(`SpannIndex: vector for ${id} has a non-finite value`);
    }
    const { ids, space, graph } = this.core;
    ids.remove(id);
    space.toStored(vector, this.vStored, 0);
    if (space.metric === 'ip' && graph.size() === 0 && space.ipMaxNormSq === 0) {
      // Bootstrapping without a data set: assume later norms stay within 2x of the first one.
      space.observeNorm(this.vStored, 0);
      space.ipMaxNormSq = Math.max(4 * space.ipMaxNormSq, 1e-12);
    }
    space.toRouting(this.vStored, 0, this.vRouting, 0);
    const iid = ids.add(id, group);
    this.ensureStamps();
    insertVector(this.core, this.insertScratch, iid, this.vStored, this.vRouting);
    this.ensureStamps();
  }

  remove(id: string): boolean {
    return this.core.ids.remove(id) >= 0;
  }

  search(query: Float32Array | number[], k: number, filter?: SearchFilter, options?: SearchOptions): SearchHit[] {
    if (query.length !== this.dim) throw new Error(`SpannIndex: query has ${query.length} dims, expected ${this.dim}`);
    const { graph, ids, space, params } = this.core;
    this.lastSearch.lists = 0;
    this.lastSearch.records = 0;
    this.lastSearch.scored = 0;
    if (k <= 0 || ids.live === 0 || graph.size() === 0) return [];
    space.prepareQuery(query, this.qStored, this.qRouting);
    const gen = this.nextGen();
    let groupMask: Uint8Array | null = null;
    // Live ids that can pass the filter: the probe is scaled by live / passing.
    let passing = ids.live;
    if (filter?.groups !== undefined) {
      groupMask = new Uint8Array(ids.groupCount() + 1);
      passing = 0;
      for (const g of filter.groups) {
        const code = ids.groupCode(g);
        if (code > 0 && groupMask[code] === 0) {
          groupMask[code] = 1;
          passing += ids.liveInGroup(code);
        }
      }
      if (passing === 0) return [];
    }
    if (filter?.excludeIds !== undefined) {
      // Excluded ids are pre-marked as already seen: the scan skips them at no extra cost.
      for (const x of filter.excludeIds) {
        const iid = ids.lookup(x);
        if (iid >= 0 && this.stamp[iid] !== gen) {
          this.stamp[iid] = gen;
          if (groupMask === null || groupMask[ids.groupCodes()[iid]] === 1) passing--;
        }
      }
      if (passing <= 0) return [];
    }
    let maxLists = Math.max(1, Math.floor(options?.maxLists ?? params.maxLists));
    // A filter passing a fraction s of the items probes maxLists / s lists, so that as many
    // passing candidates are scored as an unfiltered search would score (filtered recall).
    if (passing < ids.live) maxLists = Math.ceil((maxLists * ids.live) / passing);
    const ratio = options?.maxDistRatio ?? params.maxDistRatio;
    const ef = Math.max(options?.graphEf ?? params.graphEf, maxLists);
    const total = graph.size();
    this.heap.clear();
    if (maxLists * 2 >= total) {
      // Probing most lists anyway: a plain pass over all of them is cheaper than ranking them.
      this.scanAll(k, gen, groupMask);
      return this.collect();
    }
    let want = Math.min(maxLists, total);
    this.ensureCand(want);
    const found = graph.search(this.qRouting, want, ef, this.candL, this.candD);
    const d0 = this.candD[0];
    const base = d0 > 0 || found < 2 ? d0 : this.candD[1];
    const limit = ratio * base;
    let probed = 0;
    for (let i = 0; i < found; i++) {
      if (i > 0 && this.candD[i] > limit) break;
      this.listStamp[this.candL[i]] = gen;
      this.scanList(this.candL[i], k, gen, groupMask);
      probed++;
    }
    // Widen (filters, tombstones, tiny lists): twice the lists each round, then every list.
    while (this.heap.size < k && probed < total) {
      want = Math.min(total, Math.max(want * 2, probed * 2, 16));
      if (want * 2 >= total || want > 4096) {
        this.scanAll(k, gen, groupMask);
        break;
      }
      this.ensureCand(want);
      const n = graph.search(this.qRouting, want, Math.max(ef, want), this.candL, this.candD);
      probed = 0;
      for (let i = 0; i < n; i++) {
        const l = this.candL[i];
        probed++;
        if (this.listStamp[l] === gen) continue;
        this.listStamp[l] = gen;
        this.scanList(l, k, gen, groupMask);
      }
    }
    return this.collect();
  }

  /** Scans every list not yet read in this query (exhaustive fallback). */
  private scanAll(k: number, gen: number, groupMask: Uint8Array | null): void {
    const graph = this.core.graph;
    for (let l = 0; l < this.core.store.listCount; l++) {
      if (this.listStamp[l] === gen || !graph.hasLabel(l)) continue;
      this.listStamp[l] = gen;
      this.scanList(l, k, gen, groupMask);
    }
  }

  /** Drains the top-k heap into hits, nearest first. */
  private collect(): SearchHit[] {
    if (this.outD.length < this.heap.size) {
      this.outD = new Float64Array(this.heap.d.length);
      this.outN = new Uint32Array(this.heap.d.length);
    }
    const count = this.heap.drainAscending(this.outD, this.outN);
    const hits: SearchHit[] = new Array(count);
    for (let i = 0; i < count; i++) hits[i] = { id: this.core.ids.idOf(this.outN[i]), distance: this.outD[i] };
    return hits;
  }

  memoryBytes(): number {
    const { graph, store, ids } = this.core;
    return (
      graph.memoryBytes() +
      store.memoryBytes() +
      ids.memoryBytes() +
      this.stamp.byteLength +
      this.listStamp.byteLength +
      this.heap.d.byteLength +
      this.heap.n.byteLength +
      this.candL.byteLength +
      this.candD.byteLength +
      this.outD.byteLength +
      this.outN.byteLength +
      (this.qStored.byteLength + this.vStored.byteLength) * 2 +
      this.core.store.recBytes * 2
    );
  }

  params(): Record<string, unknown> {
    const { params, graph, store, ids, stats } = this.core;
    return {
      ...params,
      metric: this.metric,
      dim: this.dim,
      lists: graph.size(),
      internalIds: ids.count,
      postingFileBytes: store.fileEnd,
      postingLiveBytes: store.liveBytes(),
      splits: stats.splits,
      purges: stats.purges,
    };
  }

  /**
   * Snapshot: meta (JSON, written last), centroid graph, posting table, id tables. Into the
   * index's own directory the posting file is shared in place (its published records are never
   * overwritten); into another directory a compacted copy of the posting file is written.
   */
  async save(dir: string): Promise<void> {
    const { store, graph, ids, space, params, stats } = this.core;
    mkdirSync(dir, { recursive: true });
    let tables;
    if (resolve(dir) === resolve(this.core.dir)) {
      store.sync();
      tables = store.tables();
    } else {
      tables = store.writeCompactCopy(join(dir, POSTINGS_FILE));
    }
    graph.save(join(dir, GRAPH_FILE));
    ids.save(join(dir, IDS_FILE));
    writeSections(join(dir, LISTS_FILE), [tables.offsets, tables.lengths, tables.capacities, new Float64Array([tables.listCount, tables.fileEnd])]);
    const meta: SpannMeta = { kind: 'spann', version: 1, dim: this.dim, metric: this.metric, ipMaxNormSq: space.ipMaxNormSq, params, stats };
    const tmp = join(dir, `${META_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(meta));
    renameSync(tmp, join(dir, META_FILE));
  }

  /** Closes the posting file. */
  close(): void {
    this.core.store.close();
  }

  private scanList(list: number, k: number, gen: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const count = store.read(list);
    const idv = store.ids;
    const vecs = store.vecs;
    const rf = store.recFloats;
    const dim = this.dim;
    const q = this.qStored;
    const stamp = this.stamp;
    const tomb = this.core.ids.tombBits();
    const groups = this.core.ids.groupCodes();
    const heap = this.heap;
    const isL2 = this.metric === 'l2';
    let scored = 0;
    for (let r = 0, base = 0; r < count; r++, base += rf) {
      const iid = idv[base];
      if (stamp[iid] === gen) continue;
      stamp[iid] = gen;
      if ((tomb[iid >> 3] & (1 << (iid & 7))) !== 0) continue;
      if (groupMask !== null && groupMask[groups[iid]] !== 1) continue;
      const d = isL2 ? l2sq(q, 0, vecs, base + 1, dim) : 1 - dot(q, 0, vecs, base + 1, dim);
      heap.offer(d, iid, k);
      scored++;
    }
    this.lastSearch.lists++;
    this.lastSearch.records += count;
    this.lastSearch.scored += scored;
  }

  private nextGen(): number {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.listStamp.fill(0);
      this.gen = 1;
    }
    return this.gen;
  }

  private ensureCand(n: number): void {
    if (this.candL.length >= n) return;
    this.candL = new Uint32Array(n);
    this.candD = new Float64Array(n);
  }

  /** Stamp arrays cover every internal id and list id (grown x2, so amortised). */
  private ensureStamps(): void {
    const ids = this.core.ids.count;
    if (this.stamp.length < ids) {
      const s = new Uint32Array(Math.max(ids, this.stamp.length * 2, 1024));
      s.set(this.stamp);
      this.stamp = s;
    }
    const lists = this.core.store.listCount;
    if (this.listStamp.length < lists) {
      const s = new Uint32Array(Math.max(lists, this.listStamp.length * 2, 64));
      s.set(this.listStamp);
      this.listStamp = s;
    }
  }
}

/** The store grows its tables by doubling; give it headroom after a load. */
function grow(t: { offsets: Float64Array; lengths: Uint32Array; capacities: Uint32Array; listCount: number; fileEnd: number }) {
  const cap = Math.max(64, t.listCount * 2);
  const o = new Float64Array(cap);
  o.set(t.offsets);
  const l = new Uint32Array(cap);
  l.set(t.lengths);
  const c = new Uint32Array(cap);
  c.set(t.capacities);
  return { offsets: o, lengths: l, capacities: c, listCount: t.listCount, fileEnd: t.fileEnd };
}
