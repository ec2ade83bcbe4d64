import type { Chart } from '../common/plot';

export interface PlotRow {
  L: number;
  sdimMs: number;
  attentionMs: number;
  speedup: number;
}

/** Log-log chart: time per request of SDIM and of exact target attention against history length; attention points labelled with SDIM's speedup. */
export function timingChart(rows: readonly PlotRow[], title: string): Chart {
  return {
    title,
    subtitle: 'labels: speedup of SDIM over exact target attention',
    width: 620,
    height: 400,
    panels: [
      {
        x: { name: 'history length L (log scale)', type: 'log' },
        y: { name: 'time per request (log scale)', type: 'log', unit: ' ms' },
        series: [
          { name: 'exact target attention (compute only)', kind: 'line', color: '#d62728', points: rows.map((r) => ({ x: r.L, y: r.attentionMs, label: `${r.speedup.toFixed(0)}x` })) },
          { name: 'SDIM: fetch tables from Redis + hash + interest', kind: 'line', color: '#1f77b4', points: rows.map((r) => ({ x: r.L, y: r.sdimMs })) },
        ],
      },
    ],
  };
}
