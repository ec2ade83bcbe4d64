import { balancedKmeans } from './balanced-kmeans';
import { appendTo, chooseLists, capacityFor, InsertScratch, readLive, writeRecords, type ListMembers, type SpannCore } from './spann.core';
import { l2sq } from './vector-math';

/**
 * Inserts, list splits and SPFresh-style reassignment (Xu et al., SOSP 2023, "LIRE").
 *
 * A split moves centroids, so some vectors stop being in the lists the RNG rule would pick for
 * them now: members of the split list that are closer to some other list than to their new
 * half, and members of nearby lists that are now closer to one of the new halves. Such vectors
 * are re-inserted under a new internal id (IdTable.renew: every old copy turns dead at once, as
 * SPFresh's version bump does) into the lists chosen by the RNG rule, so replicas never pile up.
 * Candidates are pre-filtered with SPFresh's two necessary conditions before the (costlier)
 * centroid search that confirms them. A neighbour's vector that is also kept in one of the halves
 * is left alone.
 */

/** Adds internal id iid (stored + routing forms) to its lists by the RNG rule, then splits what overflowed. */
export function insertVector(core: SpannCore, s: InsertScratch, iid: number, stored: Float32Array, routing: Float32Array): void {
  const { graph, store, params } = core;
  if (graph.size() === 0) {
    // Bootstrap: the first vector is the first list and its centroid.
    const buf = store.newBuffer(1);
    buf.set(0, iid, stored, 0);
    const list = store.listCount;
    store.writeList(list, buf.bytes, 1, capacityFor(1, params.postingCap));
    graph.set(list, routing, 0);
    return;
  }
  const k = chooseLists(core, s, routing);
  const lists = Array.from(s.chosen.subarray(0, k));
  for (const list of lists) appendTo(core, list, iid, stored, 0);
  settleOverfull(core, lists);
}

/**
 * Splits lists over postingCap until none is: reassignments append to other lists, which may
 * overflow in turn. Reassignments per call are capped (a safety valve against cascades; past it
 * a split only halves).
 */
export function settleOverfull(core: SpannCore, lists: Iterable<number>): void {
  const queue = Array.from(lists);
  const budget = { left: 8 * core.params.postingCap };
  while (queue.length > 0) {
    const l = queue.pop() as number;
    if (core.store.length(l) <= core.params.postingCap) continue;
    for (const touched of splitList(core, l, budget)) queue.push(touched);
  }
}

/**
 * Rewrites an over-full list: tombstoned records are dropped first; if it is still over the cap
 * it is split by balanced 2-means into itself (centroid moved) and a new list (new centroid),
 * both written at the end of the posting file (copy-on-write, see PostingStore), and the
 * vectors around it are reassigned (see above; params.reassignLists > 0). Returns the lists that
 * grew (to be checked against the cap).
 */
