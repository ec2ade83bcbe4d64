import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { recallOne } from '@recsys/ann/recall';
import type { SearchOptions, VectorIndex } from '@recsys/ann/vector-index.port';
import { machine, type Machine } from '../common/machine';
import { quantileSorted } from '../common/stats';

/** One row of the "results" array (the same shape peers.py prints). */
export interface BenchResult {
  index: string;
  params: Record<string, unknown>;
  recallAt10: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  memoryBytes: number;
  buildSeconds: number;
  /** Resident-set growth over the build, a cross-check of memoryBytes (noisy: allocator, GC). */
  rssDeltaBytes?: number;
  queries: number;
  /** Python peers and usearch-npm: QPS of one batch call over the same queries (one thread). */
  batchQps?: number;
  /** A peer index loaded from the --cache directory (buildSeconds is the original build's). */
  cached?: boolean;
}

/** A callable full GC, so RSS deltas are not polluted by garbage from the previous phase. */
export const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

export function rss(): number {
  gc();
  return process.memoryUsage().rss;
}

export interface QueryLoopOutput {
  recall: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  /** Numeric ids found per query (ids in the benchmark are the row numbers). */
  found: Int32Array[];
}

export interface LoopSettings {
  /** Timed runs per setting; the fastest is kept (the machine is shared: the best run is the least disturbed). */
  runs: number;
  /** A run repeats the query set until at least this many queries are timed (tiny query sets time too briefly). */
  minQueries: number;
}

export const DEFAULT_LOOP: LoopSettings = { runs: 3, minQueries: 1000 };

/**
 * Single-threaded timed loop over any search function: an untimed pass over every query that
 * records the answers for recall (and warms caches, JIT and the ef change up), then `runs` timed
 * runs, each over the query set repeated to at least minQueries queries, every query timed on its
 * own for the latency percentiles. QPS = timed queries / wall time of the run; the run with the
 * highest QPS is reported. `search` is what is timed; `ids` turns its answer into row numbers and
 * runs in the untimed pass only.
 */
export function timedLoop<R>(
  search: (q: Float32Array) => R,
  ids: (answer: R) => Int32Array,
  queries: Float32Array,
  dim: number,
  count: number,
  k: number,
  truth: Int32Array[] | null,
  settings: LoopSettings = DEFAULT_LOOP,
): QueryLoopOutput {
  const found: Int32Array[] = [];
  for (let i = 0; i < count; i++) found.push(ids(search(queries.subarray(i * dim, (i + 1) * dim))));
  const passes = Math.max(1, Math.ceil(settings.minQueries / count));
  const total = passes * count;
  const views = Array.from({ length: count }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  let best: { qps: number; lat: Float64Array } | null = null;
  for (let run = 0; run < Math.max(1, settings.runs); run++) {
    const lat = new Float64Array(total);
    const t0 = process.hrtime.bigint();
    for (let t = 0; t < total; t++) {
      const q = views[t % count];
      const s = process.hrtime.bigint();
      search(q);
      lat[t] = Number(process.hrtime.bigint() - s) / 1e6;
    }
    const qps = total / (Number(process.hrtime.bigint() - t0) / 1e9);
    if (best === null || qps > best.qps) best = { qps, lat };
  }
  const lat = best!.lat.sort();
  let recall = NaN;
  if (truth !== null) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += recallOne(found[i], truth[i], Math.min(10, k));
    recall = sum / count;
  }
  return { recall, qps: best!.qps, p50Ms: quantileSorted(lat, 0.5), p99Ms: quantileSorted(lat, 0.99), found };
}

/** timedLoop over a VectorIndex: the whole search call (string ids and hit objects included) is timed. */
export function queryLoop(
  index: VectorIndex,
  queries: Float32Array,
  dim: number,
  count: number,
  k: number,
  truth: Int32Array[] | null,
  options?: SearchOptions,
  settings: LoopSettings = DEFAULT_LOOP,
): QueryLoopOutput {
  return timedLoop(
    (q) => index.search(q, k, undefined, options),
    (hits) => Int32Array.from(hits, (h) => Number(h.id)),
    queries,
    dim,
    count,
    k,
    truth,
    settings,
  );
}

/**
 * Median wall time (µs) of one call of fn, over `calls` calls after a warm-up, timed the way the
 * query loop times a query (hrtime around the call).
 */
export function callMedianUs(fn: () => unknown, calls = 5000): number {
  for (let i = 0; i < 200; i++) fn();
  const lat = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const s = process.hrtime.bigint();
    fn();
    lat[i] = Number(process.hrtime.bigint() - s) / 1e3;
  }
  return quantileSorted(lat.sort(), 0.5);
}

export interface Point {
  recall: number;
  qps: number;
}

/**
 * QPS of a recall/QPS curve at a given recall: the Pareto frontier (no other point has both
 * higher recall and higher QPS), interpolated linearly in log(QPS) between the two frontier points
 * that bracket the recall. null when the curve never reaches that recall.
 */
export function qpsAtRecall(points: Point[], recall: number): number | null {
  const pts = points.filter((p) => Number.isFinite(p.recall) && p.qps > 0).sort((a, b) => a.recall - b.recall || b.qps - a.qps);
  const frontier: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    if (frontier.length === 0 || pts[i].qps > frontier[frontier.length - 1].qps) frontier.push(pts[i]);
  }
  frontier.reverse(); // ascending recall, descending qps
  if (frontier.length === 0 || frontier[frontier.length - 1].recall < recall) return null;
  if (frontier[0].recall >= recall) return frontier[0].qps;
  for (let i = 1; i < frontier.length; i++) {
    const a = frontier[i - 1];
    const b = frontier[i];
    if (b.recall >= recall) {
      const t = (recall - a.recall) / (b.recall - a.recall);
      return Math.exp(Math.log(a.qps) + t * (Math.log(b.qps) - Math.log(a.qps)));
    }
  }
  return null;
}

/** The machine block (bench/common/machine.ts) plus the Python peers' interpreter. */
export function machineInfo(python: string | null, start?: Machine): Machine {
  return machine({ python }, start);
}

/** QPS ratio of two curves at a common recall: the target if both reach it, else the highest both reach. */
export function ratioAtRecall(ours: ReadonlyArray<{ recallAt10: number; qps: number }>, theirs: ReadonlyArray<{ recallAt10: number; qps: number }>, target: number): Record<string, unknown> | null {
  if (ours.length === 0 || theirs.length === 0) return null;
  const maxBoth = Math.min(Math.max(...ours.map((r) => r.recallAt10)), Math.max(...theirs.map((r) => r.recallAt10)));
  const at = Math.min(target, maxBoth);
  const q1 = qpsAtRecall(
    ours.map((r) => ({ recall: r.recallAt10, qps: r.qps })),
    at,
  );
  const q2 = qpsAtRecall(
    theirs.map((r) => ({ recall: r.recallAt10, qps: r.qps })),
    at,
  );
  if (q1 === null || q2 === null) return null;
  return { ratio: q1 / q2, atRecall: at, targetRecall: target, reachedTarget: at === target, oursQps: q1, theirsQps: q2 };
}
