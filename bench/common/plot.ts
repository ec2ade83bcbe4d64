import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as echarts from 'echarts';

/**
 * Benchmark plots through Apache ECharts' server-side SVG rendering (no DOM, no canvas): one
 * charting library for every benchmark, the same one the experiment dashboard can use in the
 * browser. A chart is one or more panels side by side; each panel has an x and a y axis (linear,
 * log or category) and any number of line, scatter or bar series. A point may carry an interval
 * (lo..hi), drawn as error bars or as a shaded band, and a text label. Reference lines (targets)
 * are horizontal or vertical dashed lines.
 *
 *   writeSvg('bench/results/x.svg', { title: 'p99 by size', panels: [{ x: { name: 'n', type: 'log' },
 *     y: { name: 'ms' }, series: [{ name: 'p99', kind: 'line', points: [{ x: 10, y: 1.2, lo: 1, hi: 1.4 }] }] }] });
 */

export type AxisType = 'linear' | 'log' | 'category';

export interface Axis {
  name: string;
  /** linear (default), log (base 10; values must be > 0) or category (x: the categories in order). */
  type?: AxisType;
  min?: number;
  max?: number;
  /** Category axis: the categories in display order (default: in order of first appearance). */
  categories?: string[];
  /** Appended to the tick labels, e.g. ' ms'. */
  unit?: string;
}

export interface Point {
  x: number | string;
  y: number;
  /** Interval around y (confidence interval, p50..p99, ...): both or neither. */
  lo?: number;
  hi?: number;
  /** Text drawn next to the point (sweep parameter, value, ...). */
  label?: string;
}

export interface Series {
  name: string;
  kind: 'line' | 'scatter' | 'bar';
  points: Point[];
  /** How points' lo..hi are drawn: 'bars' (error bars, default) or 'band' (shaded area; line/scatter). */
  interval?: 'bars' | 'band';
  /** Bars with the same stack key are stacked (category axes). */
  stack?: string;
  color?: string;
  dashed?: boolean;
}

export interface RefLine {
  axis: 'x' | 'y';
  value: number;
  label?: string;
  color?: string;
}

export interface Panel {
  title?: string;
  x: Axis;
  y: Axis;
  series: Series[];
  lines?: RefLine[];
}

export interface Chart {
  title: string;
  subtitle?: string;
  /** Pixels; default 720 x 420 per chart (panels share the width). */
  width?: number;
  height?: number;
  /** One or more panels, laid out left to right. */
  panels: Panel[];
}

/** Colours by series name, the same in every panel (ECharts' default palette). */
const PALETTE = ['#5470c6', '#ee6666', '#91cc75', '#fac858', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];

const axisType = (a: Axis): 'value' | 'log' | 'category' => (a.type === 'log' ? 'log' : a.type === 'category' ? 'category' : 'value');

function categoriesOf(axis: Axis, panel: Panel, key: 'x'): string[] | undefined {
  if (axis.type !== 'category') return undefined;
  if (axis.categories) return axis.categories;
  const seen: string[] = [];
  for (const s of panel.series) for (const p of s.points) if (!seen.includes(String(p[key]))) seen.push(String(p[key]));
  return seen;
}

function fmtTick(unit: string | undefined) {
  return (v: number | string): string => {
    if (typeof v === 'string') return v;
    const s = v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(0) : Math.abs(v) >= 1e4 ? (+v.toPrecision(6)).toLocaleString('en-US') : String(+v.toPrecision(6));
    return unit ? `${s}${unit}` : s;
  };
}

