import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartOption, renderSvg, writeSvg, type Chart } from './plot';

const lineChart: Chart = {
  title: 'latency by size',
  subtitle: 'two series, one with a band',
  panels: [
    {
      x: { name: 'candidates', type: 'log' },
      y: { name: 'p99', type: 'log', unit: ' ms' },
      series: [
        {
          name: 'alpha-series',
          kind: 'line',
          interval: 'band',
          points: [
            { x: 10, y: 1, lo: 0.8, hi: 1.3 },
            { x: 100, y: 3, lo: 2, hi: 4 },
            { x: 1000, y: 20, lo: 15, hi: 26 },
          ],
        },
        {
          name: 'beta-series',
          kind: 'scatter',
          points: [
            { x: 10, y: 2, lo: 1.5, hi: 2.5, label: 'ef=16' },
            { x: 1000, y: 50 },
          ],
        },
      ],
      lines: [{ axis: 'y', value: 15, label: 'target 15 ms' }],
    },
  ],
};

/** Paths (ECharts draws lines and custom shapes as <path>) */
const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

describe('bench/common/plot: ECharts server-side SVG', () => {
  it('renders a standalone SVG with the title, subtitle, legend entries, labels and the reference line label', () => {
    const svg = renderSvg(lineChart);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    for (const text of ['latency by size', 'two series, one with a band', 'alpha-series', 'beta-series', 'ef=16', 'target 15 ms', 'candidates']) expect(svg).toContain(text);
    expect(svg).toMatch(/width="720"/);
  });

  it('log axes: ticks at powers of ten, with the unit', () => {
    const svg = renderSvg(lineChart);
    expect(svg).toContain('>10 ms<');
    expect(svg).toContain('>1000<');
  });

  it('draws the interval: a band adds filled polygons, error bars add three strokes per point', () => {
    const noIntervals: Chart = { ...lineChart, panels: [{ ...lineChart.panels[0], series: lineChart.panels[0].series.map((s) => ({ ...s, points: s.points.map(({ x, y }) => ({ x, y })) })) }] };
    const withSvg = renderSvg(lineChart);
    const without = renderSvg(noIntervals);
    // 2 band quads (3 points) + 3 error-bar strokes (one point with lo/hi) = 5 more paths
    expect(count(withSvg, /<path /g) - count(without, /<path /g)).toBe(5);
    expect(withSvg).toMatch(/fill-opacity="0.18"|opacity="0.18"/);
  });

  it('bars: stacked and grouped on a category axis, error bars centred on their own bar', () => {
    const opt = chartOption({
      title: 'bars',
      panels: [
        {
          x: { name: 'candidates', type: 'category' },
          y: { name: 'ms' },
          series: [
            {
              name: 'feature',
              kind: 'bar',
              stack: 't1',
              points: [
                { x: '100', y: 1 },
                { x: '500', y: 2 },
              ],
            },
            {
              name: 'model',
              kind: 'bar',
              stack: 't1',
              points: [
                { x: '100', y: 2, lo: 2.5, hi: 3.5 },
                { x: '500', y: 3 },
              ],
            },
            {
              name: 'two threads',
              kind: 'bar',
              points: [
                { x: '100', y: 2 },
                { x: '500', y: 4 },
              ],
            },
          ],
        },
      ],
    });
    const xs = opt.xAxis as { data?: string[] }[];
    expect(xs[0].data).toEqual(['100', '500']);
    const bars = (opt.series as { type: string; stack?: string }[]).filter((s) => s.type === 'bar');
    expect(bars.map((s) => s.stack)).toEqual(['t1', 't1', undefined]);
    const svg = renderSvg({ title: 'bars', panels: [{ x: { name: 'c', type: 'category' }, y: { name: 'ms' }, series: [{ name: 'a', kind: 'bar', points: [{ x: 'p', y: 2, lo: 1, hi: 3 }] }] }] });
    expect(count(svg, /<path /g)).toBeGreaterThan(3);
  });

  it('several panels side by side, the same colour for a series name in each', () => {
    const p = lineChart.panels[0];
    const opt = chartOption({
      title: 'two panels',
      panels: [
        { ...p, title: 'full range' },
        { ...p, title: 'zoom', x: { ...p.x, min: 100 } },
      ],
    });
    expect((opt.grid as unknown[]).length).toBe(2);
    const main = (opt.series as { type: string; name: string; xAxisIndex: number; itemStyle?: { color: string } }[]).filter((s) => s.type !== 'custom');
    expect(main.map((s) => s.xAxisIndex)).toEqual([0, 0, 1, 1]);
    expect(main[0].itemStyle!.color).toBe(main[2].itemStyle!.color);
    expect(main[0].itemStyle!.color).not.toBe(main[1].itemStyle!.color);
    expect(
      renderSvg({
        title: 'two panels',
        panels: [
          { ...p, title: 'full range' },
          { ...p, title: 'zoom' },
        ],
      }),
    ).toContain('zoom');
  });

  it('writeSvg creates the directories and writes the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plot-'));
    const path = writeSvg(join(dir, 'a', 'b', 'c.svg'), lineChart);
    const svg = readFileSync(path, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('latency by size');
  });
});