export function splitList(core: SpannCore, list: number, budget = { left: Infinity }): number[] {
  const { store, space, params, graph } = core;
  const m = readLive(core, list);
  const n = m.n;
  const buf = store.newBuffer(n);
  if (n <= params.postingCap) {
    writeRecords(
      core,
      list,
      buf,
      m.ids,
      m.vecs,
      Array.from({ length: n }, (_, i) => i),
      n,
    );
    if (n === 0) graph.retire(list);
    core.stats.purges++;
    return [];
  }
  const rd = space.routingDim;
  const dim = space.dim;
  const routing = new Float32Array(n * rd);
  for (let r = 0; r < n; r++) space.toRouting(m.vecs, r * dim, routing, r * rd);
  const members = new Uint32Array(n);
  for (let r = 0; r < n; r++) members[r] = r;
  const km = balancedKmeans(routing, rd, members, { k: 2, iters: params.kmeansIters, balanceFactor: params.balanceFactor, trainSample: n, rand: core.rand }, core.sm);
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
  const oldCentroid = graph.vectorData().slice(graph.vectorOffset(list), graph.vectorOffset(list) + rd);
  // The new list exists (empty) before any search can return it.
  const newList = store.listCount;
  store.writeList(newList, buf.bytes, 0, 0);
  const half = [list, newList];
  graph.set(list, centroids, 0);
  graph.set(newList, centroids, rd);
  core.stats.splits++;

  const reassign = params.reassignLists > 0;
  const s = new InsertScratch(params);
  const moved: number[] = [];
  const keep: number[][] = [[], []];
  for (let r = 0; r < n; r++) {
    let h = assign[r];
    // Condition 1: only a member whose new centroid is no closer than the old one was can now be
    // nearer to a third list.
    if (reassign && budget.left > 0 && l2sq(routing, r * rd, oldCentroid, 0, rd) <= centroidDist(core, routing, r * rd, half[h])) {
      const k = chooseLists(core, s, routing.subarray(r * rd, (r + 1) * rd));
      const picks = Array.from(s.chosen.subarray(0, k));
      if (!picks.includes(half[h])) {
        if (picks.includes(half[1 - h])) h = 1 - h;
        else {
          moved.push(r);
          continue;
        }
      }
    }
    keep[h].push(r);
  }
  writeRecords(core, list, buf, m.ids, m.vecs, keep[0], keep[0].length);
  writeRecords(core, newList, buf, m.ids, m.vecs, keep[1], keep[1].length);
  const touched = new Set<number>([list, newList]);
  for (const r of moved) reinsert(core, s, m, r, routing.subarray(r * rd, (r + 1) * rd), touched, budget);
  if (reassign) {
    const inHalves = new Set<number>();
    for (const h of keep) for (const r of h) inHalves.add(m.ids[r]);
    reassignNeighbours(core, s, oldCentroid, half, inHalves, touched, budget);
  }
  return Array.from(touched);
}

/**
 * Condition 2: a vector of a list near the split one needs a look only if one of the new
 * centroids is closer to it than its own list's centroid; it is reassigned if the RNG rule now
 * picks one of the new halves for it.
 */
function reassignNeighbours(core: SpannCore, s: InsertScratch, oldCentroid: Float32Array, half: number[], inHalves: Set<number>, touched: Set<number>, budget: { left: number }): void {
  const { graph, params, space } = core;
  const want = params.reassignLists + 2;
  const labels = new Uint32Array(want);
  const dists = new Float64Array(want);
  const found = graph.search(oldCentroid, want, Math.max(params.graphEf, want), labels, dists);
  const rd = space.routingDim;
  const dim = space.dim;
  const v = new Float32Array(rd);
  for (let i = 0; i < found && budget.left > 0; i++) {
    const b = labels[i];
    if (b === half[0] || b === half[1]) continue;
    const m = readLive(core, b);
    for (let r = 0; r < m.n && budget.left > 0; r++) {
      if (inHalves.has(m.ids[r])) continue; // also a replica in a half: already placed by the split
      space.toRouting(m.vecs, r * dim, v, 0);
      const dB = centroidDist(core, v, 0, b);
      if (centroidDist(core, v, 0, half[0]) >= dB && centroidDist(core, v, 0, half[1]) >= dB) continue;
      const k = chooseLists(core, s, v);
      const picks = s.chosen.subarray(0, k);
      if (picks.includes(half[0]) || picks.includes(half[1])) reinsert(core, s, m, r, v, touched, budget);
    }
  }
}

/** Moves member r: new internal id (old copies die), written to the lists the RNG rule picks now. */
function reinsert(core: SpannCore, s: InsertScratch, m: ListMembers, r: number, routing: Float32Array, touched: Set<number>, budget: { left: number }): void {
  const nid = core.ids.renew(m.ids[r]);
  const k = chooseLists(core, s, routing);
  for (const l of Array.from(s.chosen.subarray(0, k))) {
    appendTo(core, l, nid, m.vecs, r * core.space.dim);
    touched.add(l);
  }
  core.stats.reassigned = (core.stats.reassigned ?? 0) + 1;
  budget.left--;
}

function centroidDist(core: SpannCore, v: Float32Array, off: number, list: number): number {
  const g = core.graph;
  return l2sq(v, off, g.vectorData(), g.vectorOffset(list), g.dim);
}
