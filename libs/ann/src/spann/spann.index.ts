import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Metric, SearchFilter, SearchHit, SearchOptions, VectorIndex } from '../vector-index.port';
import { CentroidGraph } from './centroid-graph';
import { IdTable } from './id-table';
import { PostingScanner, type ScanStats } from './posting-scan';
import { PostingStore } from './posting-store';
import type { PostingIoMode } from './posting-io';
import { buildCore, POSTINGS_FILE, type SpannBuildOptions } from './spann.build';
import { fitsU8, type ValueType } from './records';
import { InsertScratch, newRand, type SpannCore } from './spann.core';
import { needsCompaction, rewritePostings } from './spann.files';
import { insertVector } from './spann.split';
import { resolveParams, type SpannParams } from './spann.params';
import { loadSnapshot, saveSnapshot } from './spann.snapshot';
import { SimdMemory } from './simd-memory';
import { VectorSpace } from './vector-space';

export interface SpannCreateOptions {
  dir: string;
  dim: number;
  metric: Metric;
  params?: Partial<SpannParams>;
  /** Record value type (default f32; u8 only for vectors of 0..255 integers, see records.ts). */
  valueType?: ValueType;
}

/**
 * SPANN-style memory-disk hybrid index (Chen et al., NeurIPS 2021; SPTAG's SPANN; SPFresh-style
 * updates). Resident: the centroid HNSW, the posting table (offset, length, capacity per list),
 * the id/group/tombstone tables and per-query scratch. On disk: posting lists of
 * [internal id][vector] records, read with positional reads.
 *
 * Search: the centroid graph gives the maxLists nearest lists; lists beyond maxDistRatio times
 * the nearest (squared routing distance) are pruned; records are de-duplicated (replicas) with a
 * generation-stamped array, tombstones and filters skipped, and the rest re-scored exactly into a
 * top-k heap. A filter passing a fraction s of the items probes maxLists / s lists; if fewer than
 * k hits pass, the probe widens until k are found or every list is read.
 *
 * Per-query SearchOptions: maxLists, maxDistRatio, graphEf.
 * Not thread-safe; one writer per directory.
 */
export class SpannIndex implements VectorIndex {
  readonly kind = 'spann' as const;
  readonly dim: number;
  readonly metric: Metric;
  private readonly core: SpannCore;
  private readonly scan: PostingScanner;
  private readonly qStored: Float32Array;
  private readonly qRouting: Float32Array;
  private readonly vStored: Float32Array;
  private readonly vRouting: Float32Array;
  private readonly insertScratch: InsertScratch;
  private candL = new Uint32Array(64);
  private candD = new Float64Array(64);

  private constructor(core: SpannCore) {
    this.core = core;
    this.dim = core.space.dim;
    this.metric = core.space.metric;
    this.qStored = new Float32Array(this.dim);
    this.qRouting = new Float32Array(core.space.routingDim);
    this.vStored = new Float32Array(this.dim);
    this.vRouting = new Float32Array(core.space.routingDim);
    this.insertScratch = new InsertScratch(core.params);
    this.scan = new PostingScanner(core);
    core.graph.enableU8Routing(core.store.valueType === 'u8' && core.space.metric === 'l2');
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
    return new SpannIndex({
      dir: opts.dir,
      sm,
      space,
      params: p,
      graph: new CentroidGraph(space.routingDim, { m: p.graphM, efConstruction: p.graphEfConstruction, seed: p.seed }, sm),
      store: PostingStore.create(join(opts.dir, POSTINGS_FILE), opts.dim, opts.valueType ?? 'f32', sm),
      ids: new IdTable(),
      stats: { splits: 0, purges: 0 },
      rand: newRand(p.seed + 1),
    });
  }

  /** Reopens the snapshot last saved into dir (the posting file is used in place). */
  static async open(dir: string): Promise<SpannIndex> {
    return new SpannIndex(loadSnapshot(dir));
  }

  /** Work done by the last search (benchmarks, tests). */
  get lastSearch(): Readonly<ScanStats> {
    return this.scan.stats;
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
    // A u8 store takes only 0..255 integers losslessly: anything else converts it to f32 first.
    if (this.core.store.valueType === 'u8' && !fitsU8(this.vStored, 0, this.dim)) rewritePostings(this.core, 'f32');
    const iid = ids.add(id, group);
    insertVector(this.core, this.insertScratch, iid, this.vStored, this.vRouting);
    if (needsCompaction(this.core)) rewritePostings(this.core);
    this.scan.ensureCapacity();
  }

  remove(id: string): boolean {
    return this.core.ids.remove(id) >= 0;
  }

