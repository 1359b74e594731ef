// Time-series charts with uPlot (loaded as the global `uPlot` from vendor/). Each chart merges
// the daemon's stored history (when it has one) with samples this page collected itself, so a
// chart moves live even where vigild keeps no history.
import { bytes, number } from './format.js';

export const SERIES = [
  { key: 'cpu_percent', title: 'CPU', unit: '%', fmt: (v) => `${number(v, 1)}%` },
  { key: 'rss_bytes', title: 'Memory (RSS)', unit: 'B', fmt: (v) => bytes(v) },
  { key: 'heartbeat_interval_ms', title: 'Heartbeat interval', unit: 'ms', fmt: (v) => `${number(v, Math.abs(v) < 10 ? 1 : 0)} ms` },
  { key: 'phi', title: 'Suspicion (φ)', unit: '', fmt: (v) => number(v, 2) },
];

// What the page saw itself, per component and series: [t_ms, value], bounded.
export class SampleBuffer {
  constructor(maxAgeMs = 3_600_000, maxPoints = 3600) {
    this.maxAgeMs = maxAgeMs;
    this.maxPoints = maxPoints;
    this.data = new Map(); // `${component}/${series}` -> [[t, v]]
    this.beats = new Map(); // component -> {count, lastBeatMs}
  }

  push(component, series, t, v) {
    if (v == null || !Number.isFinite(v)) return;
    const key = `${component}/${series}`;
    let a = this.data.get(key);
    if (!a) this.data.set(key, (a = []));
    if (a.length && a[a.length - 1][0] >= t) return;
    a.push([t, v]);
    const cutoff = t - this.maxAgeMs;
    let drop = 0;
    while (drop < a.length && (a[drop][0] < cutoff || a.length - drop > this.maxPoints)) drop++;
    if (drop) a.splice(0, drop);
  }

  get(component, series) {
    return this.data.get(`${component}/${series}`) || [];
  }

  // One status snapshot taken at server time `nowMs`: the same figures vigild's history records.
  record(node, nowMs) {
    if (node.type !== 'component') return;
    const name = node.name;
    const r = node.resources;
    if (r && node.pid > 0) {
      this.push(name, 'cpu_percent', nowMs, r.cpu_percent);
      this.push(name, 'rss_bytes', nowMs, r.rss_bytes);
    }
    const l = node.liveness;
    if (!l || !(node.pid > 0)) {
      this.beats.delete(name);
      return;
    }
    if (l.phi != null) this.push(name, 'phi', nowMs, l.phi);
    const count = l.heartbeats ?? 0;
    const lastBeatMs = nowMs - (l.since_heartbeat_ms ?? 0);
    const prev = this.beats.get(name);
    if (prev && count > prev.count) {
      const interval = (lastBeatMs - prev.lastBeatMs) / (count - prev.count);
      if (interval >= 0) this.push(name, 'heartbeat_interval_ms', nowMs, interval);
    } else if (!prev && l.mean_interval_ms != null) {
      this.push(name, 'heartbeat_interval_ms', nowMs, l.mean_interval_ms);
    }
    if (!prev || count !== prev.count) this.beats.set(name, { count, lastBeatMs });
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class Chart {
  constructor(container, spec) {
    this.container = container;
    this.spec = spec;
    this.history = []; // [[t_ms, avg, min, max]]
    this.live = [];
    this.note = container.querySelector('.chart-note');
    this.valueEl = container.querySelector('.chart-value');
    this.plotEl = container.querySelector('.chart-plot');
    this.plot = null;
    this.build();
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.plotEl);
  }

  build() {
    if (this.plot) this.plot.destroy();
    if (typeof uPlot === 'undefined') {
      this.setNote('charts unavailable: vendor/uPlot.iife.min.js did not load');
      return;
    }
    const line = cssVar('--accent') || '#4aa3ff';
    const band = cssVar('--accent-band') || 'rgba(74,163,255,0.15)';
    const axis = cssVar('--muted') || '#888';
    const grid = cssVar('--grid') || 'rgba(128,128,128,0.15)';
    const fmt = this.spec.fmt;
    const axisFmt = (u, vals) => vals.map((v) => (v == null ? '' : fmt(v)));
    const width = Math.max(this.plotEl.clientWidth, 200);
    this.plot = new uPlot(
      {
        width,
        height: 140,
        cursor: { drag: { x: false, y: false } },
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > min ? max * 1.1 : (max || 1) * 1.2] } },
        axes: [
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: '11px system-ui, sans-serif' },
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: axisFmt, size: 64, font: '11px system-ui, sans-serif' },
        ],
        series: [
          {},
          { label: 'avg', stroke: line, width: 1.5, fill: band, points: { show: false } },
          { label: 'min', stroke: 'transparent', points: { show: false } },
          { label: 'max', stroke: 'transparent', points: { show: false } },
        ],
        bands: [{ series: [3, 2], fill: band }],
        hooks: {
          setCursor: [
            (u) => {
              const i = u.cursor.idx;
              if (i == null) return this.showLatest();
              const v = u.data[1][i];
              this.valueEl.textContent = v == null ? '' : `${fmt(v)} @ ${new Date(u.data[0][i] * 1000).toLocaleTimeString()}`;
            },
          ],
        },
      },
      [[], [], [], []],
      this.plotEl,
    );
    this.redraw();
  }

  resize() {
    if (!this.plot) return;
    const w = Math.max(this.plotEl.clientWidth, 200);
    if (Math.abs(w - this.plot.width) > 2) this.plot.setSize({ width: w, height: 140 });
  }

  setNote(text) {
    this.note.textContent = text || '';
    this.note.hidden = !text;
  }

  setHistory(points) {
    this.history = points || [];
    this.redraw();
  }

  setLive(samples) {
    this.live = samples;
    this.redraw();
  }

  data() {
    const xs = [];
    const avg = [];
    const min = [];
    const max = [];
    let lastT = -Infinity;
    for (const [t, a, lo, hi] of this.history) {
      xs.push(t / 1000);
      avg.push(a);
      min.push(lo ?? a);
      max.push(hi ?? a);
      lastT = t;
    }
    for (const [t, v] of this.live) {
      if (t <= lastT) continue;
      xs.push(t / 1000);
      avg.push(v);
      min.push(v);
      max.push(v);
    }
    return [xs, avg, min, max];
  }

  redraw() {
    if (!this.plot) return;
    const d = this.data();
    this.plot.setData(d);
    this.container.dataset.points = String(d[0].length);
    this.showLatest();
    if (d[0].length === 0 && this.note.hidden) this.setNote('no samples yet');
    else if (d[0].length > 0 && this.note.textContent === 'no samples yet') this.setNote('');
  }

  showLatest() {
    const avg = this.plot ? this.plot.data[1] : [];
    const v = avg.length ? avg[avg.length - 1] : null;
    this.valueEl.textContent = v == null ? '' : this.spec.fmt(v);
  }

  destroy() {
    this.resizer.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
