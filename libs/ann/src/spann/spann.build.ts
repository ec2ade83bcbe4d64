import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Metric } from '../vector-index.port';
import { CentroidGraph, FLAT_MAX } from './centroid-graph';
import { hierarchicalClustering } from './hierarchical-clustering';
import { IdTable } from './id-table';
import { PostingStore } from './posting-store';
import { POSTINGS_FILE } from './spann.files';
import { SimdMemory } from './simd-memory';
import { detectValueType, type ValueType } from './records';
import { capacityFor, newRand, selectReplicas, type SpannCore } from './spann.core';
import { settleOverfull } from './spann.split';
import { resolveParams, type SpannParams } from './spann.params';
import { normalizeAt } from './vector-math';
import { VectorSpace } from './vector-space';

export { POSTINGS_FILE } from './spann.files';

export interface SpannBuildOptions {
  /** Directory for the posting file (and snapshots saved into it). */
  dir: string;
  dim: number;
  metric: Metric;
  /** Row-major n x dim. Only read during the build; no copy of it is kept. */
  vectors: Float32Array;
  ids: string[];
  groups?: Array<string | undefined>;
  params?: Partial<SpannParams>;
  /**
   * How posting records store vectors (see records.ts). 'auto' (default): u8 when every
   * coordinate of every vector is an integer in 0..255 (lossless), else f32. A later upsert that
   * does not fit u8 converts the posting file to f32 (one rewrite).
   */
  valueType?: ValueType | 'auto';
  /** Called with the fraction done (0..1) and the phase name. */
  onProgress?: (fraction: number, phase: string) => void;
}

const NONE = 0xffffffff;

/**
 * Offline build: balanced hierarchical k-means picks the centroids, the centroid HNSW is built,
 * every vector is assigned to up to `replicas` lists by the RNG rule over its nearest centroids,
 * lists over postingCap lose their farthest replicas (never a primary), and the lists are written
 * contiguously to the posting file.
 */
