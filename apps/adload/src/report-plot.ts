import * as echarts from 'echarts';
import type { ReportBody } from './adload.service';

/** The report's objective and satisfaction estimates per policy and estimator, 95% intervals, as SVG. */
export function reportSvg(body: ReportBody): string {
  const policies = [body.live, ...body.candidates];
  const estimators = Object.keys(body.live.estimators);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 1100, height: 520 });
  const panel = (metric: 'objective' | 'satisfaction', gridIndex: number) =>
    estimators.flatMap((e) => [
      {
        name: e,
        type: 'scatter' as const,
        xAxisIndex: gridIndex,
        yAxisIndex: gridIndex,
        data: policies.map((p) => [p.name, p.estimators[e][metric].value]),
      },
      {
        name: e,
        type: 'custom' as const,
        xAxisIndex: gridIndex,
        yAxisIndex: gridIndex,
        data: policies.map((p) => [p.name, p.estimators[e][metric].normal.lower, p.estimators[e][metric].normal.upper]),
        renderItem: (_: unknown, api: echarts.CustomSeriesRenderItemAPI) => {
          const lo = api.coord([api.value(0), api.value(1)]);
          const hi = api.coord([api.value(0), api.value(2)]);
          return { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: { stroke: api.visual('color'), lineWidth: 1 } };
        },
      },
    ]);
  chart.setOption({
    title: { text: `adload report ${body.surface}: ${body.rounds} decisions, winner ${body.winner ?? 'none'}`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 24, data: estimators },
    grid: [
      { left: 60, right: '54%', top: 70, bottom: 60 },
      { left: '54%', right: 30, top: 70, bottom: 60 },
    ],
    xAxis: [0, 1].map((g) => ({ type: 'category', gridIndex: g, data: policies.map((p) => p.name), axisLabel: { rotate: 30 } })),
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'objective', scale: true },
      { type: 'value', gridIndex: 1, name: 'satisfaction', scale: true },
    ],
    series: [...panel('objective', 0), ...panel('satisfaction', 1)],
  } as echarts.EChartsOption);
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
