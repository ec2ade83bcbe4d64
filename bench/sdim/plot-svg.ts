/** A small log-log SVG: time per request of SDIM and of target attention against history length. */
export interface PlotRow {
  L: number;
  sdimMs: number;
  attentionMs: number;
  speedup: number;
}

export function timingSvg(rows: readonly PlotRow[], title: string): string {
  const W = 520;
  const H = 320;
  const m = { l: 60, r: 20, t: 36, b: 46 };
  const xs = rows.map((r) => Math.log10(r.L));
  const ys = rows.flatMap((r) => [Math.log10(r.sdimMs), Math.log10(r.attentionMs)]);
  const x0 = Math.min(...xs) - 0.15;
  const x1 = Math.max(...xs) + 0.15;
  const y0 = Math.floor(Math.min(...ys));
  const y1 = Math.ceil(Math.max(...ys));
  const px = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const line = (key: 'sdimMs' | 'attentionMs', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${rows.map((r) => `${px(Math.log10(r.L)).toFixed(1)},${py(Math.log10(r[key])).toFixed(1)}`).join(' ')}"/>` +
    rows.map((r) => `<circle cx="${px(Math.log10(r.L)).toFixed(1)}" cy="${py(Math.log10(r[key])).toFixed(1)}" r="3.5" fill="${color}"/>`).join('');
  const grid: string[] = [];
  for (let e = y0; e <= y1; e++) {
    grid.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(e)}" y2="${py(e)}" stroke="#ddd"/><text x="${m.l - 6}" y="${py(e) + 4}" text-anchor="end" font-size="11">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ms</text>`);
  }
  const ticks = rows.map(
    (r) =>
      `<text x="${px(Math.log10(r.L))}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">L=${r.L}</text>` +
      `<text x="${px(Math.log10(r.L))}" y="${py(Math.log10(r.attentionMs)) - 8}" text-anchor="middle" font-size="10" fill="#555">${r.speedup.toFixed(0)}x</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${title}</text>
${grid.join('\n')}
${line('attentionMs', '#d62728')}
${line('sdimMs', '#1f77b4')}
${ticks.join('\n')}
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">history length L (log scale); labels: speedup of SDIM over exact target attention</text>
<rect x="${m.l + 10}" y="${m.t + 4}" width="12" height="3" fill="#d62728"/><text x="${m.l + 28}" y="${m.t + 9}" font-size="11">exact target attention (compute only)</text>
<rect x="${m.l + 10}" y="${m.t + 20}" width="12" height="3" fill="#1f77b4"/><text x="${m.l + 28}" y="${m.t + 25}" font-size="11">SDIM: fetch tables from Redis + hash + interest</text>
</svg>
`;
}
