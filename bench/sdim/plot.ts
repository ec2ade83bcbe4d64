import type { Chart } from '../common/plot';

export interface VsAttentionPlotRow {
  L: number;
  sdimMs: number;
  speedup: number;
  attention: { onnx: { total: number }; native: { total: number } };
  numpy: { computeMs: number } | { skipped: string };
}

/** Log-log chart: time per request (fetch from Redis included) of SDIM and of the attention kernels against history length; the best attention labelled with SDIM's speedup. */
export function vsAttentionChart(rows: readonly VsAttentionPlotRow[], title: string): Chart {
  const numpy = rows.filter((r) => 'computeMs' in r.numpy);
  return {
    title,
    subtitle: 'per request, sequence / tables fetch from Redis included; labels: speedup of SDIM over the faster attention kernel',
    width: 680,
    height: 420,
    panels: [
      {
        x: { name: 'history length L (log scale)', type: 'log' },
        y: { name: 'time per request (log scale)', type: 'log', unit: ' ms' },
        series: [
          {
            name: 'attention, ONNX Runtime (MLAS, 1 thread) + GET sequence',
            kind: 'line',
            color: '#d62728',
            points: rows.map((r) => ({ x: r.L, y: r.attention.onnx.total, label: r.attention.onnx.total <= r.attention.native.total ? `${r.speedup.toFixed(1)}x` : undefined })),
          },
          {
            name: 'attention, native/sdim SIMD kernel + GET sequence',
            kind: 'line',
            color: '#ff7f0e',
            points: rows.map((r) => ({ x: r.L, y: r.attention.native.total, label: r.attention.native.total < r.attention.onnx.total ? `${r.speedup.toFixed(1)}x` : undefined })),
          },
          ...(numpy.length
            ? [
                {
                  name: 'attention, numpy/OpenBLAS 1 thread (compute only)',
                  kind: 'line' as const,
                  color: '#9467bd',
                  points: numpy.map((r) => ({ x: r.L, y: (r.numpy as { computeMs: number }).computeMs })),
                },
              ]
            : []),
          { name: 'SDIM: read tables + hash 500 candidates + interest', kind: 'line', color: '#1f77b4', points: rows.map((r) => ({ x: r.L, y: r.sdimMs })) },
        ],
      },
    ],
  };
}
