import type { CentroidGraph } from './centroid-graph';
import type { IdTable } from './id-table';
import type { PostingStore } from './posting-store';
import type { RecordBuffer } from './records';
import type { SimdMemory } from './simd-memory';
import type { SpannParams } from './spann.params';
import { l2sq, seededRandom } from './vector-math';
import type { VectorSpace } from './vector-space';

/** The parts of a SPANN index that maintenance (insert, split, reassign) works on. */
export interface SpannCore {
  dir: string;
  /** SIMD memory shared by the graph (centroids), the store (read buffer) and the query. */
  sm: SimdMemory;
  space: VectorSpace;
  params: SpannParams;
  graph: CentroidGraph;
  store: PostingStore;
  ids: IdTable;
  stats: { splits: number; purges: number; reassigned?: number; compactions?: number };
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
export function selectReplicas(graph: CentroidGraph, labels: Uint32Array, dists: Float64Array, count: number, replicas: number, rngFactor: number, out: Uint32Array): number {
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

  constructor(p: SpannParams) {
    const n = Math.max(p.replicaCandidates, p.replicas);
    this.candL = new Uint32Array(n);
    this.candD = new Float64Array(n);
    this.chosen = new Uint32Array(p.replicas);
  }
}

/** The lists a vector (routing form) belongs to by the RNG rule; leaves them in s.chosen, returns how many. */
export function chooseLists(core: SpannCore, s: InsertScratch, routing: Float32Array): number {
  const { graph, params } = core;
  const cands = params.replicaCandidates;
  const found = graph.search(routing, cands, Math.max(params.graphEf, cands), s.candL, s.candD);
  return selectReplicas(graph, s.candL, s.candD, found, params.replicas, params.rngFactor, s.chosen);
}

/** Appends a record to a list, growing its capacity by half (up to one past the split size). */
export function appendTo(core: SpannCore, list: number, iid: number, stored: ArrayLike<number>, off: number): void {
  const len = core.store.length(list);
  core.store.append(list, iid, stored, off, Math.min(core.params.postingCap + 1, Math.max(len + 8, Math.ceil(len * 1.5))));
}

/** Writes list from a subset of decoded records: ids[order[i]] with vector vecs[order[i] * dim ..]. */
export function writeRecords(core: SpannCore, list: number, buf: RecordBuffer, ids: Uint32Array, vecs: Float32Array, order: ArrayLike<number>, count: number): void {
  const dim = core.space.dim;
  buf.ensure(count);
  for (let i = 0; i < count; i++) buf.set(i, ids[order[i]], vecs, order[i] * dim);
  core.store.writeList(list, buf.bytes, count, capacityFor(count, core.params.postingCap));
}

/** Members of a list read back: live internal ids and their stored vectors (n x dim). */
export interface ListMembers {
  ids: Uint32Array;
  vecs: Float32Array;
  n: number;
}

/** Reads a list and decodes its live (not tombstoned) records. */
export function readLive(core: SpannCore, list: number): ListMembers {
  const { store, ids } = core;
  const dim = core.space.dim;
  const count = store.read(list);
  const out: ListMembers = { ids: new Uint32Array(count), vecs: new Float32Array(count * dim), n: 0 };
  for (let r = 0; r < count; r++) {
    const iid = store.idAt(r);
    if (ids.isDead(iid)) continue;
    out.ids[out.n] = iid;
    store.decode(r, out.vecs, out.n * dim);
    out.n++;
  }
  return out;
}
