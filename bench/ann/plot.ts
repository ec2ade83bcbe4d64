import type { Chart, Series } from '../common/plot';
import type { BenchResult } from './measure';

/** The sweep parameter that labels a point (ef for HNSW, maxLists for SPANN, nprobe for faiss IVF). */
function sweepValue(r: BenchResult): string | undefined {
  for (const key of ['ef', 'maxLists', 'nprobe']) if (r.params[key] !== undefined) return String(r.params[key]);
  return undefined;
}

/**
 * Recall-vs-QPS chart (bench/common/plot.ts): x = recall@10, y = single-thread QPS (log), one line
 * per index in sweep order, points labelled with their sweep parameter; two panels, the whole
 * recall range and recall 0.90-1.00 where the targets are.
 */
export function recallQpsChart(title: string, results: BenchResult[]): Chart {
  const pts = results.filter((r) => Number.isFinite(r.recallAt10) && r.qps > 0);
  const minRecall = Math.min(0.9, ...pts.map((r) => r.recallAt10));
  const indexes = [...new Set(pts.map((r) => r.index))];
  const series: Series[] = indexes.map((name) => ({
    name,
    kind: 'line',
    points: pts.filter((r) => r.index === name).map((r) => ({ x: r.recallAt10, y: r.qps, label: sweepValue(r) })),
  }));
  const y = { name: 'queries per second (1 thread, log scale)', type: 'log' as const };
  return {
    title,
    subtitle: 'labels: ef / maxLists / nprobe',
    width: 1100,
    height: 520,
    panels: [
      { title: 'full range', x: { name: 'recall@10', min: Math.max(0, Math.floor(minRecall * 10) / 10), max: 1 }, y, series },
      { title: 'recall 0.90 - 1.00', x: { name: 'recall@10', min: 0.9, max: 1 }, y, series: series.map((s) => ({ ...s, points: s.points.filter((p) => (p.x as number) >= 0.9) })) },
    ],
  };
}
