// vigil's dashboard: the supervision tree, live from vigild's event stream; a detail view per
// component; the event timeline; reliability figures; operator commands.
//
// Freshness: the stream delivers each event as it is committed, and the row is repainted
// from the event's own state and reason at once. The full status (pids, resources) is
// re-read at most once a second; a poll answer never overwrites a state that a newer event
// already set.
import { api, ApiError, LiveStream, tokenStore } from './js/api.js';
import { ApprovalsView } from './js/approvals.js';
import { SampleBuffer } from './js/charts.js';
import { DetailView } from './js/detail.js';
import { bytes, duration, el, percent, setText } from './js/format.js';
import { ReliabilityView } from './js/reliability.js';
import { EVENT_KINDS, EventList, isFailure } from './js/timeline.js';
import { flatten, TreeView } from './js/tree.js';

const POLL_MS = 1000;
const RELIABILITY_MS = 30_000;
const $ = (id) => document.getElementById(id);

const model = {
  status: null,
  nodes: new Map(), // name -> node of the latest status (mutated by events)
  clockOffsetUs: 0, // server clock - this browser's clock
  eventSeq: 0,
  lastEventSeq: new Map(), // name -> eventSeq of the last event applied to it
  connected: false,
  pollFailing: false,
  approvalEventSeq: 0, // eventSeq of the last approval event applied
};

const serverNowUs = () => Date.now() * 1000 + model.clockOffsetUs;

const samples = new SampleBuffer();

const tree = new TreeView($('tree-body'), {
  onSelect: (name) => {
    location.hash = `#/c/${encodeURIComponent(name)}`;
  },
  onCommand: (name, verb) => runCommand(name, verb),
});

const detail = new DetailView($('detail'), {
  samples,
  onClose: () => {
    if (location.hash) history.pushState(null, '', location.pathname + location.search);
    route();
  },
  onCommand: (name, verb) => runCommand(name, verb),
});

// ?events_page=N: a smaller page of the timeline (tests page back with it).
const pageSize = Number(new URLSearchParams(location.search).get('events_page')) || 100;
const timeline = new EventList($('timeline'), { pageSize: Math.min(Math.max(pageSize, 1), 1000) });
const reliability = new ReliabilityView($('reliability'), $('reliability-note'));
const approvals = new ApprovalsView($('approvals'), { onDecide: (id, verb) => runDecision(id, verb) });

// ---- status ----

function applyStatus(status, { fromStream = false, requestSeq = Infinity } = {}) {
  const previous = model.nodes;
  model.status = status;
  model.nodes = new Map();
  for (const { node } of flatten(status.tree)) {
    const old = previous.get(node.name);
    // A poll sent before an event arrived must not undo the event's state.
    if (!fromStream && old && (model.lastEventSeq.get(node.name) ?? 0) > requestSeq) {
      node.state = old.state;
      node.reason = old.reason;
      node.since_us = old.since_us;
      node.pid = old.pid;
    }
    model.nodes.set(node.name, node);
  }
  // Same rule for approvals: a poll sent before an approval event arrived is older news.
  if (fromStream || model.approvalEventSeq <= requestSeq) approvals.setAll(status.approvals);
  const d = status.daemon || {};
  const firstComponent = [...model.nodes.values()].find((n) => n.since_us && n.for_ms != null);
  if (firstComponent) {
    const serverNow = firstComponent.since_us + firstComponent.for_ms * 1000;
    model.clockOffsetUs = serverNow - Date.now() * 1000;
  }
  const nowMs = serverNowUs() / 1000;
  for (const node of model.nodes.values()) samples.record(node, nowMs);
  renderHeader(d, status.host);
  if (status.mode) renderMode(status.mode.name, status.mode.reason, status.mode.values, status.mode.modes);
  updateFilterOptions();
  render();
  if (detail.isOpen) detail.refreshCharts();
  else if (location.hash) route();
}

function render() {
  if (!model.status) return;
  const now = serverNowUs();
  tree.render(model.status.tree, now);
  approvals.render(now);
  renderSummary();
  if (detail.isOpen) detail.update(model.nodes.get(detail.name), now);
}

