import { FlatRouter } from './flat-router';
import { MaxHeap, MinHeap } from './heaps';
import { GraphStorage, NONE, type GraphOptions } from './graph-storage';
import type { SimdMemory } from './simd-memory';
import { seededRandom } from './vector-math';

export type { GraphOptions } from './graph-storage';

const MAX_LEVEL = 16;
/** Minimum fill of a node's links (fraction of the level's maximum), see selectHeuristic. */
const KEEP_PRUNED = 0.5;
/**
 * Flat-scan threshold (nodes). Measured on 128-d SIFT centroids: a flat pass costs ~14 ns per
 * centroid; the graph walk at ef 16-32 costs ~8 us at 170 nodes and ~10-12 us at 400-1000 (it
 * visits most of a small graph), so the flat pass wins up to roughly 600 centroids.
 */
export const FLAT_MAX = 600;

/**
 * In-memory HNSW over the posting-list centroids (squared L2 in routing space).
 * Centroid vectors live in the index's SIMD memory; the neighbours of an expanded node are
 * scored with one kernel call.
 *
 * Written here rather than wrapping hnswlib-node because the centroid index is the resident part
 * SPANN is judged on: hnswlib allocates a fixed 65536-mutex lock table (~2.6 MB) plus a mutex and
 * a hash-map entry per element, and takes number[] queries. This one is flat typed arrays (vector,
 * level-0 links, degree, label per node), takes Float32Array queries, writes results into caller
 * buffers, and exposes the centroid vectors that the RNG rule and splits need.
 *
 * Nodes vs labels: a label is a posting-list id. Moving a list's centroid (after a split) adds a
 * new node with the same label and marks the old node retired: retired nodes still route
 * (keeping the graph connected) but are never returned.
 */
export class CentroidGraph extends GraphStorage {
  private readonly mL: number;
  private readonly rand: () => number;
  private readonly cand = new MinHeap(128);
  private readonly res = new MaxHeap(128);
  private scratchD = new Float64Array(128);
  private scratchN = new Uint32Array(128);
  private readonly pruned: Uint32Array;
  private lastGreedyDist = 0;
  /** Up to this many nodes (live + retired) a search scans every centroid instead of walking the graph. */
  flatMax = FLAT_MAX;
  private readonly flat: FlatRouter;

  constructor(dim: number, opts: GraphOptions, sm: SimdMemory, initialCapacity = 64) {
    super(dim, opts, sm, initialCapacity);
    this.mL = 1 / Math.log(this.m);
    this.rand = seededRandom(opts.seed);
    this.pruned = new Uint32Array(this.m0 + 1);
    this.flat = new FlatRouter(sm, dim);
  }

  static load(path: string, seed: number, sm: SimdMemory): CentroidGraph {
    const { dim, m, efc, n, sections } = GraphStorage.readFile(path);
    const g = new CentroidGraph(dim, { m, efConstruction: efc, seed: seed ^ n }, sm, Math.max(n + (n >> 4), 8));
    g.restore(sections);
    return g;
  }

  /** Adds (or moves, when the label exists) the centroid of list `label`. */
  set(label: number, v: Float32Array, off: number): void {
    this.ensureLabel(label);
    const old = this.labelNode[label];
    if (old !== NONE) {
      this.retired[old] = 1;
      this.retiredCount++;
    }
    this.labelNode[label] = this.insert(v, off, label);
  }