export async function buildCore(o: SpannBuildOptions): Promise<SpannCore> {
  const p = resolveParams(o.params);
  const { dim, metric } = o;
  const n = o.ids.length;
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`SpannIndex: bad dim ${dim}`);
  if (o.vectors.length !== n * dim) throw new Error(`SpannIndex: vectors has ${o.vectors.length} floats, expected ${n} x ${dim}`);
  if (o.groups && o.groups.length !== n) throw new Error('SpannIndex: groups must be parallel to ids');
  const progress = o.onProgress ?? (() => undefined);
  mkdirSync(o.dir, { recursive: true });

  const space = new VectorSpace(metric, dim);
  for (let i = 0; i < n; i++) space.observeNorm(o.vectors, i * dim);
  // Build-time copies only when the metric needs a transformed form (freed after the build).
  let stored = o.vectors;
  if (metric === 'cosine') {
    stored = o.vectors.slice();
    for (let i = 0; i < n; i++) normalizeAt(stored, i * dim, dim);
  }
  const rd = space.routingDim;
  let routing = stored;
  if (metric === 'ip') {
    routing = new Float32Array(n * rd);
    for (let i = 0; i < n; i++) space.toRouting(stored, i * dim, routing, i * rd);
  }

  let idBytes = 0;
  for (let i = 0; i < n; i++) idBytes += Buffer.byteLength(String(o.ids[i]), 'utf8');
  const ids = new IdTable(n, idBytes);
  for (let i = 0; i < n; i++) {
    const id = o.ids[i];
    if (typeof id !== 'string') throw new Error(`SpannIndex: id at ${i} is not a string`);
    if (ids.lookup(id) >= 0) throw new Error(`SpannIndex: duplicate id ${id}`);
    ids.add(id, o.groups?.[i]);
  }

  const sm = new SimdMemory();
  const storePath = join(o.dir, POSTINGS_FILE);
  const valueType = o.valueType === undefined || o.valueType === 'auto' ? (metric === 'cosine' ? 'f32' : detectValueType(stored, n, dim)) : o.valueType;
  const store = PostingStore.create(storePath, dim, valueType, sm);
  const newGraph = (capacity: number) => new CentroidGraph(rd, { m: p.graphM, efConstruction: p.graphEfConstruction, seed: p.seed }, sm, capacity);
  const newCore = (graph: CentroidGraph): SpannCore => ({ dir: o.dir, sm, space, params: p, graph, store, ids, stats: { splits: 0, purges: 0 }, rand: newRand(p.seed + 1) });
  if (n === 0) return newCore(newGraph(8));

  progress(0, 'clustering');
  const h = hierarchicalClustering(routing, rd, n, {
    targetLeaves: Math.max(1, Math.round(Math.max(n * p.centroidRatio, Math.min(n * p.flatCentroidRatio, FLAT_MAX)))),
    branching: p.branching,
    iters: p.kmeansIters,
    balanceFactor: p.balanceFactor,
    trainSample: p.trainSample,
    seed: p.seed,
    onProgress: (f) => progress(0.4 * f, 'clustering'),
  });
  await tick();

  const lists = h.count;
  // Sized to the leaf count: the graph is the bulk of the resident bytes, no doubling slack.
  const graph = newGraph(lists + Math.ceil(lists / 16));
  const core = newCore(graph);
  for (let c = 0; c < lists; c++) {
    graph.set(c, h.centroids, c * rd);
    if ((c & 1023) === 0) progress(0.4 + (0.1 * c) / lists, 'centroid graph');
  }
  await tick();

  // Replica assignment: sel[i * R + r] = r-th list of vector i (rank 0 = nearest centroid).
  const R = p.replicas;
  const cands = Math.max(p.replicaCandidates, R);
  const sel = new Uint32Array(n * R).fill(NONE);
  const selD = new Float32Array(n * R);
  const candL = new Uint32Array(cands);
  const candD = new Float64Array(cands);
  const chosen = new Uint32Array(R);
  const listSize = new Uint32Array(lists);
  const q = new Float32Array(rd);
  for (let i = 0; i < n; i++) {
    q.set(routing.subarray(i * rd, (i + 1) * rd));
    const found = graph.search(q, cands, Math.max(p.graphEf, cands), candL, candD);
    const k = selectReplicas(graph, candL, candD, found, R, p.rngFactor, chosen);
    for (let r = 0; r < k; r++) {
      const list = chosen[r];
      sel[i * R + r] = list;
      let d = 0;
      for (let j = 0; j < found; j++) if (candL[j] === list) d = candD[j];
      selD[i * R + r] = d;
      listSize[list]++;
    }
    if ((i & 4095) === 0) {
      progress(0.5 + (0.4 * i) / n, 'replica assignment');
      if ((i & 65535) === 0) await tick();
    }
  }

  // CSR of entries per list, then cap: keep primaries, then the nearest replicas.
  const start = new Uint32Array(lists + 1);
  for (let l = 0; l < lists; l++) start[l + 1] = start[l] + listSize[l];
  const entVec = new Uint32Array(start[lists]);
  const entKey = new Float64Array(start[lists]);
  const fill = start.slice(0, lists);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < R; r++) {
      const list = sel[i * R + r];
      if (list === NONE) break;
      const at = fill[list]++;
      entVec[at] = i;
      // Primaries sort before every replica: key = -1 for rank 0, the distance otherwise.
      entKey[at] = r === 0 ? -1 : selD[i * R + r];
    }
  }

  progress(0.9, 'writing postings');
  const recs = store.newBuffer(p.postingCap + 1);
  const overfull: number[] = [];
  // Slots first (empty), then the lists in file order: neighbours in space end up neighbours on disk.
  for (let l = 0; l < lists; l++) store.writeList(l, recs.bytes, 0, 0);
  for (const l of fileOrder(graph, lists)) {
    let s = start[l];
    const e = start[l + 1];
    let count = e - s;
    if (count > p.postingCap) {
      const order = Array.from({ length: count }, (_, j) => s + j).sort((a, b) => entKey[a] - entKey[b]);
      let primaries = 0;
      for (const j of order) if (entKey[j] < 0) primaries++;
      count = Math.max(primaries, p.postingCap);
      const keep = order.slice(0, count).map((j) => entVec[j]);
      for (let j = 0; j < count; j++) entVec[s + j] = keep[j];
      if (count > p.postingCap) overfull.push(l);
    }
    recs.ensure(count);
    for (let j = 0; j < count; j++, s++) recs.set(j, entVec[s], stored, entVec[s] * dim);
    store.writeList(l, recs.bytes, count, capacityFor(count, p.postingCap));
    if (count === 0) graph.retire(l);
    if ((l & 1023) === 0) progress(0.9 + (0.1 * l) / lists, 'writing postings');
  }
  // Lists whose primaries alone exceed the cap: split (with reassignment) until every part fits.
  settleOverfull(core, overfull);
  progress(1, 'done');
  return core;
}

/**
 * Order in which the lists are written: a greedy nearest-neighbour chain over the centroids (from
 * each list, the nearest one not yet placed, found with the centroid graph; the next unplaced
 * list when all 16 nearest are placed). A query probes lists around it, so this makes its lists
 * likely to lie close together in the file, where the scan coalesces them into fewer reads.
 */
export function fileOrder(graph: CentroidGraph, lists: number): Uint32Array {
  const order = new Uint32Array(lists);
  const placed = new Uint8Array(lists);
  const labels = new Uint32Array(16);
  const dists = new Float64Array(16);
  const data = graph.vectorData;
  let next = 0;
  let cur = 0;
  for (let i = 0; i < lists; i++) {
    order[i] = cur;
    placed[cur] = 1;
    if (i === lists - 1) break;
    let pick = -1;
    if (graph.hasLabel(cur)) {
      const v = data.call(graph).slice(graph.vectorOffset(cur), graph.vectorOffset(cur) + graph.dim);
      const found = graph.search(v, 16, 32, labels, dists);
      for (let j = 0; j < found && pick < 0; j++) if (placed[labels[j]] === 0) pick = labels[j];
    }
    if (pick < 0) {
      while (placed[next] === 1) next++;
      pick = next;
    }
    cur = pick;
  }
  return order;
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