function renderSummary() {
  const counts = {};
  let total = 0;
  let warn = 0;
  for (const n of model.nodes.values()) {
    if (n.type !== 'component') continue;
    total++;
    counts[n.state] = (counts[n.state] || 0) + 1;
    if (n.level === 'WARN') warn++;
  }
  const parts = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([s, c]) => `${c} ${s}`);
  if (warn) parts.push(`${warn} warning${warn > 1 ? 's' : ''}`);
  setText($('tree-summary'), `${total} components · ${parts.join(' · ')}`);
  // The logo and the tab title tell the overall health at a glance.
  const bad = (counts.failed || 0) + (counts.backoff || 0) + (counts.given_up || 0);
  const busy = (counts.starting || 0) + (counts.stopping || 0);
  const health = !model.connected ? 'offline' : bad ? 'bad' : warn || busy ? 'warn' : 'ok';
  document.body.dataset.health = health;
  document.title = bad ? `(${bad} down) vigil` : warn ? `(${warn} warn) vigil` : 'vigil';
}

// The system mode: the first of `modes` is the default; any other is shown as a warning.
function renderMode(name, reason, values, modes) {
  if (modes) model.modes = modes;
  const el = $('mode-name');
  const entries = Object.entries(values || {}).map(([k, v]) => `${k}=${v}`).join(' ');
  setText(el, entries ? `${name} (${entries})` : name);
  el.title = reason || '';
  const isDefault = !model.modes || model.modes.length === 0 || model.modes[0] === name;
  el.dataset.mode = name;
  el.classList.toggle('degraded', !isDefault);
}

function renderHeader(d, host) {
  setText($('daemon-pid'), d.pid ? `pid ${d.pid}` : '–');
  setText($('daemon-up'), d.started_us ? duration((serverNowUs() - d.started_us) / 1000) : '–');
  setText($('daemon-config'), d.config ? d.config.split('/').pop() : '');
  $('daemon-config').title = d.config || '';
  if (d.shutting_down) showBanner('vigild is shutting down');
  if (!host) return;
  setText($('host-cpu'), percent(host.cpu_percent, 0));
  const used = host.mem_total_bytes && host.mem_available_bytes != null ? host.mem_total_bytes - host.mem_available_bytes : null;
  setText($('host-mem'), used != null ? `${bytes(used)} / ${bytes(host.mem_total_bytes)}` : '–');
  setText($('host-load'), Array.isArray(host.load) ? host.load.map((x) => x.toFixed(2)).join(' ') : '–');
  setText($('host-disk'), host.disk_available_bytes != null ? `${bytes(host.disk_available_bytes)} free` : '–');
  const level = $('host-level');
  level.hidden = !host.level || host.level === 'OK';
  setText(level, host.level || '');
  level.className = `badge ${host.level === 'WARN' ? 'warn' : 'bad'}`;
  const warnings = host.warnings ? Object.values(host.warnings) : [];
  level.title = warnings.join('\n');
}

// ---- events ----

function applyEvent(e) {
  timeline.addLive(e);
  detail.onEvent(e);
  if (approvals.onEvent(e)) {
    model.approvalEventSeq = ++model.eventSeq;
    approvals.render(serverNowUs());
  }
  const node = e.component ? model.nodes.get(e.component) : null;
  if (node && node.type === 'component') {
    model.lastEventSeq.set(e.component, ++model.eventSeq);
    if (e.state && e.state !== node.state) {
      node.state = e.state;
      node.since_us = e.wall_us;
    }
    if (e.reason && e.kind !== 'warning' && e.kind !== 'warning_cleared' && e.kind !== 'hook_finished') {
      node.reason = e.reason;
    }
    const pid = e.detail && e.detail.pid;
    if ((e.kind === 'spawned' || e.kind === 'adopted') && pid) node.pid = pid;
    if (e.kind === 'stopped' || (e.kind === 'exited' && e.state !== 'running')) node.pid = 0;
    if (isFailure(e)) {
      node.last_failure = { kind: e.failure || e.kind, reason: e.reason, wall_us: e.wall_us };
      flashRow(e.component);
    }
    render();
  }
  if (e.kind === 'daemon_stopping') showBanner(`vigild is stopping: ${e.reason || ''}`);
  if (e.kind === 'mode_changed') renderMode(e.state, e.reason, e.detail && e.detail.values);
  if (isFailure(e) || e.kind === 'ready' || e.kind === 'config_reloaded') scheduleReliability();
  if (e.kind === 'config_reloaded') schedulePoll(0);
}

