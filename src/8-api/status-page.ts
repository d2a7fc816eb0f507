// The live status page at `/`: one self-contained HTML file, no build step. It holds no data
// itself: it asks for an API token (kept in the browser's localStorage), polls /v1/status every
// second and /v1/history once a step (10 s by default), draws the last hour with uPlot (served
// from node_modules at /assets/), shows each target's share of its pool over the last minute as
// gslbd counted it, lists every recent change, and drains / undrains targets through the API
// (PUT / DELETE .../override).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

/** uPlot's script and style, from the package, read once: the page's only assets. */
export const ASSETS = ['/assets/uplot.js', '/assets/uplot.css'];
const require = createRequire(import.meta.url);
const asset = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`));

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
.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start} .chart h3{font-size:1em;margin:.2em 0}
.timeline{width:640px;margin:.2em 0 1em} .tl-row{display:flex;align-items:center;height:14px;margin:2px 0}
.tl-row .lbl{width:11em;font-size:12px;overflow:hidden;white-space:nowrap} .tl-row .bar{position:relative;flex:1;height:12px;background:#eee}
.seg{position:absolute;top:0;height:12px;min-width:2px} .seg.up{background:#3c9a4a} .seg.down{background:#c8323c} .seg.drain{background:#e0901e}
.seg.by-override{outline:1px solid #7a4a00}
</style>
<link rel="stylesheet" href="/assets/uplot.css"><script src="/assets/uplot.js"></script></head><body>
<h1>gslbd <span id="summary" class="muted"></span></h1>
<form id="auth"><label>API token <input id="token" type="password" autocomplete="off" size="30"></label> <button>Use</button></form>
<div id="err" role="alert"></div>
<div id="zones"></div>
<h2>Queries/s per zone and rcode <span class="muted">(last hour)</span></h2><div id="queries" class="chart"></div>
<h2>Traffic share and state over time <span class="muted">(last hour)</span></h2><div id="pools" class="charts"></div>
<h2>Recent state changes</h2><table id="events"><thead><tr><th>when</th><th>targets</th><th>change</th><th>by</th><th>reason</th></tr></thead><tbody></tbody></table>
<script>
const $ = (s) => document.querySelector(s);
let token = localStorage.getItem('gslbd-token') || '';
$('#token').value = token;
$('#auth').onsubmit = (e) => { e.preventDefault(); token = $('#token').value.trim(); localStorage.setItem('gslbd-token', token); poll(); pollHistory(); };
let hist = null; // the last /v1/history
const charts = { queries: null, shares: {} }; // uPlot instances, kept across polls
window.gslbdCharts = charts;
const COLORS = ['#4a7bd0', '#d0584a', '#3c9a4a', '#e0901e', '#8a4ad0', '#2aa0a0', '#b0b030', '#d04a9a', '#555'];
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
// Each target's share: over the last minute as gslbd counted it (/v1/history); with no answers in
// that minute, over every answer since gslbd started, marked so.
function shares(status) {
  const out = {};
  for (const z of status.zones) for (const p of z.pools) {
    const total = p.targets.reduce((n, t) => n + t.answers, 0);
    for (const t of p.targets) {
      const recent = hist && hist.share_1m[p.pool + '\\t' + t.address];
      out[p.pool + ' ' + t.address] = recent != null ? { s: recent, all: false } : total ? { s: t.answers / total, all: true } : null;
    }
  }
  return out;
}
function lineChart(el, title, labels, data, opts) {
  const series = [{}].concat(labels.map((l, i) => ({ label: l, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: !!opts.spanGaps })));
  return new uPlot({ title, width: opts.width, height: opts.height, series, scales: { x: { time: true }, y: opts.y || {} }, axes: [{}, { size: 50 }], legend: { live: false } }, data, el);
}
// A chart is made once per set of series and then given new data: it moves without flicker.
function plot(holder, key, el, title, labels, data, opts) {
  const sig = labels.join('|');
  let u = holder[key];
  if (u && u.gslbdSig === sig) { u.setData(data); return u; }
  if (u) u.destroy();
  el.innerHTML = '';
  u = lineChart(el, title, labels, data, opts);
  u.gslbdSig = sig;
  holder[key] = u;
  return u;
}
function drawHistory() {
  if (!hist || typeof uPlot === 'undefined') return;
  const xs = hist.times;
  const q = hist.queries.filter((s) => s.values.some((v) => v));
  plot(charts, 'queries', $('#queries'), '', q.map((s) => (s.zone || '(no zone)') + ' ' + s.rcode), [xs].concat(q.map((s) => s.values)), { width: 900, height: 220 });
  const seen = new Set();
  for (const p of hist.shares) {
    seen.add(p.pool);
    const box = poolBox(p.pool);
    box.querySelector('.note').textContent = 'share per target';
    plot(charts.shares, p.pool, box.querySelector('.share'), '', p.targets.map((t) => t.address), [xs].concat(p.targets.map((t) => t.values)), { width: 640, height: 160, y: { range: [0, 1] }, spanGaps: true });
  }
  // Every pool has its timeline, those with no answer yet too.
  for (const st of hist.states) if (!seen.has(st.pool)) seen.add(st.pool);
  for (const pool of seen) timeline(poolBox(pool).querySelector('.timeline'), pool);
}
// One box per pool, made once: its share chart (once it has answers) above its state timeline.
function poolBox(pool) {
  let box = $('#pools').querySelector('[data-chart-pool="' + CSS.escape(pool) + '"]');
  if (!box) {
    box = document.createElement('div');
    box.className = 'chart';
    box.dataset.chartPool = pool;
    box.innerHTML = '<h3>' + esc(pool) + ' <span class="muted note">no answers yet</span></h3><div class="share"></div><div class="timeline"></div>';
    $('#pools').appendChild(box);
  }
  return box;
}
// Each target's state over the hour: up, down, drain, outlined when an override decided; the
// signal that decided on hover.
function timeline(el, pool) {
  const t0 = hist.times.length ? hist.times[0] - hist.step_s : 0, t1 = hist.times.length ? hist.times[hist.times.length - 1] : 1;
  const span = Math.max(1, t1 - t0);
  let html = '';
  for (const st of hist.states) if (st.pool === pool) {
    html += '<div class="tl-row" data-target="' + esc(st.address) + '"><span class="lbl">' + esc(st.address) + '</span><span class="bar">';
    for (const g of st.spans) {
      const left = Math.max(0, (g.from - t0) / span * 100), width = Math.max(0.3, (g.to - g.from + hist.step_s) / span * 100);
      html += '<span class="seg ' + esc(g.state) + ' by-' + esc(g.because) + '" data-state="' + esc(g.state) + '" data-because="' + esc(g.because) + '" style="left:' + left.toFixed(2) + '%;width:' + Math.min(100 - left, width).toFixed(2) + '%" title="' + esc(g.state + ' (' + g.because + ') ' + new Date(g.from * 1000).toLocaleTimeString() + '–' + new Date(g.to * 1000).toLocaleTimeString()) + '"></span>';
    }
    html += '</span></div>';
  }
  el.innerHTML = html;
}
let histTimer = null;
async function pollHistory() {
  clearTimeout(histTimer);
  if (!token) return;
  try { hist = await api('GET', '/v1/history'); drawHistory(); } catch (e) { $('#err').textContent = e.message; }
  // Once a step (10 s by default), at most every 2 s: a new sample comes no more often.
  histTimer = setTimeout(pollHistory, Math.max(2000, (hist ? hist.step_s : 2) * 1000));
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
          + '<td class="share">' + (s == null ? '—' : '<span class="bar" style="width:' + Math.round(s.s * 80) + 'px"></span> ' + Math.round(s.s * 100) + '%' + (s.all ? ' <span class="muted" title="no answers in the last minute: since gslbd started">(all)</span>' : '')) + '</td>'
          + '<td><button class="drain" data-zone="' + esc(z.zone) + '" data-pool="' + esc(p.pool) + '" data-address="' + esc(t.address) + '" data-drain="' + (drained ? '0' : '1') + '">' + (drained ? 'undrain' : 'drain') + '</button></td></tr>';
      }
      html += '</tbody></table>';
    }
  }
  $('#zones').innerHTML = html;
  for (const b of document.querySelectorAll('button.drain')) b.onclick = () => setDrain(b.dataset.zone, b.dataset.pool, b.dataset.address, b.dataset.drain === '1');
  $('#events tbody').innerHTML = status.events.slice().reverse().map((e) => '<tr data-kind="' + esc(e.kind) + '"><td>' + new Date(e.at).toLocaleTimeString() + '</td><td>' + esc(e.targets.join(', ')) + '</td><td>'
    + (e.kind === 'probe' ? '<span class="' + esc(e.from) + '">' + esc(e.from) + '</span> → <span class="' + esc(e.to) + '">' + esc(e.to) + '</span>' : esc(e.change) + (e.to ? ' → <span class="' + esc(e.to) + '">' + esc(e.to) + '</span>' : ''))
    + '</td><td class="muted">' + esc(e.source) + '</td><td>' + esc(e.reason) + '</td></tr>').join('');
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
pollHistory();
</script></body></html>`;

export function statusPage(app: FastifyInstance): void {
  const page = (_req: unknown, reply: { type(t: string): void }) => {
    reply.type('text/html; charset=utf-8');
    return PAGE;
  };
  const schema = { hide: true };
  app.get('/', { schema }, page);
  app.get('/index.html', { schema }, page);
  const script = asset('uPlot.iife.min.js');
  const style = asset('uPlot.min.css');
  app.get(ASSETS[0]!, { schema }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'max-age=86400').send(script),
  );
  app.get(ASSETS[1]!, { schema }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'max-age=86400').send(style),
  );
}