  /**
   * The k nearest live centroids: writes labels and squared distances (ascending) into the out
   * arrays and returns how many were found (< k only if the graph has fewer live nodes).
   * q16Ptr: the same query as i16 in SIMD memory when it is 0..255 integers (else 0), for the
   * integer flat pass over the u8 copy of the centroids.
   */
  search(q: Float32Array, k: number, ef: number, outLabels: Uint32Array, outDists: Float64Array, q16Ptr = 0): number {
    if (this.entry === NONE || k <= 0) return 0;
    this.views();
    this.f.set(q.length === this.dim ? q : q.subarray(0, this.dim), this.qPtr >> 2);
    if (this.count <= this.flatMax) return this.searchFlat(q16Ptr, k, outLabels, outDists);
    let ep = this.entry;
    let epD = this.dist1(this.qPtr, ep);
    for (let l = this.maxLevel; l > 0; l--) {
      const r = this.greedy(this.qPtr, ep, epD, l);
      ep = r;
      epD = this.lastGreedyDist;
    }
    // Retired nodes occupy result slots: widen ef by their share so k live ones remain.
    const want = Math.max(ef, k) + (this.retiredCount > 0 ? Math.min(this.retiredCount, k) : 0);
    const n = this.searchLayer(this.qPtr, ep, epD, want, 0);
    let out = 0;
    for (let i = 0; i < n && out < k; i++) {
      const node = this.scratchN[i];
      if (this.retired[node] === 1) continue;
      outLabels[out] = this.nodeLabel[node];
      outDists[out] = this.scratchD[i];
      out++;
    }
    return out;
  }

  override memoryBytes(): number {
    return super.memoryBytes() + this.scratchD.byteLength + this.scratchN.byteLength + this.pruned.byteLength;
  }

  /**
   * Keeps a u8 copy of the centroids so that integer queries are routed by the exact integer
   * kernel in the flat pass (a u8 index, l2 only: see FlatRouter).
   */
  enableU8Routing(on: boolean): void {
    if (on === this.flat.u8) return;
    if (on) this.flat.enableU8(this.vecPtr >> 2, this.count);
    else this.flat.disableU8();
  }

  /** Exact k nearest live centroids by one kernel pass over all nodes (FlatRouter); retired nodes are skipped. */
  private searchFlat(q16Ptr: number, k: number, outLabels: Uint32Array, outDists: Float64Array): number {
    const want = Math.min(this.count, k + this.retiredCount);
    const got = this.flat.search(this.qPtr, q16Ptr, this.vecPtr, this.count, want);
    this.views();
    const iw = this.flat.idxWord();
    const dw = this.flat.distWord();
    let out = 0;
    for (let i = 0; i < got && out < k; i++) {
      const node = this.u[iw + i];
      if (this.retired[node] === 1) continue;
      outLabels[out] = this.nodeLabel[node];
      outDists[out] = this.f[dw + i];
      out++;
    }
    return out;
  }

  // --- construction -------------------------------------------------------------------------