function flashRow(name) {
  const row = tree.rows.get(name);
  if (!row) return;
  row.tr.dataset.lastFailure = String(Date.now());
  row.tr.classList.remove('flash');
  void row.tr.offsetWidth; // restart the animation
  row.tr.classList.add('flash');
}

let reliabilityTimer = null;
function scheduleReliability() {
  if (reliabilityTimer) return;
  reliabilityTimer = setTimeout(() => {
    reliabilityTimer = null;
    reliability.refresh();
  }, 2000);
}

// ---- polling (resources, pids; and the whole status when the stream is down) ----

let pollTimer = null;
let polling = false;
let lastPollAt = 0;

function schedulePoll(delay = POLL_MS) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, Math.max(0, Math.max(delay, lastPollAt + POLL_MS - Date.now())));
}

async function poll() {
  if (polling) return;
  polling = true;
  lastPollAt = Date.now();
  const seq = model.eventSeq;
  try {
    const status = await api.components();
    applyStatus(status, { requestSeq: seq });
    model.pollFailing = false;
    updateBanner();
  } catch (e) {
    model.pollFailing = true;
    updateBanner(e.message);
  } finally {
    polling = false;
    schedulePoll();
  }
}

// ---- connection banner ----

function showBanner(text) {
  setText($('banner-text'), text);
  $('banner').hidden = false;
}

function updateBanner(detailText) {
  if (!model.connected) document.body.dataset.health = 'offline';
  const conn = document.querySelector('.conn');
  conn.dataset.connected = String(model.connected);
  setText(conn.querySelector('.conn-text'), model.connected ? 'live' : 'offline');
  if (model.connected && !model.pollFailing) {
    $('banner').hidden = true;
    return;
  }
  showBanner(`Disconnected from vigild — reconnecting…${detailText ? ` (${detailText})` : ''}`);
}

const stream = new LiveStream({
  onSnapshot: (status) => applyStatus(status, { fromStream: true }),
  onEvent: applyEvent,
  onConnected: () => {
    const wasDown = !model.connected;
    model.connected = true;
    updateBanner();
    // Events missed while down are replayed by id; a reload covers a replay that was cut short.
    if (wasDown && timeline.ids.size) timeline.reload().then(applyTimelineFilter).catch(() => {});
  },
  onDisconnected: (why) => {
    model.connected = false;
    updateBanner(why);
  },
});

// ---- commands ----

const dialog = $('token-dialog');

function askToken(message) {
  return new Promise((resolve) => {
    const input = $('token-input');
    const error = $('token-error');
    error.hidden = !message;
    error.textContent = message || '';
    input.value = '';
    const finish = (value) => {
      dialog.removeEventListener('close', onClose);
      $('token-cancel').removeEventListener('click', onCancel);
      resolve(value);
    };
    const onClose = () => finish(dialog.returnValue === 'ok' && input.value.trim() ? input.value.trim() : null);
    const onCancel = () => dialog.close('cancel');
    dialog.addEventListener('close', onClose);
    $('token-cancel').addEventListener('click', onCancel);
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
}

// Runs `call(token)`, asking for the token when none is set or vigild refuses it. Returns the
// answer, or undefined when the operator cancelled or the call failed (a toast says why).
async function withToken(label, call) {
  let token = tokenStore.get();
  let prompt = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!token) {
      token = await askToken(prompt);
      if (!token) return undefined;
    }
    try {
      const answer = await call(token);
      tokenStore.set(token);
      return answer ?? {};
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        tokenStore.clear();
        token = '';
        prompt = e.status === 403 ? 'That token was not accepted. Try again.' : e.message;
        continue;
      }
      toast(`${label} failed: ${e.message}`, 'bad');
      return undefined;
    }
  }
  return undefined;
}

async function runCommand(name, verb) {
  if (await withToken(`${verb} ${name}`, (token) => api.command(name, verb, token))) {
    toast(`${verb} ${name}: sent`, 'ok');
    schedulePoll(0);
  }
}

