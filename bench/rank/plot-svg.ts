/** Bar chart of the serving latency per candidate count: feature and model medians stacked, p99 marked. */
export interface RankPlotRow {
  candidates: number;
  threads: number;
  p50Ms: number;
  p99Ms: number;
  featureMs: number;
  modelMs: number;
}

export function rankSvg(rows: readonly RankPlotRow[], title: string, subtitle: string, targetMs?: number): string {
  const W = 640;
  const H = 360;
  const m = { l: 56, r: 20, t: 48, b: 64 };
  const yMax = Math.max(...rows.map((r) => r.p99Ms), targetMs ?? 0) * 1.15;
  const py = (v: number) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const groups = [...new Set(rows.map((r) => r.candidates))];
  const threads = [...new Set(rows.map((r) => r.threads))];
  const gw = (W - m.l - m.r) / groups.length;
  const bw = Math.min(48, (gw * 0.7) / threads.length);
  const colors = { feature: '#ff7f0e', model: '#1f77b4' };
  const parts: string[] = [];
  const step = niceStep(yMax);
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${+v.toFixed(2)} ms</text>`);
  }
  groups.forEach((c, gi) => {
    const cx = m.l + gw * (gi + 0.5);
    parts.push(`<text x="${cx}" y="${H - m.b + 30}" text-anchor="middle" font-size="12">${c} candidates</text>`);
    threads.forEach((t, ti) => {
      const r = rows.find((x) => x.candidates === c && x.threads === t);
      if (!r) return;
      const x = cx - (threads.length * bw) / 2 + ti * bw + 2;
      const w = bw - 4;
      const fTop = py(r.featureMs);
      const mTop = py(r.featureMs + r.modelMs);
      parts.push(`<rect x="${x.toFixed(1)}" y="${fTop.toFixed(1)}" width="${w.toFixed(1)}" height="${(py(0) - fTop).toFixed(1)}" fill="${colors.feature}"/>`);
      parts.push(`<rect x="${x.toFixed(1)}" y="${mTop.toFixed(1)}" width="${w.toFixed(1)}" height="${(fTop - mTop).toFixed(1)}" fill="${colors.model}"/>`);
      const p99 = py(r.p99Ms);
      parts.push(`<line x1="${x.toFixed(1)}" x2="${(x + w).toFixed(1)}" y1="${p99.toFixed(1)}" y2="${p99.toFixed(1)}" stroke="#000" stroke-width="2"/>`);
      parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(p99 - 4).toFixed(1)}" text-anchor="middle" font-size="10">${r.p99Ms.toFixed(2)}</text>`);
      parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10" fill="#555">${t} thr</text>`);
    });
  });
  if (targetMs !== undefined && targetMs <= yMax) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(targetMs).toFixed(1)}" y2="${py(targetMs).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${(py(targetMs) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#d62728">target p99 ${targetMs} ms (500 candidates, 1 thread)</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>
<text x="${W / 2}" y="34" text-anchor="middle" font-size="10" fill="#555">${esc(subtitle)}</text>
${parts.join('\n')}
<rect x="${m.l + 8}" y="${H - 22}" width="12" height="10" fill="${colors.feature}"/><text x="${m.l + 24}" y="${H - 13}" font-size="11">feature assembly (median)</text>
<rect x="${m.l + 190}" y="${H - 22}" width="12" height="10" fill="${colors.model}"/><text x="${m.l + 206}" y="${H - 13}" font-size="11">model run (median)</text>
<line x1="${m.l + 340}" x2="${m.l + 356}" y1="${H - 17}" y2="${H - 17}" stroke="#000" stroke-width="2"/><text x="${m.l + 362}" y="${H - 13}" font-size="11">p99 end to end (in process)</text>
</svg>
`;
}

function niceStep(max: number): number {
  const raw = max / 6;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((k) => k * p).find((s) => s >= raw) ?? raw;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
