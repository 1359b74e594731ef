// One component in depth: its figures, charts, last log lines and events. Opened by clicking
// its row (or #/c/NAME), closed with Escape or the close button.
import { api, ApiError } from './api.js';
import { Chart, SERIES } from './charts.js';
import { bytes, DASH, duration, el, number, percent, setText } from './format.js';
import { EventList } from './timeline.js';
import { stateClass } from './tree.js';

const HISTORY_REFRESH_MS = 60_000;
const LOG_REFRESH_MS = 2_000;

export class DetailView {
  constructor(root, { samples, onClose, onCommand }) {
    this.root = root;
    this.samples = samples;
    this.onClose = onClose;
    this.onCommand = onCommand;
    this.name = null;
    this.charts = [];
    this.timers = [];
    this.node = null;
    this.q = (sel) => root.querySelector(sel);
    this.q('[data-action=close]').addEventListener('click', () => this.onClose());
    for (const verb of ['start', 'stop', 'restart']) {
      this.q(`[data-action=${verb}]`).addEventListener('click', () => this.name && this.onCommand(this.name, verb));
    }
    this.events = new EventList(this.q('.detail-events'), { pageSize: 50, showComponent: false, max: 300 });
  }

  get isOpen() {
    return this.name != null;
  }

  open(name, node, now) {
    if (this.name === name) return;
    this.close(false);
    this.name = name;
    this.root.hidden = false;
    this.root.dataset.testid = 'detail';
    this.root.dataset.component = name;
    setText(this.q('.detail-name'), name);
    for (const verb of ['start', 'stop', 'restart']) {
      const b = this.q(`[data-action=${verb}]`);
      b.setAttribute('aria-label', `${verb[0].toUpperCase()}${verb.slice(1)} ${name}`);
      b.dataset.testid = `detail-${verb}-${name}`;
    }
    const grid = this.q('.charts');
    grid.replaceChildren();
    this.charts = SERIES.map((spec) => {
      const box = el(
        'figure',
        { class: 'chart', 'data-testid': `chart-${spec.key}` },
        el('figcaption', {}, el('span', { class: 'chart-title', text: spec.title }), el('span', { class: 'chart-value' })),
        el('div', { class: 'chart-plot' }),
        el('p', { class: 'chart-note', hidden: true }),
      );
      grid.append(box);
      return new Chart(box, spec);
    });
    this.update(node, now);
    this.refreshCharts();
    this.loadHistory();
    this.loadLogs();
    this.events.component = name;
    this.events.reload().catch((e) => setText(this.q('.detail-events-note'), e.message));
    this.timers.push(setInterval(() => this.loadHistory(), HISTORY_REFRESH_MS));
    this.timers.push(setInterval(() => this.loadLogs(), LOG_REFRESH_MS));
  }

  close(notify = true) {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.name = null;
    this.root.hidden = true;
    if (notify) this.onClose();
  }

  async loadHistory() {
    const name = this.name;
    const watched = Boolean(this.node && this.node.liveness);
    await Promise.all(
      this.charts.map(async (chart) => {
        try {
          const r = await api.history(name, chart.spec.key, '1h', 600);
          if (name !== this.name) return;
          chart.setHistory(r.points);
          chart.setNote(r.points.length ? '' : 'no stored history yet: live samples only');
        } catch (e) {
          if (name !== this.name) return;
          if (!watched && (chart.spec.key === 'phi' || chart.spec.key === 'heartbeat_interval_ms')) {
            chart.setHistory([]);
            chart.setNote('no heartbeats: this component has no watchdog');
            return;
          }
          const why = e instanceof ApiError && (e.status === 503 || e.status === 404)
            ? 'no stored history' : `history: ${e.message}`;
          chart.setHistory([]);
          chart.setNote(`${why}: live samples since this page opened`);
        }
      }),
    );
  }

  async loadLogs() {
    const name = this.name;
    const pre = this.q('.detail-logs');
    try {
      const r = await api.logs(name, 200);
      if (name !== this.name) return;
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
      const text = r.lines.length ? r.lines.join('\n') : '(no output yet)';
      if (pre.textContent !== text) {
        pre.textContent = text;
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      }
      setText(this.q('.detail-logs-file'), r.file || '');
    } catch (e) {
      if (name === this.name) setText(this.q('.detail-logs-file'), `logs: ${e.message}`);
    }
  }

