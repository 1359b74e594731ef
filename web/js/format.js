// Formatting for a dense operations view: short units, tabular digits, "-" for unknown.

export const DASH = '–';

export function bytes(n) {
  if (n == null || !Number.isFinite(n)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function percent(n, digits = 1) {
  if (n == null || !Number.isFinite(n)) return DASH;
  return `${n.toFixed(digits)}%`;
}

// 3d 4h, 2h 05m, 4m 07s, 12.3s: the two most significant units.
export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return DASH;
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (x) => String(x).padStart(2, '0');
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

export function seconds(s) {
  return s == null ? DASH : duration(s * 1000);
}

export function availability(a) {
  if (a == null || !Number.isFinite(a)) return DASH;
  if (a >= 1) return '100%';
  // Four nines need four decimals to be told apart from three; never round up to 100%.
  const text = (a * 100).toFixed(a >= 0.9999 ? 4 : a >= 0.99 ? 3 : 1);
  return text.startsWith('100') ? '>99.9999%' : `${text}%`;
}

export function clockTime(wallUs) {
  if (!wallUs) return DASH;
  const d = new Date(wallUs / 1000);
  const two = (x) => String(x).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(
    d.getMilliseconds(),
  ).padStart(3, '0')}`;
}

export function dateTime(wallUs) {
  if (!wallUs) return DASH;
  const d = new Date(wallUs / 1000);
  return d.toLocaleString();
}

export function number(n, digits = 0) {
  if (n == null || !Number.isFinite(n)) return DASH;
  return n.toFixed(digits);
}

// Safe element construction: text only ever goes through textContent.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function setText(node, text) {
  const t = text == null ? '' : String(text);
  if (node.textContent !== t) node.textContent = t;
}