/** The ECharts option for a chart (exported for the spec and for the dashboard, which renders the same option in the browser). */
export function chartOption(chart: Chart): echarts.EChartsOption {
  const n = chart.panels.length;
  const top = chart.subtitle ? 78 : 62;
  const left = 8;
  const gap = n > 1 ? 9 : 0;
  const w = (100 - left - 3 - gap * (n - 1)) / n;
  const names = [...new Set(chart.panels.flatMap((p) => p.series.map((s) => s.name)))];
  const colorOf = (s: Series): string => s.color ?? PALETTE[names.indexOf(s.name) % PALETTE.length];
  const grid: echarts.GridComponentOption[] = [];
  const xAxis: echarts.XAXisComponentOption[] = [];
  const yAxis: echarts.YAXisComponentOption[] = [];
  const series: echarts.SeriesOption[] = [];
  const titles: echarts.TitleComponentOption[] = [{ text: chart.title, subtext: chart.subtitle, left: 'center', top: 4, textStyle: { fontSize: 15 }, subtextStyle: { fontSize: 11 } }];
  chart.panels.forEach((panel, pi) => {
    const gl = left + pi * (w + gap);
    grid.push({ left: `${gl}%`, width: `${w}%`, top, bottom: panel.x.type === 'category' ? 84 : 64, containLabel: false });
    if (panel.title) titles.push({ text: panel.title, left: `${gl + w / 2}%`, top: top - 22, textAlign: 'center', textStyle: { fontSize: 12, fontWeight: 'normal' } });
    const cats = categoriesOf(panel.x, panel, 'x');
    const xi = (x: number | string): number | string => (cats ? cats.indexOf(String(x)) : x);
    xAxis.push({
      gridIndex: pi,
      type: axisType(panel.x),
      name: panel.x.name,
      nameLocation: 'middle',
      nameGap: panel.x.type === 'category' ? 40 : 28,
      min: panel.x.min,
      max: panel.x.max,
      data: cats,
      scale: panel.x.type !== 'category',
      axisLabel: { formatter: fmtTick(panel.x.unit), ...(panel.x.type === 'category' ? { interval: 0 } : {}) },
      splitLine: { show: panel.x.type !== 'category' },
    } as echarts.XAXisComponentOption);
    yAxis.push({
      gridIndex: pi,
      type: axisType(panel.y),
      name: panel.y.name,
      nameLocation: 'middle',
      nameGap: 52,
      min: panel.y.min,
      max: panel.y.max,
      scale: panel.y.type === 'log',
      axisLabel: { formatter: fmtTick(panel.y.unit) },
    } as echarts.YAXisComponentOption);
    const barGroups = [...new Set(panel.series.filter((s) => s.kind === 'bar').map((s) => s.stack ?? `\u0000${s.name}`))];
    panel.series.forEach((s, si) => {
      const color = colorOf(s);
      const data = s.points.map((p) => ({
        value: [xi(p.x), p.y],
        ...(p.label !== undefined ? { label: { show: true, formatter: p.label, position: 'top' as const, fontSize: 9, color } } : {}),
      }));
      const base = { name: s.name, xAxisIndex: pi, yAxisIndex: pi, data, itemStyle: { color }, z: 3 };
      const marks =
        si === 0 && panel.lines?.length
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                data: panel.lines.map((l) => ({
                  [l.axis === 'y' ? 'yAxis' : 'xAxis']: l.value,
                  lineStyle: { color: l.color ?? '#d62728', type: 'dashed' as const, width: 1.5 },
                  label: { formatter: l.label ?? '', position: 'insideEndTop' as const, fontSize: 10, color: l.color ?? '#d62728' },
                })),
              },
            }
          : {};
      if (s.kind === 'bar') {
        series.push({ ...base, ...marks, type: 'bar', stack: s.stack, barCategoryGap: '30%', barGap: '0%' } as echarts.BarSeriesOption);
      } else {
        series.push({
          ...base,
          ...marks,
          type: s.kind === 'line' ? 'line' : 'scatter',
          symbolSize: 7,
          lineStyle: { color, width: 2, type: s.dashed ? 'dashed' : 'solid' },
        } as echarts.SeriesOption);
      }
      const iv = s.points.filter((p) => p.lo !== undefined && p.hi !== undefined);
      if (iv.length === 0) return;
      const pts = iv.map((p) => ({ x: xi(p.x), lo: p.lo!, hi: p.hi! }));
      const g = s.kind === 'bar' ? barGroups.indexOf(s.stack ?? `\u0000${s.name}`) : -1;
      const band = s.interval === 'band' && s.kind !== 'bar';
      series.push({
        type: 'custom',
        name: s.name,
        xAxisIndex: pi,
        yAxisIndex: pi,
        silent: true,
        z: band ? 1 : 4,
        data: pts.map((p) => [p.x, p.lo, p.hi]),
        encode: { x: 0, y: [1, 2] },
        renderItem: (params: { dataIndex: number }, api: { coord: (v: unknown[]) => number[]; size: (v: unknown[]) => number[] }) => {
          const i = params.dataIndex;
          const p = pts[i];
          if (band) {
            const q = pts[i + 1];
            if (!q) return null;
            const poly = [api.coord([p.x, p.lo]), api.coord([q.x, q.lo]), api.coord([q.x, q.hi]), api.coord([p.x, p.hi])];
            return { type: 'polygon', shape: { points: poly }, style: { fill: color, opacity: 0.18 } };
          }
          const a = api.coord([p.x, p.lo]);
          const b = api.coord([p.x, p.hi]);
          let cx = a[0];
          let half = 5;
          if (g >= 0) {
            const band = api.size([1, 0])[0];
            const groupW = band * 0.7;
            cx += -groupW / 2 + ((g + 0.5) * groupW) / barGroups.length;
            half = Math.max(3, Math.min(8, groupW / barGroups.length / 4));
          }
          const stroke = { stroke: s.kind === 'bar' ? '#222' : color, lineWidth: 1.5 };
          return {
            type: 'group',
            children: [
              { type: 'line', shape: { x1: cx, y1: a[1], x2: cx, y2: b[1] }, style: stroke },
              { type: 'line', shape: { x1: cx - half, y1: a[1], x2: cx + half, y2: a[1] }, style: stroke },
              { type: 'line', shape: { x1: cx - half, y1: b[1], x2: cx + half, y2: b[1] }, style: stroke },
            ],
          };
        },
      } as unknown as echarts.CustomSeriesOption);
    });
  });
  return {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'sans-serif' },
    title: titles,
    legend: { data: names, bottom: 4, type: 'plain' },
    grid,
    xAxis,
    yAxis,
    series,
  };
}

/** The chart as an SVG document (string). */
export function renderSvg(chart: Chart): string {
  const width = chart.width ?? 720 * Math.max(1, chart.panels.length * 0.75);
  const height = chart.height ?? 420;
  const ec = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    ec.setOption(chartOption(chart));
    return ec.renderToSVGString() + '\n';
  } finally {
    ec.dispose();
  }
}

/** Renders the chart and writes it to path (directories created); returns path. */
export function writeSvg(path: string, chart: Chart): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderSvg(chart));
  return path;
}
