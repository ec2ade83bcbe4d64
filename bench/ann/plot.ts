import type { Chart, Series } from '../common/plot';
import type { BenchResult } from './measure';

/**
 * The parameters that label a point: ef for HNSW (M/efConstruction/ef when several builds are
 * plotted), maxLists for SPANN, nprobe for faiss IVF, leaves_to_search/reorder for ScaNN.
 */
function sweepValue(r: BenchResult, grid: boolean): string | undefined {
  const p = r.params;
  if (p.leavesToSearch !== undefined) return `${String(p.leavesToSearch)}/${String(p.reorder)}`;
  if (p.ef !== undefined) return grid ? `${String(p.m)}/${String(p.efConstruction)}/${String(p.ef)}` : String(p.ef);
  for (const key of ['maxLists', 'nprobe']) if (p[key] !== undefined) return String(p[key]);
  return undefined;
}

/** The points no other point beats in both recall and QPS, by ascending recall. */
function frontier(rows: BenchResult[]): BenchResult[] {
  const sorted = [...rows].sort((a, b) => b.recallAt10 - a.recallAt10 || b.qps - a.qps);
  const out: BenchResult[] = [];
  for (const r of sorted) if (out.length === 0 || r.qps > out[out.length - 1].qps) out.push(r);
  return out.reverse();
}

/**
 * Recall-vs-QPS chart (bench/common/plot.ts): x = recall@10, y = single-thread QPS (log), one line
 * per index through its Pareto frontier (over every build and sweep setting), points labelled with
 * their parameters; two panels, the whole
 * recall range and recall 0.90-1.00 where the targets are.
 */
export function recallQpsChart(title: string, results: BenchResult[]): Chart {
  const pts = results.filter((r) => Number.isFinite(r.recallAt10) && r.qps > 0);
  const minRecall = Math.min(0.9, ...pts.map((r) => r.recallAt10));
  const indexes = [...new Set(pts.map((r) => r.index))];
  const grid = new Set(pts.filter((r) => r.params.ef !== undefined).map((r) => `${String(r.params.m)}/${String(r.params.efConstruction)}`)).size > 1;
  const series: Series[] = indexes.map((name) => ({
    name,
    kind: 'line',
    points: frontier(pts.filter((r) => r.index === name)).map((r) => ({ x: r.recallAt10, y: r.qps, label: sweepValue(r, grid) })),
  }));
  const y = { name: 'queries per second (1 thread, log scale)', type: 'log' as const };
  return {
    title,
    subtitle: 'Pareto frontier of each index; labels: ef (M/efC/ef for a build grid), ScaNN leaves/reorder, maxLists, nprobe',
    width: 1100,
    height: 520,
    panels: [
      { title: 'full range', x: { name: 'recall@10', min: Math.max(0, Math.floor(minRecall * 10) / 10), max: 1 }, y, series },
      { title: 'recall 0.90 - 1.00', x: { name: 'recall@10', min: 0.9, max: 1 }, y, series: series.map((s) => ({ ...s, points: s.points.filter((p) => (p.x as number) >= 0.9) })) },
    ],
  };
}
