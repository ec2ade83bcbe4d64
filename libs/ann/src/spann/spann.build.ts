import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Metric } from '../vector-index.port';
import { CentroidGraph } from './centroid-graph';
import { hierarchicalClustering } from './hierarchical-clustering';
import { IdTable } from './id-table';
import { PostingStore } from './posting-store';
import { SimdMemory } from './simd-memory';
import { capacityFor, newRand, selectReplicas, splitList, type SpannCore } from './spann.core';
import { resolveParams, type SpannParams } from './spann.params';
import { normalizeAt } from './vector-math';
import { VectorSpace } from './vector-space';

export const POSTINGS_FILE = 'spann.postings';

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
  const store = PostingStore.create(storePath, dim, sm);
  const newGraph = (capacity: number) => new CentroidGraph(rd, { m: p.graphM, efConstruction: p.graphEfConstruction, seed: p.seed }, sm, capacity);
  const newCore = (graph: CentroidGraph): SpannCore => ({ dir: o.dir, sm, space, params: p, graph, store, ids, stats: { splits: 0, purges: 0 }, rand: newRand(p.seed + 1) });
  if (n === 0) return newCore(newGraph(8));

  progress(0, 'clustering');
  const h = hierarchicalClustering(routing, rd, n, {
    targetLeaves: Math.max(1, Math.round(n * p.centroidRatio)),
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
  const rf = store.recFloats;
  let recs = new Float32Array(rf * Math.max(1, p.postingCap + 1));
  let recsU = new Uint32Array(recs.buffer);
  const overfull: number[] = [];
  for (let l = 0; l < lists; l++) {
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
    if (recs.length < count * rf) {
      recs = new Float32Array(count * rf);
      recsU = new Uint32Array(recs.buffer);
    }
    for (let j = 0; j < count; j++, s++) {
      const i = entVec[s];
      recsU[j * rf] = i;
      recs.set(stored.subarray(i * dim, (i + 1) * dim), j * rf + 1);
    }
    store.writeList(l, recs, count, capacityFor(count, p.postingCap));
    if (count === 0) graph.retire(l);
    if ((l & 1023) === 0) progress(0.9 + (0.1 * l) / lists, 'writing postings');
  }
  // Lists whose primaries alone exceed the cap: split until every part fits.
  while (overfull.length > 0) {
    const l = overfull.pop() as number;
    const before = store.listCount;
    splitList(core, l);
    for (const x of [l, before]) if (x < store.listCount && store.length(x) > p.postingCap) overfull.push(x);
  }
  progress(1, 'done');
  routing = stored = new Float32Array(0);
  return core;
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
