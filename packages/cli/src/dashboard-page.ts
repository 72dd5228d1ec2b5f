/**
 * The live dashboard's page: self-contained (no network but the control API it came from). It reads the admin token
 * from the URL fragment (`#token=…`, which browsers never send to a server) or asks for it, loads the state, then
 * receives a new state over the WebSocket `/dashboard/events` at every change. Every text from the sim is put in the
 * page with `textContent`, never as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pxsim dashboard</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 18px 0 6px; }
#conn { font-size: 12px; color: #555; } #conn.down { color: #c0392b; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
.state { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
.Online { background: #2e9d4b; } .Out-of-Quorum { background: #e8a317; } .Offline { background: #c0392b; }
.Initializing { background: #7fb3d5; } .down { background: #4a4a4a; } .Active { background: #2e9d4b; } .Inactive { background: #c0392b; }
button { margin: 2px; } #error { color: #c0392b; white-space: pre-wrap; } .muted { color: #777; }
</style></head>
<body>
<h1>pxsim <span id="cluster"></span></h1>
<div id="conn">connecting…</div>
<div id="auth" hidden><label>Admin token: <input id="token" type="password" size="40"></label> <button id="use-token">Connect</button></div>
<div id="error"></div>
<h2>Cluster domains</h2><table id="domains"><thead><tr><th>domain</th><th>state</th><th>nodes</th><th></th></tr></thead><tbody></tbody></table>
<h2>Nodes</h2><table id="nodes"><thead><tr><th>node</th><th>domain</th><th>status</th><th>reason</th><th>quorum (up/needed/total)</th><th></th></tr></thead><tbody></tbody></table>
<h2>Faults</h2><div id="fault-buttons"></div><ul id="faults"></ul>
<h2>Volumes</h2><ul id="volumes"></ul>
<h2>Applications</h2><ul id="applications"></ul>
<script>
"use strict";
const RECONNECTS_MAX = 20;
let token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
let reconnects = 0;
let domainsShown = '';
const el = (id) => document.getElementById(id);
function cell(row, text, cls) { const td = row.insertCell(); const span = document.createElement('span'); span.textContent = text; if (cls) span.className = cls; td.appendChild(span); return td; }
function button(parent, label, action) { const b = document.createElement('button'); b.textContent = label; b.addEventListener('click', action); parent.appendChild(b); return b; }
function showError(text) { el('error').textContent = text; }
async function call(path, body) {
  const response = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((answer.error && answer.error.message) || ('HTTP ' + response.status));
  return answer;
}
async function act(path, body) { try { showError(''); await call(path, body); } catch (error) { showError(String(error.message || error)); } }
const fault = (f) => act('/faults', f);
function render(state) {
  el('cluster').textContent = state.clusterId + ' on ' + state.kvdb;
  const domains = el('domains').tBodies[0]; domains.textContent = '';
  for (const d of state.domains) {
    const row = domains.insertRow(); row.dataset.domain = d.name;
    cell(row, d.name); cell(row, d.state, 'state ' + d.state); cell(row, String(d.nodes));
    const td = row.insertCell();
    button(td, d.state === 'Active' ? 'Deactivate' : 'Activate', () => act('/dashboard/domains/' + encodeURIComponent(d.name) + '/' + (d.state === 'Active' ? 'deactivate' : 'activate'), {}));
  }
  const nodes = el('nodes').tBodies[0]; nodes.textContent = '';
  for (const n of state.nodes) {
    const row = nodes.insertRow(); row.dataset.ip = n.ip; row.dataset.status = n.status;
    cell(row, n.ip + (n.storageless ? ' (witness)' : '')); cell(row, n.domain);
    cell(row, n.status, 'state ' + n.status.replace(/ /g, '-')); cell(row, n.reason, 'muted');
    cell(row, n.quorum ? n.quorum.up + '/' + n.quorum.needed + '/' + n.quorum.total : '');
    const td = row.insertCell();
    if (n.running) button(td, 'Crash', () => fault({ kind: 'crash', nodes: [n.ip] }));
    else button(td, 'Start', () => fault({ kind: 'start', nodes: [n.ip] }));
  }
  const names = state.nodes.filter((n) => !n.storageless).map((n) => n.domain).filter((d, i, all) => all.indexOf(d) === i);
  if (names.join() !== domainsShown) {
    domainsShown = names.join(); const box = el('fault-buttons'); box.textContent = '';
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++)
      button(box, 'Partition ' + names[i] + ' | ' + names[j], () => fault({ kind: 'partition', a: [names[i]], b: [names[j]] })).dataset.action = 'partition';
    button(box, 'Latency 200 ms', () => fault({ kind: 'latency', ms: 200, jitterMs: 0 }));
    button(box, 'Heal all', () => fault({ kind: 'heal' })).dataset.action = 'heal';
  }
  const list = (id, items, text) => { const ul = el(id); ul.textContent = ''; if (items.length === 0) { const li = document.createElement('li'); li.className = 'muted'; li.textContent = 'none'; ul.appendChild(li); } for (const item of items) { const li = document.createElement('li'); li.textContent = text(item); ul.appendChild(li); } };
  list('faults', state.faults, (f) => f);
  list('volumes', state.volumes, (v) => v.name + ': ' + v.state);
  list('applications', state.applications, (a) => a.name + ' on ' + a.cluster + ': ' + a.state);
  document.body.dataset.updated = String(state.atMs);
}
function connect() {
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/dashboard/events');
  socket.addEventListener('open', () => { socket.send(JSON.stringify({ token })); el('conn').textContent = 'live'; el('conn').className = ''; });
  socket.addEventListener('message', (message) => { reconnects = 0; render(JSON.parse(message.data)); });
  socket.addEventListener('close', (event) => {
    el('conn').className = 'down';
    if (event.code === 1008) { el('conn').textContent = 'refused: ' + event.reason; el('auth').hidden = false; return; }
    if (++reconnects > RECONNECTS_MAX) { el('conn').textContent = 'disconnected (the sim stopped?); reload to retry'; return; }
    el('conn').textContent = 'reconnecting…';
    setTimeout(connect, Math.min(5000, 250 * reconnects));
  });
}
el('use-token').addEventListener('click', () => { token = el('token').value.trim(); el('auth').hidden = true; reconnects = 0; connect(); });
if (token === '') { el('auth').hidden = false; el('conn').textContent = 'needs the admin token (pnpm sim prints the link with it)'; } else connect();
</script></body></html>
`;
