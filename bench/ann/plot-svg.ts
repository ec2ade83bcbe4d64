import type { BenchResult } from './measure';

/**
 * Recall-vs-QPS plot as a hand-written SVG (no dependencies): x = recall@10 (linear), y = QPS
 * (log10), one polyline per index in sweep order, points labelled with their sweep parameter.
 */
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sweepLabel(r: BenchResult): string {
  const p = r.params;
  for (const key of ['ef', 'maxLists', 'nprobe']) if (p[key] !== undefined) return `${key}=${String(p[key])}`;
  return '';
}

interface Panel {
  left: number;
  top: number;
  width: number;
  height: number;
  x0: number;
  x1: number;
  tick: number;
  title: string;
}

/** Draws one recall/QPS panel (shared log-QPS range y0..y1) into out. */
function panel(out: string[], pts: BenchResult[], names: string[], p: Panel, y0: number, y1: number): void {
  const { left: L, top: T, width: pw, height: ph, x0, x1 } = p;
  const sx = (v: number): number => L + ((v - x0) / (x1 - x0)) * pw;
  const sy = (q: number): number => T + ph - ((Math.log10(q) - y0) / (y1 - y0)) * ph;
  out.push(`<text x="${L + pw / 2}" y="${T - 8}" text-anchor="middle" font-size="12" fill="#333">${esc(p.title)}</text>`);
  const steps = Math.round((x1 - x0) / p.tick);
  for (let i = 0; i <= steps; i++) {
    const v = x0 + i * p.tick;
    const x = sx(v).toFixed(1);
    out.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}" stroke="#e5e5e5"/>`);
    if (i % 2 === 0 || steps <= 6) out.push(`<text x="${x}" y="${T + ph + 18}" text-anchor="middle">${v.toFixed(p.tick < 0.05 ? 2 : 1)}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    for (const m of [1, 2, 5]) {
      const q = m * 10 ** e;
      if (Math.log10(q) > y1 + 1e-9) continue;
      const y = sy(q).toFixed(1);
      out.push(`<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}" stroke="${m === 1 ? '#cfcfcf' : '#eeeeee'}"/>`);
      if (m === 1 || y1 - y0 <= 3) out.push(`<text x="${L - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${q >= 1 ? q.toLocaleString('en-US') : q}</text>`);
    }
  }
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${L + pw / 2}" y="${T + ph + 40}" text-anchor="middle">recall@10</text>`);
  out.push(`<clipPath id="c${L}"><rect x="${L - 6}" y="${T - 6}" width="${pw + 12}" height="${ph + 12}"/></clipPath>`);
  out.push(`<g clip-path="url(#c${L})">`);
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    const series = pts.filter((r) => r.index === name);
    const path = series.map((r) => `${sx(r.recallAt10).toFixed(1)},${sy(r.qps).toFixed(1)}`).join(' ');
    if (series.length > 1) out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const r of series) {
      const cx = sx(r.recallAt10).toFixed(1);
      const cy = sy(r.qps).toFixed(1);
      out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"><title>${esc(`${name} ${sweepLabel(r)} recall ${r.recallAt10.toFixed(4)} qps ${r.qps.toFixed(0)}`)}</title></circle>`);
      const lbl = sweepLabel(r);
      if (lbl) out.push(`<text x="${cx}" y="${(Number(cy) - 7).toFixed(1)}" font-size="9" fill="${color}" text-anchor="middle">${esc(lbl.split('=')[1])}</text>`);
    }
  });
  out.push('</g>');
}

/** Two panels: the whole recall range, and recall 0.9-1.0 where the targets are. */
export function recallQpsSvg(title: string, results: BenchResult[]): string {
  const W = 1100;
  const H = 520;
  const pts = results.filter((r) => Number.isFinite(r.recallAt10) && r.qps > 0);
  const minRecall = Math.min(0.9, ...pts.map((r) => r.recallAt10));
  const lq = pts.map((r) => Math.log10(r.qps));
  const y0 = Math.floor(Math.min(...lq, 1));
  const y1 = Math.ceil(Math.max(...lq, y0 + 1));
  const names = [...new Set(pts.map((r) => r.index))];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - 80}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  out.push(`<text x="20" y="${H / 2}" text-anchor="middle" transform="rotate(-90 20 ${H / 2})">queries per second (1 thread, log scale)</text>`);
  const full: Panel = { left: 80, top: 60, width: 400, height: 390, x0: Math.max(0, Math.floor(minRecall * 10) / 10), x1: 1, tick: 0.05, title: 'full range' };
  if (1 - full.x0 > 0.5) full.tick = 0.1;
  const zoom: Panel = { left: 540, top: 60, width: 360, height: 390, x0: 0.9, x1: 1, tick: 0.01, title: 'recall 0.90 - 1.00' };
  panel(out, pts, names, full, y0, y1);
  panel(out, pts, names, zoom, y0, y1);
  const lx = zoom.left + zoom.width + 20;
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    const ly = 76 + i * 20;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<circle cx="${lx + 12}" cy="${ly}" r="3.5" fill="${color}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(name)}</text>`);
  });
  out.push(`<text x="${lx}" y="${86 + names.length * 20}" font-size="10" fill="#555">labels: ef / maxLists / nprobe</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
