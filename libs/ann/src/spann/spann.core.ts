import { balancedKmeans } from './balanced-kmeans';
import type { CentroidGraph } from './centroid-graph';
import type { IdTable } from './id-table';
import type { PostingStore } from './posting-store';
import type { SimdMemory } from './simd-memory';
import type { SpannParams } from './spann.params';
import { l2sq, seededRandom } from './vector-math';
import type { VectorSpace } from './vector-space';

/** The parts of a SPANN index that maintenance (insert, split) works on. */
export interface SpannCore {
  dir: string;
  /** SIMD memory shared by the graph (centroids), the store (read buffer) and the query. */
  sm: SimdMemory;
  space: VectorSpace;
  params: SpannParams;
  graph: CentroidGraph;
  store: PostingStore;
  ids: IdTable;
  stats: { splits: number; purges: number };
  rand: () => number;
}

export function newRand(seed: number): () => number {
  return seededRandom(seed);
}

/** Capacity a list of `count` records gets when (re)written: spare room, but never past a split. */
export function capacityFor(count: number, postingCap: number): number {
  return Math.max(count, Math.min(postingCap + 1, count + Math.max(4, Math.ceil(count / 4))));
}

/**
 * RNG rule (SPANN / SPTAG): walk the candidate lists nearest first and keep list c unless an
 * already kept list c' has rngFactor * d(c, c') <= d(x, c), i.e. c lies "behind" c' as seen from
 * x. Boundary vectors so land in a few lists around them in different directions instead of in
 * near-duplicate lists. All distances are squared routing distances.
 */
export function selectReplicas(
  graph: CentroidGraph,
  labels: Uint32Array,
  dists: Float64Array,
  count: number,
  replicas: number,
  rngFactor: number,
  out: Uint32Array,
): number {
  const v = graph.vectorData();
  const dim = graph.dim;
  let kept = 0;
  for (let i = 0; i < count && kept < replicas; i++) {
    const c = labels[i];
    const offC = graph.vectorOffset(c);
    const dc = dists[i];
    let ok = true;
    for (let j = 0; j < kept; j++) {
      if (rngFactor * l2sq(v, offC, v, graph.vectorOffset(out[j]), dim) <= dc) {
        ok = false;
        break;
      }
    }
    if (ok) out[kept++] = c;
  }
  return kept;
}

/** Scratch buffers for inserts (one set per index; inserts are synchronous). */
export class InsertScratch {
  readonly candL: Uint32Array;
  readonly candD: Float64Array;
  readonly chosen: Uint32Array;
  readonly record: Float32Array;
  readonly recordU: Uint32Array;

  constructor(p: SpannParams, recFloats: number) {
    const n = Math.max(p.replicaCandidates, p.replicas);
    this.candL = new Uint32Array(n);
    this.candD = new Float64Array(n);
    this.chosen = new Uint32Array(p.replicas);
    this.record = new Float32Array(recFloats);
    this.recordU = new Uint32Array(this.record.buffer);
  }
}

/**
 * Adds internal id iid (stored + routing forms given) to its nearest lists by the RNG rule,
 * splitting any list that grows past postingCap. An empty index bootstraps its first list here.
 */
export function insertVector(core: SpannCore, s: InsertScratch, iid: number, stored: Float32Array, routing: Float32Array): void {
  const { graph, store, params } = core;
  if (graph.size() === 0) {
    s.recordU[0] = iid;
    s.record.set(stored.subarray(0, core.space.dim), 1);
    const list = store.listCount;
    store.writeList(list, s.record, 1, capacityFor(1, params.postingCap));
    graph.set(list, routing, 0);
    return;
  }
  const cands = params.replicaCandidates;
  const found = graph.search(routing, cands, Math.max(params.graphEf, cands), s.candL, s.candD);
  const chosen = selectReplicas(graph, s.candL, s.candD, found, params.replicas, params.rngFactor, s.chosen);
  const lists = Array.from(s.chosen.subarray(0, chosen));
  for (const list of lists) {
    const len = store.length(list);
    store.append(list, iid, stored, 0, Math.min(params.postingCap + 1, Math.max(len + 8, Math.ceil(len * 1.5))));
  }
  for (const list of lists) if (store.length(list) > params.postingCap) splitList(core, list);
}

/**
 * Rewrites an over-full list: tombstoned records are dropped first; if it is still over the cap
 * it is split by balanced 2-means into itself (centroid moved) and a new list (new centroid).
 * Both halves are written at the end of the posting file (copy-on-write, see PostingStore).
 */
export function splitList(core: SpannCore, list: number): void {
  const { store, ids, space, params, graph } = core;
  const count = store.read(list);
  const rf = store.recFloats;
  const src = store.copyRecords(count);
  const srcU = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const live = new Float32Array(count * rf);
  const liveU = new Uint32Array(live.buffer);
  let n = 0;
  for (let r = 0; r < count; r++) {
    const iid = srcU[r * rf];
    if (ids.isDead(iid)) continue;
    liveU[n * rf] = iid;
    live.set(src.subarray(r * rf + 1, (r + 1) * rf), n * rf + 1);
    n++;
  }
  if (n <= params.postingCap) {
    store.writeList(list, live, n, capacityFor(n, params.postingCap));
    if (n === 0) graph.retire(list);
    core.stats.purges++;
    return;
  }
  const rd = space.routingDim;
  const routing = new Float32Array(n * rd);
  for (let r = 0; r < n; r++) space.toRouting(live, r * rf + 1, routing, r * rd);
  const members = new Uint32Array(n);
  for (let r = 0; r < n; r++) members[r] = r;
  const km = balancedKmeans(routing, rd, members, {
    k: 2,
    iters: params.kmeansIters,
    balanceFactor: params.balanceFactor,
    trainSample: n,
    rand: core.rand,
  }, core.sm);
  let assign = km.assign;
  let centroids = km.centroids;
  if (km.k < 2 || km.counts[0] === 0 || km.counts[1] === 0) {
    // Identical vectors: halve by position; both halves keep the same centroid.
    assign = new Uint32Array(n);
    for (let r = 0; r < n; r++) assign[r] = r < n / 2 ? 0 : 1;
    centroids = new Float32Array(2 * rd);
    centroids.set(routing.subarray(0, rd), 0);
    centroids.set(routing.subarray(0, rd), rd);
  }
  const halves = [new Float32Array(n * rf), new Float32Array(n * rf)];
  const halvesU = halves.map((h) => new Uint32Array(h.buffer));
  const fill = [0, 0];
  for (let r = 0; r < n; r++) {
    const h = assign[r];
    const at = fill[h]++ * rf;
    halvesU[h][at] = liveU[r * rf];
    halves[h].set(live.subarray(r * rf + 1, (r + 1) * rf), at + 1);
  }
  const newList = store.listCount;
  store.writeList(list, halves[0], fill[0], capacityFor(fill[0], params.postingCap));
  store.writeList(newList, halves[1], fill[1], capacityFor(fill[1], params.postingCap));
  graph.set(list, centroids, 0);
  graph.set(newList, centroids, rd);
  core.stats.splits++;
}
