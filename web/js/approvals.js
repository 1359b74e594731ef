// The "Pending approvals" panel: recovery steps that wait for an operator. Filled from the
// status (snapshot and polls) and kept live by approval_requested / approval_decided events;
// each row counts down to the moment its default (approve or deny) applies.
import { duration, el, setText } from './format.js';

export class ApprovalsView {
  constructor(panel, { onDecide }) {
    this.panel = panel;
    this.list = panel.querySelector('.approvals-list');
    this.count = panel.querySelector('.approvals-count');
    this.onDecide = onDecide;
    this.pending = new Map(); // id -> approval as in the status's `approvals`
    this.rows = new Map(); // id -> { li, countdown }
    this.busy = new Set(); // ids with an answer in flight
  }

  // The status's list is the whole truth at the time it was made.
  setAll(approvals) {
    this.pending = new Map((Array.isArray(approvals) ? approvals : []).map((a) => [String(a.id), a]));
  }

  // True when the event changed the pending list.
  onEvent(e) {
    const d = e.detail || {};
    if (d.id == null) return false;
    const id = String(d.id);
    if (e.kind === 'approval_requested') {
      this.pending.set(id, {
        id,
        component: e.component,
        step: d.step,
        action: d.action,
        why: d.why,
        requested_us: e.wall_us,
        deadline_us: d.deadline_us,
        timeout_ms: d.timeout_ms,
        default: d.default,
      });
      return true;
    }
    if (e.kind === 'approval_decided') {
      this.busy.delete(id);
      return this.pending.delete(id);
    }
    return false;
  }

  setBusy(id, busy) {
    if (busy) this.busy.add(id);
    else this.busy.delete(id);
    const row = this.rows.get(id);
    if (row) for (const b of row.li.querySelectorAll('button')) b.disabled = busy;
  }

  render(nowUs) {
    this.panel.hidden = this.pending.size === 0;
    setText(this.count, this.pending.size ? `${this.pending.size} waiting` : '');
    for (const [id, row] of this.rows) {
      if (!this.pending.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    const ordered = [...this.pending.values()].sort((a, b) => (a.deadline_us || 0) - (b.deadline_us || 0));
    for (const a of ordered) {
      const id = String(a.id);
      let row = this.rows.get(id);
      if (!row) {
        row = this.build(a);
        this.rows.set(id, row);
      }
      this.list.append(row.li); // keeps the soonest deadline first
      const left = (a.deadline_us || 0) - nowUs;
      const fallback = a.default || '?';
      setText(row.countdown, left > 0 ? `${duration(Math.ceil(left / 1e6) * 1000)} left, then ${fallback}` : `due: ${fallback} applies`);
      row.li.dataset.urgent = String(left < 10e6);
    }
  }

  build(a) {
    const id = String(a.id);
    const countdown = el('span', { class: 'approval-countdown', 'data-testid': 'approval-countdown' });
    const approve = el('button', {
      type: 'button',
      class: 'btn primary',
      'data-testid': 'approval-approve',
      text: 'Approve',
      onclick: () => this.onDecide(id, 'approve'),
    });
    const deny = el('button', {
      type: 'button',
      class: 'btn',
      'data-testid': 'approval-deny',
      text: 'Deny',
      onclick: () => this.onDecide(id, 'deny'),
    });
    if (this.busy.has(id)) approve.disabled = deny.disabled = true;
    const li = el(
      'li',
      { class: 'approval', 'data-testid': 'approval', dataset: { id, component: a.component || '' } },
      el(
        'div',
        { class: 'approval-what' },
        el('span', { class: 'approval-id', text: `#${id}` }),
        el('a', { class: 'approval-component', href: `#/c/${encodeURIComponent(a.component || '')}`, text: a.component || '?' }),
        el('span', { class: 'approval-action', 'data-testid': 'approval-action', text: a.action || '' }),
        a.step != null ? el('span', { class: 'muted', text: `step ${a.step}` }) : null,
      ),
      a.why ? el('div', { class: 'approval-why muted', text: a.why }) : null,
      el(
        'div',
        { class: 'approval-when' },
        countdown,
        el('span', { class: 'approval-default', 'data-testid': 'approval-default', dataset: { default: a.default || '' }, text: `default: ${a.default || '?'}` }),
      ),
      el('div', { class: 'approval-actions' }, approve, deny),
    );
    return { li, countdown };
  }
}
