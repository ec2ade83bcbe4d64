/**
 * The demo page at `/`: a demo user's feed (items, ads marked, the variant, degraded stages), a user
 * switcher, and a click that goes through POST /v1/events (feed.feedback + user.behaviors, and
 * ads.events for an ad) before the next fetch. Plain HTML and script: no CDN, no build step.
 */
export function demoPage(users: string[]): string {
  const options = users.map((u) => `<option value="${u}">${u}</option>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>recsys-suite demo feed</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem;color:#222}
header{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}
select,input,button{font:inherit;padding:.3rem .5rem}
#meta{margin:.75rem 0;font-size:.9rem;color:#444}
.badge{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;margin-right:.3rem}
.ad{background:#ffe08a}.deg{background:#f8c4c4}.var{background:#cfe3ff}.ok{background:#cdeccd}
ol{padding-left:1.5rem}li{margin:.35rem 0;padding:.4rem;border:1px solid #ddd;border-radius:6px;display:flex;justify-content:space-between;align-items:center}
li.isad{border-color:#e0b000;background:#fffbe8}.small{font-size:.8rem;color:#666}
#status{font-size:.85rem;color:#666}
</style></head>
<body>
<h1>recsys-suite: demo feed</h1>
<header>
  <label>user <select id="user">${options}</select></label>
  <label>or <input id="custom" placeholder="any user id" size="14"></label>
  <label>surface <input id="surface" value="home" size="8"></label>
  <label>limit <input id="limit" type="number" value="20" min="1" max="100" style="width:4rem"></label>
  <button id="refresh">Fetch feed</button>
  <label class="small">API key <input id="apikey" placeholder="rsk_... (if required)" size="18"></label>
</header>
<div id="meta"></div>
<ol id="items"></ol>
<p id="status"></p>
<script>
const $ = (id) => document.getElementById(id);
$('apikey').value = localStorage.getItem('recsys-api-key') || '';
$('apikey').onchange = () => localStorage.setItem('recsys-api-key', $('apikey').value.trim());
const headers = () => { const k = $('apikey').value.trim(); return k ? { 'x-api-key': k } : {}; };
const user = () => $('custom').value.trim() || $('user').value;
let last;
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]); }
async function load() {
  const q = new URLSearchParams({ userId: user(), surface: $('surface').value || 'home', limit: $('limit').value || '20' });
  const res = await fetch('/v1/feed?' + q, { headers: headers() });
  const body = await res.json();
  if (!res.ok) { $('status').textContent = res.status + ' ' + (body.code || '') + ': ' + (body.detail || ''); return; }
  last = body;
  const variants = Object.entries(body.variants).map(([e, v]) => '<span class="badge var">' + esc(e) + ': ' + esc(v) + '</span>').join('') || '<span class="small">no experiment</span>';
  const degraded = body.degraded.length ? body.degraded.map((s) => '<span class="badge deg">' + esc(s) + ' degraded</span>').join('') : '<span class="badge ok">all stages served</span>';
  $('meta').innerHTML = 'variants ' + variants + ' &middot; ' + degraded + ' &middot; coverage ' + body.coverage +
    ' &middot; source ' + esc(body.source) + ' &middot; slate policy ' + esc(body.slatePolicy) +
    (body.adLoad ? ' &middot; ad-load ' + body.adLoad.adSlots + ' slots (p=' + body.adLoad.propensity.toFixed(3) + ')' : '') +
    ' &middot; ' + body.timingsMs.total + ' ms<br><span class="small">request ' + esc(body.requestId) + '</span>';
  $('items').innerHTML = body.items.map((it, i) =>
    '<li class="' + (it.isAd ? 'isad' : '') + '"><span>' + (it.isAd ? '<span class="badge ad">AD</span>' : '') + '<b>' + esc(it.itemId) + '</b> ' +
    (it.group ? '<span class="small">' + esc(it.group) + '</span> ' : '') +
    '<span class="small">score ' + (it.score === undefined ? '-' : it.score.toFixed(4)) + ' &middot; p ' + it.propensity.toFixed(3) +
    (it.isAd ? ' &middot; campaign ' + esc(it.campaignId) + ' &middot; price ' + it.price : '') + '</span></span>' +
    '<button data-i="' + i + '">click</button></li>').join('');
  $('status').textContent = '';
  // Ads shown: an impression each, with the ads service's token (CPM campaigns bill on it).
  const shown = body.items.filter((it) => it.isAd).map((it) => ({ topic: 'ads.events', eventId: 'imp-' + body.requestId + '-' + it.position, adId: it.adId, campaignId: it.campaignId, userId: body.userId, requestId: body.requestId, type: 'impression', ...(it.adToken ? { token: it.adToken } : {}) }));
  if (shown.length) fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body: JSON.stringify({ events: shown }) });
}
async function click(i) {
  const it = last.items[i];
  const id = (p) => p + '-' + last.requestId + '-' + i;
  const events = [
    { topic: 'feed.feedback', eventId: id('fb'), userId: last.userId, itemId: it.itemId, requestId: last.requestId, type: 'click' },
  ];
  // The behaviour history is about catalog items, not ads.
  if (!it.isAd) events.push({ topic: 'user.behaviors', eventId: id('bh'), userId: last.userId, itemId: it.itemId, type: 'click', surface: last.surface });
  // An ad click needs nothing more: the ads service bills the feed.feedback click of its fill (requestId + adId).
  const res = await fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body: JSON.stringify({ events }) });
  const body = await res.json();
  $('status').textContent = res.ok ? 'click on ' + it.itemId + ' sent (' + body.accepted + ' events); fetching the next feed...' : res.status + ' ' + body.code + ': ' + body.detail;
  if (res.ok) setTimeout(load, 300);
}
$('items').onclick = (e) => { const b = e.target.closest('button'); if (b) click(Number(b.dataset.i)); };
$('refresh').onclick = load; $('user').onchange = () => { $('custom').value = ''; load(); };
load();
</script>
</body></html>`;
}