async function runDecision(id, verb) {
  approvals.setBusy(id, true);
  const answer = await withToken(`${verb} approval ${id}`, (token) => api.decide(id, verb, token));
  approvals.setBusy(id, false);
  if (answer) toast(answer.message || `${verb} ${id}: sent`, 'ok');
  // The approval_decided event removes the row; the poll covers a stream that is down.
  schedulePoll(0);
}

function toast(text, tone = 'info') {
  const t = el('div', { class: `toast ${tone}`, 'data-testid': 'toast', text });
  $('toasts').append(t);
  setTimeout(() => t.classList.add('gone'), 4000);
  setTimeout(() => t.remove(), 4500);
}

$('token-button').addEventListener('click', async () => {
  const token = await askToken(tokenStore.get() ? 'A token is set for this tab; enter a new one to replace it.' : null);
  if (token) {
    tokenStore.set(token);
    toast('token saved for this tab', 'ok');
  }
});

// ---- timeline filters ----

function updateFilterOptions() {
  const select = $('filter-component');
  const names = [...model.nodes.values()].filter((n) => n.type === 'component').map((n) => n.name);
  const have = [...select.options].slice(1).map((o) => o.value);
  if (have.join('|') === names.join('|')) return;
  const current = select.value;
  select.replaceChildren(el('option', { value: '', text: 'all' }), ...names.map((n) => el('option', { value: n, text: n })));
  select.value = names.includes(current) ? current : '';
}

function applyTimelineFilter() {
  const kind = $('filter-kind').value;
  const failures = $('filter-failures').checked;
  timeline.setFilter((e) => (!kind || e.kind === kind) && (!failures || isFailure(e)));
  const shown = timeline.visibleCount();
  setText($('timeline-note'), `${shown} of ${timeline.ids.size} loaded events shown`);
  $('load-older').disabled = !timeline.moreBefore;
}

async function reloadTimeline() {
  timeline.component = $('filter-component').value;
  try {
    await timeline.reload();
  } catch (e) {
    setText($('timeline-note'), `events unavailable: ${e.message}`);
    return;
  }
  applyTimelineFilter();
}

$('filter-kind').append(...EVENT_KINDS.map((k) => el('option', { value: k, text: k })));
$('filter-component').addEventListener('change', reloadTimeline);
$('filter-kind').addEventListener('change', applyTimelineFilter);
$('filter-failures').addEventListener('change', applyTimelineFilter);
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('load-older').addEventListener('click', async () => {
  $('load-older').disabled = true;
  try {
    await timeline.loadOlder();
  } catch (e) {
    toast(`older events: ${e.message}`, 'bad');
  }
  applyTimelineFilter();
});
new MutationObserver(() => {
  setText($('timeline-note'), `${timeline.visibleCount()} of ${timeline.ids.size} loaded events shown`);
  $('load-older').disabled = !timeline.moreBefore;
}).observe($('timeline'), { childList: true });

// ---- routing: #/c/NAME opens a component ----

function route() {
  const m = /^#\/c\/(.+)$/.exec(location.hash);
  const name = m ? decodeURIComponent(m[1]) : null;
  if (name && model.nodes.get(name)?.type === 'component') {
    detail.open(name, model.nodes.get(name), serverNowUs());
    document.body.classList.add('with-detail');
  } else {
    if (detail.isOpen) detail.close(false);
    document.body.classList.remove('with-detail');
  }
  tree.select(detail.name);
}

window.addEventListener('hashchange', route);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && detail.isOpen && !dialog.open) {
    location.hash = '';
    route();
  }
});

// Re-create charts in the other palette when the system switches between dark and light.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const c of detail.charts) c.build();
});

// ---- start ----

// The top bar wraps on narrow screens; the banner and the detail drawer sit below it.
new ResizeObserver(([entry]) => {
  document.documentElement.style.setProperty('--topbar-h', `${Math.ceil(entry.target.offsetHeight)}px`);
}).observe(document.querySelector('.topbar'));

setInterval(() => {
  render();
  if (model.status) setText($('daemon-up'), model.status.daemon?.started_us ? duration((serverNowUs() - model.status.daemon.started_us) / 1000) : '–');
}, 1000);
setInterval(() => reliability.refresh(), RELIABILITY_MS);

(async function start() {
  stream.start();
  await poll();
  route();
  await reloadTimeline();
  reliability.refresh();
})();
