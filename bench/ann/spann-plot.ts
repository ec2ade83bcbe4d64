import type { Chart, Series } from '../common/plot';
import type { SpannRow } from './bench-spann';

/** The points no other point beats in both recall and QPS, by ascending recall. */
function frontier(rows: SpannRow[]): SpannRow[] {
  const sorted = [...rows].sort((a, b) => b.recallAt10 - a.recallAt10 || b.qps - a.qps);
  const out: SpannRow[] = [];
  for (const r of sorted) if (out.length === 0 || r.qps > out[out.length - 1].qps) out.push(r);
  return out.reverse();
}

function label(r: SpannRow): string {
  const p = r.params;
  if (p.maxLists !== undefined) return String(p.maxLists);
  if (p.nprobe !== undefined) return `${String(p.nlist)}/${String(p.nprobe)}`;
  if (p.L !== undefined) return `L${String(p.L)}/W${String(p.beamWidth)}`;
  return '';
}

function seriesOf(rows: SpannRow[]): Series[] {
  const names = [...new Set(rows.map((r) => `${r.index}${r.io ? ` ${r.io}` : ''}`))];
  return names.map((name) => ({
    name,
    kind: 'line' as const,
    points: frontier(rows.filter((r) => `${r.index}${r.io ? ` ${r.io}` : ''}` === name)).map((r) => ({ x: r.recallAt10, y: r.qps, label: label(r) })),
  }));
}

/**
 * Recall-vs-QPS (log) of SPANN against its peers, one panel per cache mode: warm (SPANN per I/O
 * mode, faiss IVF-Flat over every nlist, DiskANN), cold and cold-query (SPANN per I/O mode,
 * DiskANN). Each line is the Pareto frontier of its sweep; labels: maxLists, nlist/nprobe, L/W.
 */
export function spannChart(title: string, results: SpannRow[]): Chart {
  const pts = results.filter((r) => Number.isFinite(r.recallAt10) && r.qps > 0);
  const minRecall = Math.max(0.5, Math.floor(Math.min(0.9, ...pts.map((r) => r.recallAt10)) * 10) / 10);
  const y = { name: 'queries per second (1 thread, log)', type: 'log' as const };
  const modes = (['warm', 'cold', 'cold-query'] as const).filter((m) => pts.some((r) => r.mode === m));
  return {
    title,
    subtitle: 'Pareto frontier per index and I/O mode; labels: SPANN maxLists, faiss nlist/nprobe, DiskANN L/beam width',
    width: 480 * modes.length,
    height: 520,
    panels: modes.map((m) => ({
      title: m === 'warm' ? 'warm page cache' : m === 'cold' ? 'cold: file dropped before the pass' : 'cold: file dropped before every query',
      x: { name: 'recall@10', min: minRecall, max: 1 },
      y,
      series: seriesOf(pts.filter((r) => r.mode === m)),
      lines: [{ axis: 'x' as const, value: 0.9, label: '0.90' }],
    })),
  };
}