  search(query: Float32Array | number[], k: number, filter?: SearchFilter, options?: SearchOptions): SearchHit[] {
    if (query.length !== this.dim) throw new Error(`SpannIndex: query has ${query.length} dims, expected ${this.dim}`);
    const { graph, ids, space, params } = this.core;
    const scan = this.scan;
    scan.begin();
    if (k <= 0 || ids.live === 0 || graph.size() === 0) return [];
    space.prepareQuery(query, this.qStored, this.qRouting);
    scan.setQuery(this.qStored);
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
      const codes = ids.groupCodes();
      for (const x of filter.excludeIds) {
        const iid = ids.lookup(x);
        if (iid >= 0 && scan.exclude(iid) && (groupMask === null || groupMask[codes[iid]] === 1)) passing--;
      }
      if (passing <= 0) return [];
    }
    let maxLists = Math.max(1, Math.floor(options?.maxLists ?? params.maxLists));
    let ratio = options?.maxDistRatio ?? params.maxDistRatio;
    // A filter passing a fraction s of the items probes maxLists / s lists, so that as many
    // passing candidates are scored as an unfiltered search would score (filtered recall);
    // distance pruning would undo that, so it is off for such probes.
    if (passing < ids.live) {
      const widen = ids.live / passing;
      maxLists = Math.max(maxLists, Math.round(maxLists * widen));
      if (widen > 1.25) ratio = Infinity;
    }
    const ef = Math.max(options?.graphEf ?? params.graphEf, 2 * maxLists);
    const total = graph.size();
    if (maxLists * 2 >= total) {
      // Probing most lists anyway: a plain pass over all of them is cheaper than ranking them.
      scan.scanAll(k, groupMask);
      return scan.collect();
    }
    let want = Math.min(maxLists, total);
    this.ensureCand(want);
    const found = graph.search(this.qRouting, want, ef, this.candL, this.candD, scan.int16Query());
    const d0 = this.candD[0];
    const limit = ratio * (d0 > 0 || found < 2 ? d0 : this.candD[1]);
    let probed = 0;
    while (probed < found && (probed === 0 || this.candD[probed] <= limit)) scan.markList(this.candL[probed++]);
    scan.probeLists(this.candL, probed, k, groupMask);
    // Widen (filters, tombstones, tiny lists): twice the lists each round, then every list.
    while (scan.found() < k && probed < total) {
      want = Math.min(total, Math.max(want * 2, probed * 2, 16));
      if (want * 2 >= total || want > 4096) {
        scan.scanAll(k, groupMask);
        break;
      }
      this.ensureCand(want);
      const n = graph.search(this.qRouting, want, Math.max(ef, want), this.candL, this.candD, scan.int16Query());
      let fresh = 0;
      for (let i = 0; i < n; i++) {
        const l = this.candL[i];
        if (scan.listSeen(l)) continue;
        scan.markList(l);
        this.candL[fresh++] = l;
      }
      probed = n;
      scan.probeLists(this.candL, fresh, k, groupMask);
    }
    return scan.collect();
  }

  memoryBytes(): number {
    const { graph, store, ids, sm } = this.core;
    return (
      sm.byteLength() +
      graph.memoryBytes() +
      store.memoryBytes() +
      ids.memoryBytes() +
      this.scan.memoryBytes() +
      this.candL.byteLength +
      this.candD.byteLength +
      (this.qStored.byteLength + this.vStored.byteLength) * 2
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
      valueType: store.valueType,
      splits: stats.splits,
      purges: stats.purges,
      reassigned: stats.reassigned ?? 0,
      compactions: stats.compactions ?? 0,
    };
  }

  /** See saveSnapshot: shares the posting file in the index's own dir, compacts into another. */
  async save(dir: string): Promise<void> {
    saveSnapshot(this.core, dir);
  }

  /**
   * Rewrites the posting file as a new generation without dead space (spare capacity, copies
   * left behind by copy-on-write, tombstoned records). Runs by itself when the file grows past
   * 3x its records; superseded generations are removed (see spann.files.ts).
   */
  compact(): void {
    rewritePostings(this.core);
  }

  /** How queries read the posting file: 'mmap' (default with the native addon), 'uring' or 'pread' (see posting-io.ts). */
  get ioMode(): PostingIoMode {
    return this.core.store.ioMode;
  }

  setIoMode(mode: PostingIoMode): void {
    this.core.store.reader.setMode(mode);
  }

  /**
   * Drops the posting file from the OS page cache (fdatasync + posix_fadvise DONTNEED): the next
   * queries read from the device. false where the native addon is not built.
   */
  dropPageCache(): boolean {
    return this.core.store.reader.dropPageCache();
  }

  /**
   * What the index relies on beyond memoryBytes(): the posting file's bytes in the page cache
   * (mincore) and its size; null where the native addon is not built.
   */
  pageCacheBytes(): { resident: number; size: number } | null {
    return this.core.store.reader.pageCacheBytes();
  }

  /** Closes the posting file. */
  close(): void {
    this.core.store.close();
  }

  private ensureCand(n: number): void {
    if (this.candL.length >= n) return;
    this.candL = new Uint32Array(n);
    this.candD = new Float64Array(n);
  }
}
