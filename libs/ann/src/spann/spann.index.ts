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
import { SimdMemory } from './simd-memory';
import { VectorSpace } from './vector-space';

const META_FILE = 'spann.meta.json';
const GRAPH_FILE = 'spann.centroids';
const IDS_FILE = 'spann.ids';
const LISTS_FILE = 'spann.lists';
/**
 * Probed lists closer than this in the file are fetched with one read (the bytes in between are
 * read and ignored): a read costs ~2 us of syscall, 8 KiB of extra copy ~1 us. Lists are written
 * in hierarchical-clustering leaf order, so nearby centroids tend to be nearby in the file.
 */
const COALESCE_GAP = 8192;
const MAX_SPAN = 1 << 18;

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
  /** Byte offset of the stored-form query in SIMD memory (what the scan kernels read). */
  private readonly qPtr: number;
  private order = new Uint32Array(64);
  private orderOff = new Float64Array(64);
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
  /** Work done by the last search (benchmarks, tests): lists and records read, records scored, read calls and bytes. */
  readonly lastSearch = { lists: 0, records: 0, scored: 0, reads: 0, bytes: 0 };

  private constructor(core: SpannCore) {
    this.core = core;
    this.dim = core.space.dim;
    this.metric = core.space.metric;
    this.qStored = new Float32Array(this.dim);
    this.qPtr = core.sm.alloc(this.dim * 4);
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
    const sm = new SimdMemory();
    const core: SpannCore = {
      dir: opts.dir,
      sm,
      space,
      params: p,
      graph: new CentroidGraph(space.routingDim, { m: p.graphM, efConstruction: p.graphEfConstruction, seed: p.seed }, sm),
      store: PostingStore.create(join(opts.dir, POSTINGS_FILE), opts.dim, sm),
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
    const sm = new SimdMemory();
    const core: SpannCore = {
      dir,
      sm,
      space: new VectorSpace(meta.metric, meta.dim, meta.ipMaxNormSq),
      params,
      graph: CentroidGraph.load(join(dir, GRAPH_FILE), params.seed, sm),
      store: PostingStore.open(join(dir, POSTINGS_FILE), meta.dim, grow(tables), sm),
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
    this.lastSearch.reads = 0;
    this.lastSearch.bytes = 0;
    if (k <= 0 || ids.live === 0 || graph.size() === 0) return [];
    space.prepareQuery(query, this.qStored, this.qRouting);
    this.core.sm.f32().set(this.qStored, this.qPtr >> 2);
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
    let ratio = options?.maxDistRatio ?? params.maxDistRatio;
    // A filter passing a fraction s of the items probes maxLists / s lists, so that as many
    // passing candidates are scored as an unfiltered search would score (filtered recall);
    // distance pruning would undo that, so it is off for such probes.
    if (passing < ids.live) {
      maxLists = Math.ceil((maxLists * ids.live) / passing);
      ratio = Infinity;
    }
    const ef = Math.max(options?.graphEf ?? params.graphEf, 2 * maxLists);
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
    while (probed < found && (probed === 0 || this.candD[probed] <= limit)) {
      this.listStamp[this.candL[probed]] = gen;
      probed++;
    }
    this.probeLists(this.candL, probed, k, gen, groupMask);
    // Widen (filters, tombstones, tiny lists): twice the lists each round, then every list.
    while (this.heap.size < k && probed < total) {
      want = Math.min(total, Math.max(want * 2, probed * 2, 16));
      if (want * 2 >= total || want > 4096) {
        this.scanAll(k, gen, groupMask);
        break;
      }
      this.ensureCand(want);
      const n = graph.search(this.qRouting, want, Math.max(ef, want), this.candL, this.candD);
      let fresh = 0;
      for (let i = 0; i < n; i++) {
        const l = this.candL[i];
        if (this.listStamp[l] === gen) continue;
        this.listStamp[l] = gen;
        this.candL[fresh++] = l;
      }
      probed = n;
      this.probeLists(this.candL, fresh, k, gen, groupMask);
    }
    return this.collect();
  }

  /** Scans every list not yet read in this query (exhaustive fallback). */
  private scanAll(k: number, gen: number, groupMask: Uint8Array | null): void {
    const graph = this.core.graph;
    const lists = new Uint32Array(this.core.store.listCount);
    let n = 0;
    for (let l = 0; l < lists.length; l++) {
      if (this.listStamp[l] === gen || !graph.hasLabel(l)) continue;
      this.listStamp[l] = gen;
      lists[n++] = l;
    }
    this.probeLists(lists, n, k, gen, groupMask);
  }

  /**
   * Reads and scores lists[0..n): sorted by file offset, neighbours within COALESCE_GAP merged
   * into one positional read, then each list's records scored by one kernel call.
   */
  private probeLists(lists: Uint32Array, n: number, k: number, gen: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const rb = store.recBytes;
    if (this.order.length < n) {
      this.order = new Uint32Array(n * 2);
      this.orderOff = new Float64Array(n * 2);
    }
    const order = this.order;
    const off = this.orderOff;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const l = lists[i];
      if (store.length(l) === 0) continue;
      // Insertion sort by offset (n is the probe count, small); sort() for big fallbacks.
      const o = store.offset(l);
      if (n > 64) {
        order[m] = l;
        off[m++] = o;
        continue;
      }
      let j = m++;
      while (j > 0 && off[j - 1] > o) {
        order[j] = order[j - 1];
        off[j] = off[j - 1];
        j--;
      }
      order[j] = l;
      off[j] = o;
    }
    if (n > 64) {
      const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => off[a] - off[b]);
      const o2 = idx.map((i) => order[i]);
      for (let i = 0; i < m; i++) {
        order[i] = o2[i];
        off[i] = store.offset(o2[i]);
      }
    }
    let i = 0;
    while (i < m) {
      const start = off[i];
      let end = start + store.length(order[i]) * rb;
      let j = i + 1;
      while (j < m) {
        const e = off[j] + store.length(order[j]) * rb;
        if (off[j] - end > COALESCE_GAP || e - start > MAX_SPAN) break;
        if (e > end) end = e;
        j++;
      }
      store.readSpan(start, end - start);
      this.lastSearch.reads++;
      this.lastSearch.bytes += end - start;
      for (let t = i; t < j; t++) this.scanRecords(order[t], store.bufPtr + (off[t] - start), k, gen, groupMask);
      i = j;
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
      this.core.sm.byteLength() +
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
      this.order.byteLength +
      this.orderOff.byteLength
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

  /** Scores one list whose records start at byte recPtr of the read buffer. */
  private scanRecords(list: number, recPtr: number, k: number, gen: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const count = store.length(list);
    const rf = store.recFloats;
    const isL2 = this.metric === 'l2';
    const kern = this.core.sm.k;
    if (isL2) kern.l2_rows(this.qPtr, recPtr + 4, count, store.recBytes, this.dim, store.distPtr);
    else kern.dot_rows(this.qPtr, recPtr + 4, count, store.recBytes, this.dim, store.distPtr);
    const idv = store.ids;
    const dist = store.vecs;
    const dBase = store.distPtr >> 2;
    const stamp = this.stamp;
    const tomb = this.core.ids.tombBits();
    const groups = this.core.ids.groupCodes();
    const heap = this.heap;
    let scored = 0;
    for (let r = 0, at = recPtr >> 2; r < count; r++, at += rf) {
      const iid = idv[at];
      if (stamp[iid] === gen) continue;
      stamp[iid] = gen;
      if ((tomb[iid >> 3] & (1 << (iid & 7))) !== 0) continue;
      if (groupMask !== null && groupMask[groups[iid]] !== 1) continue;
      const d = isL2 ? dist[dBase + r] : 1 - dist[dBase + r];
      if (heap.size < k || d < heap.d[0]) heap.offer(d, iid, k);
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