  refreshCharts() {
    for (const c of this.charts) c.setLive(this.samples.get(this.name, c.spec.key));
  }

  // The latest status of the open component (from a snapshot, a poll or an event).
  update(node, now) {
    if (!node) return;
    this.node = node;
    const state = node.state || 'unknown';
    const pill = this.q('.detail-state');
    pill.className = `pill detail-state ${stateClass(state)}`;
    setText(pill, state);
    setText(this.q('.detail-reason'), node.reason || '');
    const r = node.resources || {};
    const l = node.liveness || {};
    const alive = node.pid > 0;
    const facts = [
      ['PID', alive ? node.pid : DASH],
      ['In state for', node.since_us ? duration((now - node.since_us) / 1000) : DASH],
      ['Restarts', node.restarts ?? DASH],
      ['Restart policy', node.restart || DASH],
      ['CPU', alive ? percent(r.cpu_percent) : DASH],
      ['RSS', alive ? bytes(r.rss_bytes) : DASH],
      ['Threads', alive ? r.threads ?? DASH : DASH],
      ['Open files', alive ? r.fds ?? DASH : DASH],
      ['Heartbeats', node.heartbeats ?? DASH],
      ['Detector', l.detector || DASH],
      ['φ', l.phi != null ? `${number(l.phi, 2)} / ${number(l.phi_threshold, 0)}` : DASH],
      ['Watchdog', node.watchdog_timeout_ms ? `${node.watchdog_timeout_ms} ms` : DASH],
    ];
    const dl = this.q('.detail-facts');
    dl.replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: String(v) }))));
    const warnings = node.warnings ? Object.entries(node.warnings) : [];
    const warn = this.q('.detail-warnings');
    warn.hidden = warnings.length === 0;
    warn.replaceChildren(...warnings.map(([src, text]) => el('li', {}, el('b', { text: src }), ` ${text}`)));
    const lf = node.last_failure;
    const lfEl = this.q('.detail-last-failure');
    lfEl.hidden = !lf;
    if (lf) {
      const text = typeof lf === 'string' ? lf : [lf.kind || lf.failure, lf.reason].filter(Boolean).join(': ');
      const ago = lf.wall_us ? ` (${duration((now - lf.wall_us) / 1000)} ago)` : '';
      setText(lfEl, `Last failure${ago}: ${text || JSON.stringify(lf)}`);
    }
    const loops = l.loops ? Object.entries(l.loops) : [];
    const loopsEl = this.q('.detail-loops');
    loopsEl.hidden = loops.length === 0;
    loopsEl.replaceChildren(
      ...loops.map(([n, lp]) => el('li', {}, el('b', { text: n }), ` last beat ${number(lp.age_ms, 0)} ms ago, deadline ${number(lp.deadline_ms, 0)} ms, ${lp.beats} beats`)),
    );
    // Topic monitors: the figures as vigild judged them at its last 100 ms tick.
    const topics = Array.isArray(node.topics) ? node.topics : [];
    const topicsEl = this.q('.detail-topics');
    topicsEl.hidden = topics.length === 0;
    topicsEl.replaceChildren(
      ...topics.map((t) => {
        const limits = [
          t.min_rate_hz != null ? `min ${number(t.min_rate_hz, 1)} Hz` : null,
          t.max_rate_hz != null ? `max ${number(t.max_rate_hz, 1)} Hz` : null,
          t.stale_after_ms != null ? `stale after ${number(t.stale_after_ms, 0)} ms` : null,
        ].filter(Boolean).join(', ');
        return el('li', { class: t.level === 'OK' ? '' : 'warn' }, el('b', { text: t.topic }),
          ` ${t.level}: ${number(t.rate_hz, 2)} Hz, jitter ${number(t.jitter_ms, 1)} ms, ` +
          `largest gap ${number(t.largest_gap_ms, 0)} ms, last ${number(t.age_ms, 0)} ms ago, ` +
          `${t.publishers ?? 0} publisher(s) (${limits})`);
      }),
    );
    this.q('[data-action=start]').disabled = state === 'running' || state === 'starting';
    this.q('[data-action=stop]').disabled = state === 'stopped' || state === 'stopping';
  }

  onEvent(e) {
    if (e.component === this.name) this.events.addLive(e);
  }
}
