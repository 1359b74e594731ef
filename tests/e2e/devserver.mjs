// A small server for developing and testing the dashboard against a vigild that does not
// serve web/ itself: it serves web/ at /, uPlot at /vendor/, and forwards /api/ and /metrics
// to vigild (streaming, so the server-sent event stream passes through).
//   node tests/e2e/devserver.mjs http://127.0.0.1:PORT [listen-port]
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webRoot = path.resolve(here, '../../web');
const vendorRoot = path.join(webRoot, 'node_modules/uplot/dist');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

function serveFile(root, rel, res) {
  const file = path.resolve(root, `.${rel}`);
  if (!file.startsWith(root + path.sep) && file !== root) {
    res.writeHead(403).end('forbidden');
    return;
  }
  let st;
  try {
    st = statSync(file);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${rel}`);
    return;
  }
  if (st.isDirectory()) return serveFile(root, path.posix.join(rel, 'index.html'), res);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': 'no-store',
  });
  createReadStream(file).pipe(res);
}

export function startDevServer(vigildUrl, port = 0) {
  const upstream = new URL(vigildUrl);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname.startsWith('/api/') || url.pathname === '/metrics') {
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode, up.headers);
          res.flushHeaders();
          up.pipe(res);
        },
      );
      forward.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: `vigild unreachable: ${e.message}`, status: 502 }));
      });
      res.on('close', () => forward.destroy());
      req.pipe(forward);
      return;
    }
    if (url.pathname.startsWith('/vendor/')) return serveFile(vendorRoot, url.pathname.slice('/vendor'.length), res);
    return serveFile(webRoot, decodeURIComponent(url.pathname), res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [target, port] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node devserver.mjs VIGILD_URL [PORT]');
    process.exit(2);
  }
  const { url } = await startDevServer(target, Number(port || 0));
  console.log(`dashboard on ${url} (API from ${target})`);
}
