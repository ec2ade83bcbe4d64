import type { Chart } from '../common/plot';

export interface RankPlotRow {
  candidates: number;
  threads: number;
  p50Ms: number;
  p99Ms: number;
  featureMs: number;
  modelMs: number;
}

/**
 * Serving latency per (candidate count, intra-op threads): feature and model medians as stacked
 * bars, the end-to-end p99 as a labelled marker, the p99 target as a dashed line.
 */
export function rankChart(rows: readonly RankPlotRow[], title: string, subtitle: string, targetMs?: number): Chart {
  const cat = (r: RankPlotRow) => `${r.candidates}\n${r.threads} thr`;
  return {
    title,
    subtitle,
    width: 760,
    height: 420,
    panels: [
      {
        x: { name: 'candidates per request / ONNX Runtime intra-op threads', type: 'category', categories: rows.map(cat) },
        y: { name: 'latency', unit: ' ms', min: 0 },
        series: [
          { name: 'feature assembly (median)', kind: 'bar', stack: 'median', points: rows.map((r) => ({ x: cat(r), y: r.featureMs })) },
          { name: 'model run (median)', kind: 'bar', stack: 'median', points: rows.map((r) => ({ x: cat(r), y: r.modelMs })) },
          { name: 'p99 end to end (in process)', kind: 'scatter', color: '#000000', points: rows.map((r) => ({ x: cat(r), y: r.p99Ms, label: r.p99Ms.toFixed(2) })) },
        ],
        lines: targetMs !== undefined ? [{ axis: 'y', value: targetMs, label: `target p99 ${targetMs} ms (500 candidates, 1 thread)` }] : [],
      },
    ],
  };
}
