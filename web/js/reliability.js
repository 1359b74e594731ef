// Reliability figures from the event log: MTBF, MTTR and availability per component, for the
// last hour and the last day side by side.
import { api } from './api.js';
import { availability, DASH, el, seconds } from './format.js';

const WINDOWS = [
  { since: '1h', label: 'last hour' },
  { since: '1d', label: 'last day' },
];

export class ReliabilityView {
  constructor(table, note) {
    this.table = table;
    this.note = note;
    this.busy = false;
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const reports = await Promise.all(WINDOWS.map((w) => api.report(w.since)));
      this.render(reports.map((r) => r.report));
      this.note.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      this.note.textContent = `reliability unavailable: ${e.message}`;
    } finally {
      this.busy = false;
    }
  }

  render(reports) {
    const names = new Set();
    for (const r of reports) for (const n of Object.keys(r.components || {})) names.add(n);
    const head = el(
      'thead',
      {},
      el('tr', {}, el('th', { rowspan: 2, scope: 'col', text: 'Component' }), ...WINDOWS.map((w) => el('th', { colspan: 4, scope: 'colgroup', class: 'win', text: w.label }))),
      el('tr', {}, ...WINDOWS.flatMap(() => ['Fail', 'MTBF', 'MTTR', 'Avail'].map((t) => el('th', { scope: 'col', class: 'c-num', text: t, title: TITLES[t] })))),
    );
    const row = (name, figs) =>
      el(
        'tr',
        { 'data-testid': `reliability-${name}` },
        el('th', { scope: 'row', text: name }),
        ...figs.flatMap((f) => {
          if (!f) return [DASH, DASH, DASH, DASH].map((t) => el('td', { class: 'c-num', text: t }));
          const a = f.availability;
          const tone = a == null ? '' : a >= 0.999 ? 'ok' : a >= 0.99 ? 'warn' : 'bad';
          return [
            el('td', { class: `c-num ${f.failures ? 'bad-text' : ''}`, text: String(f.failures ?? DASH) }),
            el('td', { class: 'c-num', text: seconds(f.mtbf_s) }),
            el('td', { class: 'c-num', text: seconds(f.mttr_ready_s ?? f.mttr_running_s), title: `to running: ${seconds(f.mttr_running_s)}; to ready: ${seconds(f.mttr_ready_s)}` }),
            el('td', { class: `c-num avail ${tone}`, text: availability(a) }),
          ];
        }),
      );
    const body = el('tbody', {}, ...[...names].sort().map((n) => row(n, reports.map((r) => (r.components || {})[n]))));
    const foot = el('tfoot', {}, row('system', reports.map((r) => r.system)));
    this.table.replaceChildren(head, body, foot);
  }
}

const TITLES = {
  Fail: 'failures in the window',
  MTBF: 'mean time between failures',
  MTTR: 'mean time to repair (until ready again)',
  Avail: 'share of the window the component was up',
};