  private insert(v: Float32Array, off: number, label: number): number {
    if (this.count === this.cap) this.grow();
    this.views();
    const node = this.count++;
    const dim = this.dim;
    const base = (this.vecPtr >> 2) + node * dim;
    for (let i = 0; i < dim; i++) this.f[base + i] = v[off + i];
    this.flat.setRow(node, this.f, base);
    this.views(); // setRow may have grown the memory
    const qPtr = base << 2;
    const level = Math.min(MAX_LEVEL, Math.floor(-Math.log(Math.max(this.rand(), 1e-12)) * this.mL));
    this.levels[node] = level;
    this.nodeLabel[node] = label;
    this.deg0[node] = 0;
    this.upper[node] = level > 0 ? new Uint32Array(level * (this.m + 1)) : null;
    if (this.entry === NONE) {
      this.entry = node;
      this.maxLevel = level;
      return node;
    }
    let ep = this.entry;
    let epD = this.dist1(qPtr, ep);
    for (let l = this.maxLevel; l > level; l--) {
      ep = this.greedy(qPtr, ep, epD, l);
      epD = this.lastGreedyDist;
    }
    const selN = new Uint32Array(this.m0);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const found = this.searchLayer(qPtr, ep, epD, this.efConstruction, l);
      const nextEp = this.scratchN[0];
      const nextD = this.scratchD[0];
      const cnt = this.selectHeuristic(this.scratchN, this.scratchD, found, this.m, selN);
      this.setLinks(node, l, selN, cnt);
      for (let i = 0; i < cnt; i++) this.connect(selN[i], node, l);
      ep = nextEp;
      epD = nextD;
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = node;
    }
    return node;
  }

  private greedy(qPtr: number, ep: number, epD: number, level: number): number {
    let cur = ep;
    let curD = epD;
    const ids = this.idsPtr >> 2;
    const dists = this.distPtr >> 2;
    let changed = true;
    while (changed) {
      changed = false;
      const u = this.upper[cur];
      if (!u || this.levels[cur] < level) break;
      const at = (level - 1) * (this.m + 1);
      const deg = u[at];
      for (let i = 0; i < deg; i++) this.u[ids + i] = u[at + 1 + i];
      this.scoreIds(qPtr, deg);
      for (let i = 0; i < deg; i++) {
        const d = this.f[dists + i];
        if (d < curD) {
          curD = d;
          cur = this.u[ids + i];
          changed = true;
        }
      }
    }
    this.lastGreedyDist = curD;
    return cur;
  }

  /**
   * Beam search on one level; leaves the ef best in scratchN/scratchD ascending and returns their
   * count. Level 0 runs in the kernel (searchLayer0); the upper levels (few nodes) here.
   */
  private searchLayer(qPtr: number, ep: number, epD: number, ef: number, level: number): number {
    if (level === 0) return this.searchLayer0(qPtr, ep, epD, ef);
    const gen = this.nextVisitGen();
    const visited = this.visited;
    const cand = this.cand;
    const res = this.res;
    const f = this.f;
    const u32 = this.u;
    const ids = this.idsPtr >> 2;
    const dists = this.distPtr >> 2;
    cand.clear();
    res.clear();
    visited[ep] = gen;
    cand.push(epD, ep);
    res.push(epD, ep);
    while (cand.size > 0) {
      const cd = cand.d[0];
      const c = cand.n[0];
      if (res.size >= ef && cd > res.d[0]) break;
      cand.pop();
      const links = this.upper[c] as Uint32Array;
      const b = (level - 1) * (this.m + 1);
      const deg = links[b];
      const at = b + 1;
      let n = 0;
      for (let i = 0; i < deg; i++) {
        const nb = links[at + i];
        if (visited[nb] === gen) continue;
        visited[nb] = gen;
        u32[ids + n++] = nb;
      }
      if (n === 0) continue;
      this.scoreIds(qPtr, n);
      for (let i = 0; i < n; i++) {
        const d = f[dists + i];
        if (res.size < ef || d < res.d[0]) {
          const nb = u32[ids + i];
          cand.push(d, nb);
          res.push(d, nb);
          if (res.size > ef) res.pop();
        }
      }
    }
    if (this.scratchD.length < res.size) {
      this.scratchD = new Float64Array(res.size * 2);
      this.scratchN = new Uint32Array(res.size * 2);
    }
    return res.drainAscending(this.scratchD, this.scratchN);
  }

  /** Layer 0 in one kernel call (hnsw_l0): heaps and visit marks in SIMD memory. */
  private searchLayer0(qPtr: number, ep: number, epD: number, ef: number): number {
    this.ensureResults(ef);
    this.views();
    const gen = this.nextVisitGen();
    const n = this.sm.k.hnsw_l0(qPtr, this.vecPtr, this.dim, this.l0Ptr, this.degPtr, this.m0, this.visPtr, gen, ep, epD, ef, this.candDPtr, this.candNPtr, this.resDPtr, this.resNPtr);
    if (this.scratchD.length < n) {
      this.scratchD = new Float64Array(n * 2);
      this.scratchN = new Uint32Array(n * 2);
    }
    const f = this.f;
    const u = this.u;
    const rd = this.resDPtr >> 2;
    const rn = this.resNPtr >> 2;
    for (let i = 0; i < n; i++) {
      this.scratchD[i] = f[rd + i];
      this.scratchN[i] = u[rn + i];
    }
    return n;
  }

  /**
   * HNSW neighbour heuristic over candidates sorted by distance to the base node: keep c unless
   * an already kept s is nearer to c than the base is (keeps links spread in all directions);
   * then top up with the nearest pruned candidates to at least max * KEEP_PRUNED links (the
   * HNSW paper's keepPrunedConnections). Balanced k-means centroids sit on a near-lattice where
   * the pure heuristic keeps ~4 links and left 12% of the nodes with no in-link at all.
   */
  private selectHeuristic(cands: Uint32Array, dists: Float64Array, count: number, max: number, out: Uint32Array): number {
    let kept = 0;
    const ids = this.idsPtr >> 2;
    const dd = this.distPtr >> 2;
    const pruned = this.pruned;
    let nPruned = 0;
    for (let i = 0; i < count && kept < max; i++) {
      const c = cands[i];
      const dc = dists[i];
      let good = true;
      if (kept > 0) {
        for (let j = 0; j < kept; j++) this.u[ids + j] = out[j];
        this.scoreIds(this.vecPtr + c * this.dim * 4, kept);
        for (let j = 0; j < kept; j++) {
          if (this.f[dd + j] < dc) {
            good = false;
            break;
          }
        }
      }
      if (good) out[kept++] = c;
      else if (nPruned < pruned.length) pruned[nPruned++] = c;
    }
    const floor = Math.ceil(max * KEEP_PRUNED);
    for (let i = 0; i < nPruned && kept < floor; i++) out[kept++] = pruned[i];
    return kept;
  }

  private setLinks(node: number, level: number, ids: Uint32Array, cnt: number): void {
    if (level === 0) {
      this.links0.set(ids.subarray(0, cnt), node * this.m0);
      this.deg0[node] = cnt;
    } else {
      const u = this.upper[node] as Uint32Array;
      const b = (level - 1) * (this.m + 1);
      u[b] = cnt;
      u.set(ids.subarray(0, cnt), b + 1);
    }
  }

  private connect(from: number, to: number, level: number): void {
    const max = level === 0 ? this.m0 : this.m;
    let links: Uint32Array;
    let at: number;
    let deg: number;
    if (level === 0) {
      links = this.links0;
      at = from * this.m0;
      deg = this.deg0[from];
    } else {
      links = this.upper[from] as Uint32Array;
      const b = (level - 1) * (this.m + 1);
      deg = links[b];
      at = b + 1;
    }
    if (deg < max) {
      links[at + deg] = to;
      if (level === 0) this.deg0[from] = deg + 1;
      else links[at - 1] = deg + 1;
      return;
    }
    // Full: re-select among the old links plus the new one, nearest to `from` first.
    const ids = new Uint32Array(deg + 1);
    for (let i = 0; i < deg; i++) ids[i] = links[at + i];
    ids[deg] = to;
    for (let i = 0; i <= deg; i++) this.u[(this.idsPtr >> 2) + i] = ids[i];
    this.scoreIds(this.vecPtr + from * this.dim * 4, deg + 1);
    const ds = new Float64Array(deg + 1);
    for (let i = 0; i <= deg; i++) ds[i] = this.f[(this.distPtr >> 2) + i];
    const order = Array.from({ length: deg + 1 }, (_, i) => i).sort((a, b) => ds[a] - ds[b]);
    const sIds = new Uint32Array(deg + 1);
    const sDs = new Float64Array(deg + 1);
    order.forEach((o, i) => {
      sIds[i] = ids[o];
      sDs[i] = ds[o];
    });
    const out = new Uint32Array(max);
    const kept = this.selectHeuristic(sIds, sDs, deg + 1, max, out);
    for (let i = 0; i < kept; i++) links[at + i] = out[i];
    if (level === 0) this.deg0[from] = kept;
    else links[at - 1] = kept;
  }
}
