// vigild's HTTP API, relative to the page: the dashboard is served by vigild itself, so the
// same origin carries the API and no CORS is needed.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const API = 'api/v1';

async function request(path, options = {}) {
  let res;
  try {
    res = await fetch(`${API}/${path}`, { cache: 'no-store', ...options });
  } catch (e) {
    throw new ApiError(0, `vigild is not reachable (${e.message})`);
  }
  let body = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const message = body && body.error ? body.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  components: () => request('components'),
  logs: (name, lines = 200) =>
    request(`components/${encodeURIComponent(name)}/logs${query({ lines })}`),
  events: (params) => request(`events${query(params)}`),
  report: (since) => request(`report${query({ since })}`),
  history: (component, series, since = '1h', points = 600) =>
    request(`metrics/history${query({ component, series, since, points })}`),
  command: (name, verb, token) =>
    request(`components/${encodeURIComponent(name)}/${verb}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'from the web dashboard' }),
    }),
  approvals: () => request('approvals'),
  // verb: approve or deny.
  decide: (id, verb, token) =>
    request(`approvals/${encodeURIComponent(id)}/${verb}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'from the web dashboard' }),
    }),
};

// The live stream. EventSource reconnects by itself (sending Last-Event-ID) after a dropped
// connection; when the server refuses outright (503: too many streams, or vigild restarting)
// it gives up, so this reconnects it with a growing delay and the last id seen.
export class LiveStream {
  constructor({ onSnapshot, onEvent, onConnected, onDisconnected }) {
    this.handlers = { onSnapshot, onEvent, onConnected, onDisconnected };
    this.lastId = 0;
    this.retryMs = 500;
    this.source = null;
    this.timer = null;
  }

  start() {
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    const url = `${API}/stream${this.lastId > 0 ? `?last_event_id=${this.lastId}` : ''}`;
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('open', () => {
      this.retryMs = 500;
    });
    source.addEventListener('snapshot', (m) => {
      this.handlers.onConnected();
      this.handlers.onSnapshot(JSON.parse(m.data));
    });
    source.addEventListener('event', (m) => {
      const e = JSON.parse(m.data);
      if (e.id) this.lastId = Math.max(this.lastId, e.id);
      this.handlers.onEvent(e);
    });
    source.addEventListener('overflow', () => {
      // The server drops a client that fell behind; the reconnect replays what we missed.
      this.handlers.onDisconnected('the page fell behind the event stream');
    });
    source.addEventListener('error', () => {
      this.handlers.onDisconnected('the event stream dropped');
      if (source.readyState === EventSource.CLOSED) {
        this.timer = setTimeout(() => this.open(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
      }
    });
  }
}

// The API token: asked once, kept for this browser tab only.
const TOKEN_KEY = 'vigil.token';
export const tokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};
