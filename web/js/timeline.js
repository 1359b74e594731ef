// The event timeline: what happened, newest first, with filters and paging into the past.
// The server filters by component; kind and "failures only" are filtered here.
import { api } from './api.js';
import { clockTime, dateTime, el } from './format.js';
import { stateClass } from './tree.js';

export const EVENT_KINDS = [
  'daemon_started', 'daemon_stopping', 'spawned', 'adopted', 'ready', 'exited', 'exec_failed',
  'hang_detected', 'start_timeout', 'probe_failed', 'stop_requested', 'stop_escalated',
  'stopped', 'restart_scheduled', 'escalated', 'given_up', 'orphan_reaped', 'operator_command',
  'config_reloaded', 'status_changed', 'warning', 'warning_cleared', 'resource_exceeded',
  'hook_finished', 'topic_stale', 'mode_changed', 'recovery_step', 'standby_activated',
  'approval_requested', 'approval_decided', 'fault_injected', 'fault_cleared',
];

const FAILURE_KINDS = new Set([
  'exec_failed', 'hang_detected', 'start_timeout', 'probe_failed', 'escalated', 'given_up',
  'resource_exceeded', 'topic_stale',
]);

export function isFailure(e) {
  return (e.failure && e.failure !== 'none') || FAILURE_KINDS.has(e.kind);
}

function kindTone(e) {
  if (isFailure(e)) return 'bad';
  if (e.kind === 'warning' || e.kind === 'stop_escalated' || e.kind === 'recovery_step' ||
      e.kind === 'approval_requested') return 'warn';
  if (e.kind === 'operator_command' || e.kind === 'config_reloaded' ||
      e.kind === 'approval_decided' || e.kind === 'standby_activated') return 'info';
  if (e.kind === 'ready' || e.kind === 'warning_cleared') return 'ok';
  return 'idle';
}

export function eventRow(e, { showComponent = true } = {}) {
  const failure = isFailure(e);
  return el(
    'li',
    {
      class: `event ${failure ? 'failure' : ''}`,
      'data-testid': 'event',
      'data-id': e.id,
      'data-kind': e.kind,
      'data-component': e.component || '',
    },
    el('time', { class: 'ev-time', datetime: new Date(e.wall_us / 1000).toISOString(), title: dateTime(e.wall_us), text: clockTime(e.wall_us) }),
    showComponent ? el('span', { class: 'ev-comp', text: e.component || 'vigild' }) : null,
    el('span', { class: `ev-kind tone-${kindTone(e)}`, text: e.kind + (e.failure && e.kind === 'exited' ? ` · ${e.failure}` : '') }),
    e.state ? el('span', { class: `ev-state ${stateClass(e.state)}`, text: e.state }) : el('span', { class: 'ev-state' }),
    el('span', { class: 'ev-reason', text: e.reason || '', title: e.reason || '' }),
  );
}

// A list of events kept newest first, fed by pages (older) and the live stream (newer).
export class EventList {
  constructor(ul, { component = '', pageSize = 100, showComponent = true, max = 2000 } = {}) {
    this.ul = ul;
    this.component = component;
    this.pageSize = pageSize;
    this.showComponent = showComponent;
    this.max = max;
    this.ids = new Set();
    this.oldestId = 0;
    this.moreBefore = false;
    this.filter = () => true;
    this.generation = 0;
  }

  async reload() {
    const gen = ++this.generation;
    const r = await api.events({ component: this.component, limit: this.pageSize });
    if (gen !== this.generation) return;
    this.ul.replaceChildren();
    this.ids.clear();
    this.oldestId = 0;
    this.addOlder(r.events);
    this.moreBefore = r.more_before;
  }

  async loadOlder() {
    if (!this.oldestId) return this.reload();
    const gen = this.generation;
    const r = await api.events({ component: this.component, before: this.oldestId, limit: this.pageSize });
    if (gen !== this.generation) return;
    this.addOlder(r.events);
    this.moreBefore = r.more_before;
  }

  // `events` oldest first, all older than what is shown.
  addOlder(events) {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      const li = eventRow(e, { showComponent: this.showComponent });
      li.hidden = !this.filter(e);
      li._event = e;
      this.ul.append(li);
      this.oldestId = this.oldestId ? Math.min(this.oldestId, e.id) : e.id;
    }
  }

  addLive(e) {
    if (!e.id || this.ids.has(e.id)) return;
    if (this.component && e.component !== this.component) return;
    this.ids.add(e.id);
    const li = eventRow(e, { showComponent: this.showComponent });
    li.hidden = !this.filter(e);
    li._event = e;
    li.classList.add('fresh');
    // Usually the newest; after a reconnect the replay can interleave, so keep the order.
    let before = this.ul.firstChild;
    while (before && before._event && before._event.id > e.id) before = before.nextSibling;
    this.ul.insertBefore(li, before);
    while (this.ul.childNodes.length > this.max) {
      const last = this.ul.lastChild;
      this.ids.delete(last._event.id);
      last.remove();
      this.moreBefore = true;
      this.oldestId = this.ul.lastChild._event.id;
    }
  }

  setFilter(filter) {
    this.filter = filter;
    for (const li of this.ul.children) li.hidden = !filter(li._event);
  }

  visibleCount() {
    let n = 0;
    for (const li of this.ul.children) if (!li.hidden) n++;
    return n;
  }
}
