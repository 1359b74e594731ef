// End-to-end test of vigild's dashboard in Debian's Chromium: a real vigild, a real browser,
// real processes killed and restarted. Run by run.sh, which starts vigild; by hand:
//
//   VIGIL_STATE_DIR=/path/to/state node tests/e2e/dashboard.e2e.mjs
//
// Environment:
//   VIGIL_STATE_DIR    vigild's state_dir (http.url and token are read from it), or:
//   VIGILD_URL         vigild's HTTP base URL, and VIGIL_TOKEN its API token
//   VIGIL_KILL         the component to SIGKILL (default: camera)
//   VIGIL_RESTART      the component to restart with the button (default: lidar)
//   VIGIL_APPROVAL     the component whose recovery waits for approval (default: gate)
//   VIGIL_SCREENSHOT   when set, a 1280x800 screenshot of the dashboard is written there
//   CHROMIUM           the browser (default: /usr/bin/chromium)
//
// When vigild does not serve the dashboard itself (GET / is not the page), the page is
// served by devserver.mjs, which forwards the API to vigild: the page under test is the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startDevServer } from './devserver.mjs';

// Polls a predicate in the page with page.evaluate (a DevTools call, which the dashboard's
// Content-Security-Policy allows), not page.waitForFunction (which needs eval in the page, which
// the CSP rightly forbids).
async function waitUntil(page, predicate, arg, { timeout }) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(predicate, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${predicate}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const T = { short: 10_000, long: 30_000 };

function readState(file) {
  const dir = process.env.VIGIL_STATE_DIR;
  if (!dir) return '';
  return readFileSync(`${dir}/${file}`, 'utf8').trim();
}

const vigildUrl = (process.env.VIGILD_URL || readState('http.url')).replace(/\/$/, '');
const token = process.env.VIGIL_TOKEN || readState('token');
const victim = process.env.VIGIL_KILL || 'camera';
const restartee = process.env.VIGIL_RESTART || 'lidar';
const gate = process.env.VIGIL_APPROVAL || 'gate';
assert.ok(vigildUrl, 'set VIGIL_STATE_DIR or VIGILD_URL');
assert.ok(token, 'set VIGIL_STATE_DIR or VIGIL_TOKEN');

async function getJson(path) {
  const res = await fetch(`${vigildUrl}${path}`);
  assert.equal(res.status, 200, `GET ${path}: HTTP ${res.status}`);
  return res.json();
}

function components(tree, out = []) {
  if (tree.type === 'component') out.push(tree);
  for (const c of tree.children || []) components(c, out);
  return out;
}

async function componentNode(name) {
  const status = await getJson('/api/v1/components');
  const node = components(status.tree).find((c) => c.name === name);
  assert.ok(node, `vigild has no component ${name}`);
  return node;
}

async function vigildServesDashboard() {
  try {
    const res = await fetch(`${vigildUrl}/`);
    const type = res.headers.get('content-type') || '';
    if (res.status !== 200 || !type.includes('text/html')) return false;
    const vendor = await fetch(`${vigildUrl}/vendor/uPlot.iife.min.js`);
    return vendor.status === 200 && (await res.text()).includes('app.js');
  } catch {
    return false;
  }
}

const log = (...a) => console.log('e2e:', ...a);
let passed = 0;
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${e.stack || e}`);
    throw e;
  }
}

let dev = null;
let browser = null;
let exitCode = 1;
try {
  let pageUrl = vigildUrl;
  if (await vigildServesDashboard()) {
    log(`vigild serves the dashboard at ${vigildUrl}/`);
  } else {
    dev = await startDevServer(vigildUrl);
    pageUrl = dev.url;
    log(`vigild does not serve / yet: dashboard from devserver ${dev.url} -> ${vigildUrl}`);
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (503|403)/.test(m.text())) log(`page console: ${m.text()}`);
  });

  const status = await getJson('/api/v1/components');
  const names = components(status.tree).map((c) => c.name);
  assert.ok(names.includes(victim) && names.includes(restartee), `config lacks ${victim}/${restartee}: ${names}`);

  await step('the dashboard lists every component', async () => {
    await page.goto(`${pageUrl}/?events_page=10`);
    for (const name of names) {
      await page.getByTestId(`row-${name}`).waitFor({ timeout: T.long });
    }
    await page.getByTestId(`state-${victim}`).getByText('running').waitFor({ timeout: T.long });
    await page.getByTestId(`state-${restartee}`).getByText('running').waitFor({ timeout: T.long });
    await page.locator('[data-testid=connection][data-connected=true]').waitFor({ timeout: T.long });
    assert.equal(await page.getByTestId('disconnected-banner').isVisible(), false);
    // No modes configured: the robot is nominal, as vigild tells components.
    await page.locator('#mode-name[data-mode=nominal]').waitFor({ timeout: T.long });
  });

  await step(`a killed ${victim} shows as failed, then running again, without reload`, async () => {
    const before = await componentNode(victim);
    assert.equal(before.state, 'running');
    assert.ok(before.pid > 0);
    // Record every state the cell shows: the failed moment may last only ~100 ms (backoff).
    await page.evaluate((name) => {
      window.__noReload = true;
      window.__seen = [];
      const cell = document.querySelector(`[data-testid="state-${name}"]`);
      new MutationObserver(() => {
        window.__seen.push({ state: cell.dataset.state, wallMs: Date.now() });
      }).observe(cell, { subtree: true, childList: true, characterData: true, attributes: true });
    }, victim);
    const killedAt = Date.now();
    process.kill(before.pid, 'SIGKILL');
    await waitUntil(page,
      () => window.__seen.some((s) => s.state && s.state !== 'running'),
      null,
      { timeout: T.short, polling: 10 },
    );
    const seenAfterMs = Date.now() - killedAt;
    const seenRecords = await page.evaluate(() => window.__seen);
    const seen = seenRecords.map((s) => s.state);
    // Latency from vigild committing the exit event to the page showing it (same clock).
    const recent = await getJson(`/api/v1/events?component=${victim}&limit=20`);
    const exited = recent.events.find((e) => e.kind === 'exited' && e.detail && e.detail.pid === before.pid);
    assert.ok(exited, 'vigild logged no exit of the killed process');
    const firstChange = seenRecords.find((s) => s.state !== 'running');
    const latencyMs = firstChange.wallMs - exited.wall_us / 1000;
    log(`  states shown: ${[...new Set(seen)].join(' -> ')}; event committed -> row repainted in ${latencyMs.toFixed(0)} ms (kill -> seen by the test ${seenAfterMs} ms)`);
    assert.ok(latencyMs < 1000, `the page took ${latencyMs} ms to show the exit (target 250 ms)`);
    assert.ok(seen.some((s) => ['stopped', 'stopping', 'backoff', 'failed'].includes(s)), `no failure state shown: ${seen}`);
    await page.locator(`[data-testid=timeline] [data-kind=exited][data-component="${victim}"]`).first().waitFor({ timeout: T.short });
    await waitUntil(page,
      ([name, oldPid]) => {
        const cell = document.querySelector(`[data-testid="state-${name}"]`);
        const pid = document.querySelector(`[data-testid="pid-${name}"]`).textContent.trim();
        return cell.dataset.state === 'running' && /^\d+$/.test(pid) && pid !== String(oldPid);
      },
      [victim, before.pid],
      { timeout: T.long },
    );
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was reloaded');
    const after = await componentNode(victim);
    assert.notEqual(after.pid, before.pid);
    assert.equal(await page.getByTestId(`pid-${victim}`).textContent(), String(after.pid));
  });

  await step(`the restart button asks for the token and restarts ${restartee}`, async () => {
    const before = await componentNode(restartee);
    assert.equal(before.state, 'running');
    await page.evaluate(() => sessionStorage.clear());
    await page.getByTestId(`restart-${restartee}`).click();
    const dialog = page.getByTestId('token-dialog');
    await dialog.waitFor({ state: 'visible', timeout: T.short });
    // A wrong token first: vigild answers 403 and the dialog asks again.
    await page.getByTestId('token-input').fill('not-the-token');
    await page.getByTestId('token-submit').click();
    await page.getByTestId('token-error').waitFor({ state: 'visible', timeout: T.short });
    await page.getByTestId('token-input').fill(token);
    await page.getByTestId('token-submit').click();
    await dialog.waitFor({ state: 'hidden', timeout: T.short });
    await page
      .locator(`[data-testid=timeline] [data-kind=operator_command][data-component="${restartee}"]`)
      .first()
      .waitFor({ timeout: T.short });
    await waitUntil(page,
      ([name, oldPid]) => {
        const cell = document.querySelector(`[data-testid="state-${name}"]`);
        const pid = document.querySelector(`[data-testid="pid-${name}"]`).textContent.trim();
        return cell.dataset.state === 'running' && /^\d+$/.test(pid) && pid !== String(oldPid);
      },
      [restartee, before.pid],
      { timeout: T.long },
    );
    assert.equal(await page.evaluate(() => sessionStorage.getItem('vigil.token')), token, 'token kept for the tab');
    const events = await getJson(`/api/v1/events?component=${restartee}&limit=50`);
    assert.ok(events.events.some((e) => e.kind === 'operator_command'), 'vigild logged no operator_command');
  });

  await step(`the pending approval of ${gate} shows with a countdown; Approve and Deny answer it, live`, async () => {
    // gate fails at once; its second step waits for an operator. The row comes from the
    // snapshot or from the approval_requested event, whichever the page saw.
    const panel = page.getByTestId('approvals-panel');
    const row = panel.locator(`[data-testid=approval][data-component="${gate}"]`);
    await row.waitFor({ state: 'visible', timeout: T.long });
    const pending = (await getJson('/api/v1/approvals')).approvals.find((a) => a.component === gate);
    assert.ok(pending, `vigild lists no approval for ${gate}`);
    assert.equal(await row.getAttribute('data-id'), String(pending.id));
    assert.equal(await row.getByTestId('approval-default').textContent(), 'default: deny');
    assert.match(await row.getByTestId('approval-action').textContent(), /restart/);
    const countdown = row.getByTestId('approval-countdown');
    assert.match(await countdown.textContent(), /^\d+m \d\ds left, then deny$|^\d+(\.\d)?s left, then deny$/);
    // The token is in the tab since the restart above: no dialog this time.
    await row.getByTestId('approval-approve').click();
    await row.waitFor({ state: 'detached', timeout: T.short });
    await panel.waitFor({ state: 'hidden', timeout: T.short });
    const events = await getJson(`/api/v1/events?component=${gate}&limit=100`);
    const decided = events.events.find((e) => e.kind === 'approval_decided' && e.detail.id === pending.id);
    assert.ok(decided, 'vigild logged no approval_decided');
    assert.equal(decided.detail.decision, 'approved');
    assert.equal(decided.detail.origin.via, 'http');
    assert.equal(decided.detail.origin.reason, 'from the web dashboard');
    assert.deepEqual((await getJson('/api/v1/approvals')).approvals.filter((a) => a.component === gate), []);

    // The approved restart fails too: the ladder ends in a safe stop. An operator start climbs
    // it again, and the next approval reaches the open page by the event stream alone.
    const deadline = Date.now() + T.long;
    while ((await componentNode(gate)).state !== 'given_up') {
      assert.ok(Date.now() < deadline, `${gate} did not reach its safe stop`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = await fetch(`${vigildUrl}/api/v1/components/${gate}/start`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': '0' },
    });
    assert.equal(started.status, 200, `start ${gate}: HTTP ${started.status}`);
    const next = panel.locator(`[data-testid=approval][data-component="${gate}"]`);
    await next.waitFor({ state: 'visible', timeout: T.long });
    const nextId = await next.getAttribute('data-id');
    assert.notEqual(nextId, String(pending.id));
    await next.getByTestId('approval-deny').click();
    await panel.waitFor({ state: 'hidden', timeout: T.short });
    const after = await getJson(`/api/v1/events?component=${gate}&limit=100`);
    const denied = after.events.find((e) => e.kind === 'approval_decided' && e.detail.id === nextId);
    assert.ok(denied, 'vigild logged no approval_decided for the second approval');
    assert.equal(denied.detail.decision, 'denied');
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was reloaded');
  });

  await step('the detail view shows charts, logs and events of a component', async () => {
    await page.getByTestId(`row-${restartee}`).click();
    const detail = page.locator(`[data-testid=detail][data-component="${restartee}"]`);
    await detail.waitFor({ state: 'visible', timeout: T.short });
    for (const series of ['cpu_percent', 'rss_bytes', 'heartbeat_interval_ms', 'phi']) {
      await detail.getByTestId(`chart-${series}`).locator('canvas').waitFor({ timeout: T.short });
    }
    // Live samples reach the charts whether or not vigild keeps a stored history.
    await waitUntil(page,
      () => Number(document.querySelector('[data-testid=chart-rss_bytes]').dataset.points || 0) >= 2,
      null,
      { timeout: T.short },
    );
    await waitUntil(page,
      () => document.querySelector('[data-testid=detail-logs]').textContent.includes('robot_sim'),
      null,
      { timeout: T.long },
    );
    await detail.locator('[data-testid=detail-events] [data-kind=operator_command]').first().waitFor({ timeout: T.short });
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden', timeout: T.short });
  });

  await step('the timeline filters to failures and pages back', async () => {
    const events = page.locator('[data-testid=timeline] [data-testid=event]');
    const older = page.getByTestId('load-older');
    assert.equal(await older.isEnabled(), true, 'more events than one page, yet no "load older"');
    const oldestBefore = Number(await events.last().getAttribute('data-id'));
    await older.click();
    // Wait for the older page itself: live events (prepended) also raise the count.
    await waitUntil(page,
      (oldest) => {
        const rows = document.querySelectorAll('[data-testid=timeline] [data-testid=event]');
        return rows.length > 0 && Number(rows[rows.length - 1].dataset.id) < oldest;
      },
      oldestBefore,
      { timeout: T.short },
    );
    const oldestAfter = Number(await events.last().getAttribute('data-id'));
    assert.ok(oldestAfter < oldestBefore, `paging back reached no older event (${oldestAfter} >= ${oldestBefore})`);
    await page.getByTestId('filter-failures').check();
    const visible = page.locator('[data-testid=timeline] [data-testid=event]:visible');
    await visible.first().waitFor({ timeout: T.short });
    const kinds = await visible.evaluateAll((els) => els.map((e) => e.classList.contains('failure')));
    assert.ok(kinds.length > 0 && kinds.every(Boolean), 'failures only shows only failures');
    await page.getByTestId('filter-failures').uncheck();
    await page.getByTestId('reliability').getByText(victim).first().waitFor({ timeout: T.long });
  });

  if (process.env.VIGIL_SCREENSHOT) {
    await step(`screenshot to ${process.env.VIGIL_SCREENSHOT}`, async () => {
      await page.waitForTimeout(5000); // let the toast and the fresh-event highlight fade
      await page.screenshot({ path: process.env.VIGIL_SCREENSHOT });
    });
  }

  await step('stopping vigild shows the "disconnected" banner', async () => {
    assert.equal(await page.getByTestId('disconnected-banner').isVisible(), false);
    process.kill(status.daemon.pid, 'SIGTERM');
    await page.getByTestId('disconnected-banner').waitFor({ state: 'visible', timeout: T.long });
    await page.locator('[data-testid=connection][data-connected=false]').waitFor({ timeout: T.short });
  });

  assert.deepEqual(pageErrors, [], 'the page threw');
  exitCode = 0;
} catch (e) {
  if (!failed) log(`FAIL ${e.stack || e}`);
  failed = failed || 1;
} finally {
  if (browser) await browser.close();
  if (dev) dev.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(exitCode);
}
