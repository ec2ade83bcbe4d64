// The experiments dashboard (GET /dashboard): one static page, styled with Pico CSS and charted with
// Apache ECharts, both served from node_modules by this app (no CDN). It reads the same REST API
// as any client: GET /v1/experiments, /v1/experiments/:key/results, /v1/experiments/:key/ope, and
// creates experiments with POST /v1/experiments (Authorization: Bearer <ADMIN_TOKEN> when set).

export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en" data-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Experiments · recsys-suite</title>
<link rel="stylesheet" href="/dashboard/assets/pico.min.css">
<style>
  body { font-size: 15px; }
  main.container { max-width: 1280px; }
  table { font-size: 0.85rem; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .pos { color: #1b7f3b; } .neg { color: #b3261e; }
  .srm { background: #fde7e7; border-left: 4px solid #b3261e; padding: .6rem 1rem; margin-bottom: 1rem; }
  .ok { background: #e6f4ea; border-left: 4px solid #1b7f3b; padding: .6rem 1rem; margin-bottom: 1rem; }
  #chart { width: 100%; height: 320px; }
  tr.selected td { background: #eef3fb; }
  .grid2 { display: grid; grid-template-columns: 2fr 1fr; gap: 1.5rem; }
  .badge { padding: 0 .4rem; border-radius: .3rem; font-size: .75rem; background: #eee; }
  .badge.running { background: #d8f0dd; } .badge.draft { background: #eee; } .badge.stopped { background: #fbe9c6; } .badge.shipped { background: #dbe6fb; }
</style>
</head>
<body>
<main class="container">
  <h1>Experiments</h1>
  <section>
    <table data-testid="experiment-list">
      <thead><tr><th>key</th><th>name</th><th>status</th><th>variants</th><th>coverage</th><th>layer</th><th>started</th></tr></thead>
      <tbody id="list"></tbody>
    </table>
  </section>
  <section id="detail" hidden>
    <h2 id="detail-title"></h2>
    <div id="srm" data-testid="srm"></div>
    <h3>Variants</h3>
    <table data-testid="variant-table"><thead id="vt-head"></thead><tbody id="vt-body"></tbody></table>
    <h3>All metrics <small id="settings"></small></h3>
    <table data-testid="metric-table"><thead><tr><th>metric</th><th>variant</th><th class="num">mean</th><th class="num">lift</th><th class="num">interval</th><th class="num">p</th><th class="num">adj. p</th><th class="num">chance to win</th></tr></thead><tbody id="mt-body"></tbody></table>
    <div class="grid2">
      <article><header>Cumulative lift of <b id="chart-metric"></b> with its confidence sequence</header><div id="chart" data-testid="lift-chart"></div></article>
      <article data-testid="ope-panel"><header>Off-policy estimate (before launch)</header><div id="ope"></div>
        <footer><small>From <code>GET /v1/experiments/:key/ope</code>: IPS and SNIPS (libs/ope) of each variant's <code>adLoadPolicy</code> on the logged ad-load decisions and their propensities.</small></footer></article>
    </div>
  </section>
  <section>
    <h2>Create an experiment</h2>
    <form id="create" data-testid="create-form">
      <div class="grid">
        <label>Key <input name="key" required pattern="[a-z0-9][a-z0-9._-]*" placeholder="slate-policy-v2"></label>
        <label>Name <input name="name" required placeholder="Slate policy v2"></label>
      </div>
      <div class="grid">
        <label>Control variant <input name="control" value="control" required></label>
        <label>Treatment variant <input name="treatment" value="treatment" required></label>
        <label>Treatment share <input name="share" type="number" min="0.01" max="0.99" step="0.01" value="0.5"></label>
      </div>
      <label>Treatment config overrides (JSON) <textarea name="overrides" rows="2">{"slatePolicy": "thompson-v2"}</textarea></label>
      <div class="grid">
        <label>Coverage <input name="coverage" type="number" min="0" max="1" step="0.01" value="1"></label>
        <label>Layer (optional) <input name="layer" pattern="[a-z0-9][a-z0-9._-]*"></label>
        <label>Surfaces (comma-separated, optional) <input name="surfaces"></label>
      </div>
      <div class="grid">
        <label>Admin token <input name="token" type="password" autocomplete="off" placeholder="ADMIN_TOKEN (if set)"></label>
        <label><input type="checkbox" name="start" checked> start now</label>
      </div>
      <button type="submit">Create</button>
      <p id="create-status" data-testid="create-status"></p>
    </form>
  </section>
</main>
<script src="/dashboard/assets/echarts.min.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>`;

export const DASHBOARD_JS = /* js */ `
'use strict';
const $ = (id) => document.getElementById(id);
const pct = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '–' : (100 * x).toFixed(d) + '%');
const fmt = (x, d = 4) => (x === undefined || x === null ? '–' : Math.abs(x) >= 1000 ? x.toFixed(0) : x.toFixed(d));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
let current = null;
let chart = null;

async function api(path, init) {
  const r = await fetch(path, init);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(body.detail || r.statusText), { body, status: r.status });
  return body;
}

async function loadList(select) {
  const { experiments } = await api('/v1/experiments');
  $('list').innerHTML = experiments.map((e) =>
    '<tr data-key="' + esc(e.key) + '"' + (e.key === current ? ' class="selected"' : '') + '><td><a href="#' + esc(e.key) + '">' + esc(e.key) + '</a></td><td>' + esc(e.name) +
    '</td><td><span class="badge ' + e.status + '">' + e.status + '</span></td><td>' + e.variants.map((v) => esc(v.key)).join(', ') +
    '</td><td class="num">' + pct(e.coverage, 0) + '</td><td>' + (e.layer ? esc(e.layer.key) : '') + '</td><td>' + (e.startedAt ? e.startedAt.slice(0, 10) : '') + '</td></tr>').join('');
  const key = select || location.hash.slice(1) || (experiments.find((e) => e.status === 'running') || experiments[0] || {}).key;
  if (key) await show(key);
}

function liftCell(m) {
  if (m.lift === undefined) return '<td class="num">baseline</td>';
  const cls = m.ci && m.ci[0] > 0 ? 'pos' : m.ci && m.ci[1] < 0 ? 'neg' : '';
  return '<td class="num ' + cls + '">' + pct(m.lift) + '</td>';
}

async function show(key) {
  current = key;
  document.querySelectorAll('#list tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.key === key));
  const [exp, res, ope] = await Promise.all([api('/v1/experiments/' + key), api('/v1/experiments/' + key + '/results'), api('/v1/experiments/' + key + '/ope')]);
  $('detail').hidden = false;
  $('detail-title').textContent = exp.name + ' (' + exp.key + ', ' + exp.status + ')';
  $('settings').textContent = (res.settings.sequential ? 'sequential (always-valid) ' : 'fixed-horizon ') + (1 - res.settings.alpha) * 100 + '% intervals' + (res.settings.cuped ? ', CUPED' : '') + ', ' + res.settings.correction + ' correction';
  $('srm').className = res.srm.alarm ? 'srm' : 'ok';
  $('srm').textContent = res.srm.alarm
    ? 'Sample ratio mismatch: p = ' + res.srm.pValue.toExponential(2) + ' < 0.001. The split of users does not match the weights; do not trust these results.'
    : 'No sample ratio mismatch (p = ' + res.srm.pValue.toFixed(3) + ').';
  const primary = res.daily.metric;
  const metricKeys = [...new Set(res.metrics.map((m) => m.metric))];
  const labels = Object.fromEntries(res.metrics.map((m) => [m.metric, m.label]));
  $('vt-head').innerHTML = '<tr><th>variant</th><th class="num">users</th><th class="num">weight</th>' + metricKeys.map((k) => '<th class="num">' + esc(labels[k]) + '</th>').join('') +
    '<th class="num">lift (' + esc(primary) + ')</th><th class="num">interval</th><th class="num">chance to win</th></tr>';
  const totalW = res.variants.reduce((s, v) => s + v.weight, 0);
  $('vt-body').innerHTML = res.variants.map((v) => {
    const row = (k) => res.metrics.find((m) => m.metric === k && m.variant === v.key);
    const p = row(primary);
    return '<tr data-variant="' + esc(v.key) + '"><td>' + esc(v.key) + '</td><td class="num" data-testid="users-' + esc(v.key) + '">' + v.users + '</td><td class="num">' + pct(v.weight / totalW, 0) + '</td>' +
      metricKeys.map((k) => '<td class="num" data-testid="mean-' + esc(k) + '-' + esc(v.key) + '">' + fmt(row(k).mean) + '</td>').join('') +
      '<td class="num" data-testid="lift-' + esc(v.key) + '">' + (p.lift === undefined ? 'baseline' : pct(p.lift)) + '</td><td class="num">' + (p.ci ? '[' + pct(p.ci[0]) + ', ' + pct(p.ci[1]) + ']' : '') +
      '</td><td class="num" data-testid="ctw-' + esc(v.key) + '">' + (p.chanceToWin === undefined ? '' : pct(p.chanceToWin, 1)) + '</td></tr>';
  }).join('');
  $('mt-body').innerHTML = res.metrics.map((m) => '<tr><td>' + esc(m.label) + '</td><td>' + esc(m.variant) + '</td><td class="num">' + fmt(m.mean) + '</td>' + liftCell(m) +
    '<td class="num">' + (m.ci ? '[' + pct(m.ci[0]) + ', ' + pct(m.ci[1]) + ']' : '') + '</td><td class="num">' + (m.pValue === undefined ? '' : fmt(m.pValue)) +
    '</td><td class="num">' + (m.adjustedPValue === undefined ? '' : fmt(m.adjustedPValue)) + '</td><td class="num">' + (m.chanceToWin === undefined ? '' : pct(m.chanceToWin, 1)) + '</td></tr>').join('');
  drawChart(res);
  drawOpe(ope, res);
  document.body.dataset.loaded = key;
}

function drawChart(res) {
  $('chart-metric').textContent = res.daily.metric;
  if (!chart) chart = echarts.init($('chart'), null, { renderer: 'svg' });
  const variants = [...new Set(res.daily.points.map((p) => p.variant))];
  const days = [...new Set(res.daily.points.map((p) => p.day))];
  const series = [];
  const colors = ['#3b6fd8', '#d8663b', '#2f9e6e', '#9b59b6'];
  variants.forEach((v, i) => {
    const pts = res.daily.points.filter((p) => p.variant === v);
    const at = (d) => pts.find((p) => p.day === d);
    series.push({ name: v + ' lower', type: 'line', stack: 'cs-' + v, stackStrategy: 'all', data: days.map((d) => (at(d) ? 100 * at(d).ci[0] : null)), lineStyle: { opacity: 0 }, symbol: 'none', silent: true });
    series.push({ name: v + ' CS', type: 'line', stack: 'cs-' + v, stackStrategy: 'all', data: days.map((d) => (at(d) ? 100 * (at(d).ci[1] - at(d).ci[0]) : null)), lineStyle: { opacity: 0 }, areaStyle: { color: colors[i % 4], opacity: 0.18 }, symbol: 'none', silent: true });
    series.push({ name: v, type: 'line', data: days.map((d) => (at(d) ? 100 * at(d).lift : null)), color: colors[i % 4], symbolSize: 6 });
  });
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (x) => (x === null || x === undefined ? '' : x.toFixed(2) + '%') },
    legend: { data: variants },
    grid: { left: 50, right: 20, top: 30, bottom: 30 },
    xAxis: { type: 'category', data: days },
    yAxis: { type: 'value', name: 'lift %', axisLabel: { formatter: '{value}%' } },
    series: series.concat([{ type: 'line', data: days.map(() => 0), lineStyle: { type: 'dashed', color: '#888' }, symbol: 'none', silent: true, name: 'zero' }]),
  }, true);
}

function drawOpe(ope, res) {
  if (!ope.available) { $('ope').innerHTML = '<p data-testid="ope-unavailable">No estimate: ' + esc(ope.reason) + '</p>'; return; }
  const ab = (v) => res.metrics.find((m) => m.metric === 'ctr' && m.variant === v);
  $('ope').innerHTML = '<p>' + ope.logged + ' logged ad-load decisions; clicks per fetch under the logging policy: ' + fmt(ope.loggedValue) + '</p>' +
    '<table><thead><tr><th>variant</th><th>estimator</th><th class="num">clicks / fetch</th><th class="num">95% CI</th><th class="num">ESS</th><th class="num">A/B CTR lift</th></tr></thead><tbody>' +
    ope.estimates.map((e) => '<tr><td>' + esc(e.variant) + '</td><td>' + e.estimator + '</td><td class="num" data-testid="ope-' + esc(e.variant) + '-' + e.estimator + '">' + fmt(e.value) + '</td><td class="num">[' + fmt(e.ci[0]) + ', ' + fmt(e.ci[1]) +
      ']</td><td class="num">' + fmt(e.ess, 0) + '</td><td class="num">' + (ab(e.variant) && ab(e.variant).lift !== undefined ? pct(ab(e.variant).lift) : res.status === 'running' ? 'baseline' : 'not running') + '</td></tr>').join('') + '</tbody></table>';
}

$('create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const share = Number(f.get('share'));
  let overrides;
  try { overrides = JSON.parse(f.get('overrides') || '{}'); } catch { $('create-status').textContent = 'overrides must be JSON'; return; }
  const body = {
    key: f.get('key'), name: f.get('name'), coverage: Number(f.get('coverage')), start: f.get('start') === 'on',
    variants: [{ key: f.get('control'), weight: 1 - share, overrides: {} }, { key: f.get('treatment'), weight: share, overrides }],
  };
  if (f.get('layer')) body.layer = f.get('layer');
  const surfaces = String(f.get('surfaces') || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (surfaces.length) body.targeting = { surfaces };
  const token = f.get('token');
  if (token) localStorage.setItem('recsys-admin-token', token);
  const auth = token || localStorage.getItem('recsys-admin-token');
  try {
    const e = await api('/v1/experiments', { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bearer ' + auth } : {}) }, body: JSON.stringify(body) });
    $('create-status').textContent = 'Created ' + e.key + ' (' + e.status + ')';
    location.hash = e.key;
    await loadList(e.key);
  } catch (err) {
    $('create-status').textContent = 'Failed: ' + err.message + (err.body && err.body.errors ? ' ' + JSON.stringify(err.body.errors) : '');
  }
});
window.addEventListener('hashchange', () => location.hash && show(location.hash.slice(1)));
window.addEventListener('resize', () => chart && chart.resize());
loadList().catch((e) => { document.body.dataset.error = e.message; });
`;
