// The supervision tree as a table: one row per group and component, updated in place so a
// state change repaints one cell, not the whole table.
import { bytes, DASH, duration, el, percent, setText } from './format.js';

export const STATE_CLASS = {
  running: 'ok',
  starting: 'busy',
  stopping: 'busy',
  failed: 'bad',
  backoff: 'bad',
  given_up: 'bad',
  stopped: 'idle',
};

export function stateClass(state) {
  return STATE_CLASS[state] || 'idle';
}

// Walks the tree depth first: [{node, depth, parent}].
export function flatten(tree) {
  const out = [];
  const walk = (node, depth, parent) => {
    out.push({ node, depth, parent });
    for (const c of node.children || []) walk(c, depth + 1, node.name);
  };
  if (tree) walk(tree, 0, null);
  return out;
}

const VERBS = [
  { verb: 'start', icon: '▶', label: 'Start' },
  { verb: 'stop', icon: '■', label: 'Stop' },
  { verb: 'restart', icon: '↻', label: 'Restart' },
];

export class TreeView {
  constructor(tbody, { onSelect, onCommand }) {
    this.tbody = tbody;
    this.onSelect = onSelect;
    this.onCommand = onCommand;
    this.rows = new Map(); // name -> {tr, cells}
    this.shape = '';
    this.selected = null;
  }

  render(tree, now) {
    const flat = flatten(tree);
    const shape = flat.map((f) => `${f.depth}:${f.node.type}:${f.node.name}`).join('|');
    if (shape !== this.shape) this.build(flat);
    for (const { node } of flat) this.update(node, now);
  }

  build(flat) {
    this.shape = flat.map((f) => `${f.depth}:${f.node.type}:${f.node.name}`).join('|');
    this.rows.clear();
    this.tbody.replaceChildren();
    for (const { node, depth } of flat) {
      const isGroup = node.type === 'group';
      const name = node.name;
      const cells = {};
      const td = (key, cls, ...kids) => {
        cells[key] = el('td', { class: cls }, ...kids);
        return cells[key];
      };
      cells.level = el('span', { class: 'badge warn', hidden: true, 'data-testid': `level-${name}` });
      cells.stateText = el('span', { class: 'pill' });
      const nameCell = el(
        'div',
        { class: 'name', style: `--depth:${depth}` },
        el('span', { class: 'dot', 'aria-hidden': 'true' }),
        el('span', { class: isGroup ? 'group-name' : 'comp-name', text: name }),
        isGroup ? el('span', { class: 'muted strategy', text: node.strategy }) : null,
        cells.level,
      );
      const buttons = VERBS.map(({ verb, icon, label }) =>
        el(
          'button',
          {
            type: 'button',
            class: `icon-btn ${verb}`,
            'aria-label': `${label} ${name}`,
            title: `${label} ${name}`,
            'data-testid': `${verb}-${name}`,
            onclick: (ev) => {
              ev.stopPropagation();
              this.onCommand(name, verb);
            },
          },
          icon,
        ),
      );
      cells.buttons = Object.fromEntries(VERBS.map((v, i) => [v.verb, buttons[i]]));
      const tr = el(
        'tr',
        {
          class: isGroup ? 'group' : 'component',
          'data-testid': `row-${name}`,
          'data-name': name,
          tabindex: isGroup ? null : '0',
          'aria-label': isGroup ? null : `${name}: open details`,
        },
        el('td', { class: 'c-name' }, nameCell),
        td('state', 'c-state', cells.stateText),
        td('pid', 'c-num c-pid'),
        td('uptime', 'c-num'),
        td('restarts', 'c-num'),
        td('cpu', 'c-num c-cpu'),
        td('rss', 'c-num'),
        td('reason', 'c-reason'),
        el('td', { class: 'c-actions' }, el('div', { class: 'actions' }, buttons)),
      );
      cells.state.dataset.testid = `state-${name}`;
      cells.pid.dataset.testid = `pid-${name}`;
      cells.restarts.dataset.testid = `restarts-${name}`;
      cells.reason.dataset.testid = `reason-${name}`;
      if (!isGroup) {
        tr.addEventListener('click', () => this.onSelect(name));
        tr.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            this.onSelect(name);
          }
        });
      }
      this.tbody.append(tr);
      this.rows.set(name, { tr, cells, isGroup });
    }
    this.select(this.selected);
  }

  update(node, now) {
    const row = this.rows.get(node.name);
    if (!row) return;
    const { tr, cells, isGroup } = row;
    if (isGroup) {
      const i = node.intensity || {};
      setText(cells.state, '');
      setText(cells.pid, '');
      setText(cells.uptime, '');
      setText(cells.restarts, node.restarts ?? DASH);
      setText(cells.cpu, '');
      setText(cells.rss, '');
      setText(
        cells.reason,
        i.restarts != null
          ? `${i.recent ?? 0} of ${i.restarts} restarts within ${duration(i.within_ms)}`
          : '',
      );
      return;
    }
    const state = node.state || 'unknown';
    if (tr.dataset.state !== state) {
      tr.dataset.state = state;
      tr.dataset.tone = stateClass(state);
      cells.stateText.className = `pill ${stateClass(state)}`;
      cells.state.dataset.state = state;
    }
    setText(cells.stateText, state);
    const warnings = node.warnings && Object.keys(node.warnings).length ? node.warnings : null;
    const level = node.level || 'OK';
    cells.level.hidden = level === 'OK' || (level === 'ERROR' && !warnings);
    setText(cells.level, level);
    cells.level.className = `badge ${level === 'WARN' ? 'warn' : level === 'ERROR' ? 'bad' : 'idle'}`;
    cells.level.title = warnings ? Object.values(warnings).join('\n') : level;
    setText(cells.pid, node.pid > 0 ? node.pid : DASH);
    const up = node.since_us ? now - node.since_us : null;
    setText(cells.uptime, state === 'running' && up != null ? duration(up / 1000) : DASH);
    cells.uptime.title = state === 'running' ? 'time since ready' : `in ${state} for ${duration(up / 1000)}`;
    setText(cells.restarts, node.restarts ?? DASH);
    const r = node.resources || {};
    const alive = node.pid > 0;
    setText(cells.cpu, alive ? percent(r.cpu_percent) : DASH);
    cells.cpu.style.setProperty('--bar', alive && r.cpu_percent ? Math.min(r.cpu_percent, 100) : 0);
    setText(cells.rss, alive ? bytes(r.rss_bytes) : DASH);
    let reason = node.reason || '';
    if (warnings) reason = `${Object.values(warnings).join('; ')} · ${reason}`;
    // Where recovery stands: the ladder's step and who serves for whom.
    const recovery = [];
    if (node.recovery) recovery.push(`step ${node.recovery.step}/${node.recovery.of} ${node.recovery.action}`);
    if (node.replaced_by) recovery.push(`replaced by ${node.replaced_by}`);
    if (node.serving_for) recovery.push(`serving for ${node.serving_for}`);
    if (recovery.length) reason = `[${recovery.join(', ')}] ${reason}`;
    setText(cells.reason, reason);
    cells.reason.title = reason;
    cells.buttons.start.disabled = state === 'running' || state === 'starting';
    cells.buttons.stop.disabled = state === 'stopped' || state === 'stopping';
  }

  select(name) {
    this.selected = name;
    for (const [n, { tr }] of this.rows) tr.classList.toggle('selected', n === name);
  }
}
