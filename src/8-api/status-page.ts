// The live status page at `/`: one self-contained HTML file, no build step. It holds no data
// itself: it asks for an API token (kept in the browser's localStorage), polls /v1/status every
// second, computes each target's traffic share over the last minute from the answer counters, and
// drains / undrains targets through the API (PUT / DELETE .../override).

import type { FastifyInstance } from 'fastify';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gslbd status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .5em} h2{font-size:1.1em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 1em} th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}
/* The same column widths in every pool's table, so the tables line up (cells still grow to fit). */
table[data-pool] th:nth-child(1){width:17em} table[data-pool] th:nth-child(2){width:6em} table[data-pool] th:nth-child(3){width:5em}
table[data-pool] th:nth-child(4){width:22em} table[data-pool] th:nth-child(5){width:4em} table[data-pool] th:nth-child(6){width:5em}
table[data-pool] th:nth-child(7){width:9em} table[data-pool] th:nth-child(8){width:5.5em}
th{background:#f4f4f4} .up{color:#067d17;font-weight:600} .down{color:#b00020;font-weight:600}
td.drain,td.by-override{color:#a15c00;font-weight:600} .muted{color:#777} #err{color:#b00020}
button{font:inherit;padding:.1em .6em} .bar{display:inline-block;height:.7em;background:#4a7bd0;vertical-align:middle}
</style></head><body>
<h1>gslbd <span id="summary" class="muted"></span></h1>
<form id="auth"><label>API token <input id="token" type="password" autocomplete="off" size="30"></label> <button>Use</button></form>
<div id="err" role="alert"></div>
<div id="zones"></div>
<h2>Recent state changes</h2><table id="events"><thead><tr><th>when</th><th>targets</th><th>change</th><th>reason</th></tr></thead><tbody></tbody></table>
<script>
const $ = (s) => document.querySelector(s);
let token = localStorage.getItem('gslbd-token') || '';
$('#token').value = token;
$('#auth').onsubmit = (e) => { e.preventDefault(); token = $('#token').value.trim(); localStorage.setItem('gslbd-token', token); poll(); };
const samples = []; // [time, {key: answers}] over the last minute
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const ago = (ms) => ms == null ? '' : Math.max(0, Math.round((Date.now() - ms) / 1000)) + 's ago';
async function api(method, url, body) {
  const r = await fetch(url, { method, headers: { Authorization: 'Bearer ' + token, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  if (!r.ok) throw new Error(method + ' ' + url + ': ' + r.status + ' ' + ((await r.json().catch(() => ({}))).error?.message ?? ''));
  return r.json();
}
async function setDrain(zone, pool, address, drain) {
  const url = '/v1/zones/' + encodeURIComponent(zone) + '/pools/' + encodeURIComponent(pool) + '/targets/' + encodeURIComponent(address) + '/override';
  try { await (drain ? api('PUT', url, { state: 'drain', reason: 'drained from the status page' }) : api('DELETE', url)); $('#err').textContent = ''; poll(); }
  catch (e) { $('#err').textContent = e.message; }
}
function shares(status) {
  const now = Date.now(), counts = {};
  for (const z of status.zones) for (const p of z.pools) for (const t of p.targets) counts[p.pool + ' ' + t.address] = t.answers;
  samples.push([now, counts]);
  while (samples.length > 1 && now - samples[0][0] > 60000) samples.shift();
  const first = samples[0][1], out = {};
  for (const z of status.zones) for (const p of z.pools) {
    let total = 0; const d = {};
    for (const t of p.targets) { const k = p.pool + ' ' + t.address; d[k] = Math.max(0, t.answers - (first[k] ?? t.answers)); total += d[k]; }
    for (const k in d) out[k] = total ? d[k] / total : null;
  }
  return out;
}
function render(status) {
  const share = shares(status);
  $('#summary').textContent = status.zones.length + ' zones, ' + status.zones.reduce((n, z) => n + z.pools.length, 0) + ' pools';
  let html = '';
  for (const z of status.zones) {
    html += '<h2>' + esc(z.zone) + ' <span class="muted">serial ' + z.serial + '</span></h2>';
    for (const p of z.pools) {
      html += '<table data-pool="' + esc(p.pool) + '"><caption style="text-align:left"><b>' + esc(p.pool) + '</b> <span class="muted">' + esc(p.policy) + ', ttl ' + p.ttl + '</span></caption>'
        + '<thead><tr><th>target</th><th>state</th><th>since</th><th>last probe</th><th>weight</th><th>load</th><th>share (1 min)</th><th></th></tr></thead><tbody>';
      for (const t of p.targets) {
        const s = share[p.pool + ' ' + t.address];
        const drained = t.state === 'drain' && t.override === 'drain';
        // The verdict's words (7-state/verdict.ts): state up | down | drain, because the signal that decided; reasonText's line as the title.
        const votes = t.votes ? Object.keys(t.votes).map((n) => n + ' ' + t.votes[n]).join(', ') : '';
        const why = t.reason_text + (votes ? '; votes: ' + votes : '');
        const probe = t.last_probe ? (t.last_probe.ok ? 'pass' : 'fail') + ': ' + t.last_probe.reason + ' (' + t.last_probe.latency_ms + ' ms, ' + ago(t.last_probe.at) + ')' : '—';
        html += '<tr data-target="' + esc(t.address) + '"><td>' + esc(t.address) + '</td><td class="state ' + esc(t.state) + ' by-' + esc(t.because) + '" title="' + esc(why) + '">' + esc(t.state) + '</td>'
          + '<td>' + ago(t.since) + '</td><td class="muted" title="' + esc(probe) + '">' + esc(probe) + '</td>'
          + '<td>' + t.weight + '</td><td>' + (t.load ? esc(t.load.load + '/' + t.load.capacity) : '—') + '</td>'
          + '<td>' + (s == null ? '—' : '<span class="bar" style="width:' + Math.round(s * 80) + 'px"></span> ' + Math.round(s * 100) + '%') + '</td>'
          + '<td><button class="drain" data-zone="' + esc(z.zone) + '" data-pool="' + esc(p.pool) + '" data-address="' + esc(t.address) + '" data-drain="' + (drained ? '0' : '1') + '">' + (drained ? 'undrain' : 'drain') + '</button></td></tr>';
      }
      html += '</tbody></table>';
    }
  }
  $('#zones').innerHTML = html;
  for (const b of document.querySelectorAll('button.drain')) b.onclick = () => setDrain(b.dataset.zone, b.dataset.pool, b.dataset.address, b.dataset.drain === '1');
  $('#events tbody').innerHTML = status.events.slice().reverse().map((e) => '<tr><td>' + new Date(e.at).toLocaleTimeString() + '</td><td>' + esc(e.targets.join(', ')) + '</td><td><span class="' + e.from + '">' + e.from + '</span> → <span class="' + e.to + '">' + e.to + '</span></td><td>' + esc(e.reason) + '</td></tr>').join('');
}
let timer = null;
async function poll() {
  clearTimeout(timer);
  if (!token) { $('#err').textContent = 'Enter an API token (read access is enough to watch; write access to drain).'; return; }
  try { render(await api('GET', '/v1/status')); $('#err').textContent = ''; }
  catch (e) { $('#err').textContent = e.message; }
  timer = setTimeout(poll, 1000);
}
poll();
</script></body></html>`;

export function statusPage(app: FastifyInstance): void {
  const page = (_req: unknown, reply: { type(t: string): void }) => {
    reply.type('text/html; charset=utf-8');
    return PAGE;
  };
  const schema = { hide: true };
  app.get('/', { schema }, page);
  app.get('/index.html', { schema }, page);
}
