// Shared set-up of the browser tests: a real `mlt ui` on an ephemeral loopback port over a
// SQLite file in a temporary folder, seeded through the REST API, and Debian's Chromium driven
// headless by playwright-core. Environment:
//   MLT_BIN        the built mlt binary (ctest sets it; required)
//   CHROMIUM_PATH  the browser (default /usr/bin/chromium)
//   MLT_UI_DIR     passed on to mlt: serve the app from this folder instead of the embedded copy
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const MLT_BIN = process.env.MLT_BIN;

// Starts `mlt ui` in a fresh folder; resolves with {url, dir, stop()} once it listens.
// `embedded: true` serves the copy built into mlt even when MLT_UI_DIR is set.
export async function startServer({ embedded = false } = {}) {
  if (!MLT_BIN) throw new Error('MLT_BIN is not set: it must name the built mlt binary');
  const dir = mkdtempSync(join(tmpdir(), 'mlt-ui-test-'));
  const child = spawn(MLT_BIN, ['ui', '--backend-store-uri', `sqlite:///${dir}/mlruns.db`,
                                '--artifacts-destination', join(dir, 'mlartifacts'),
                                '--host', '127.0.0.1', '--port', '0'],
                      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
                        env: embedded ? { ...process.env, MLT_UI_DIR: '' } : process.env });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mlt ui did not start in 20 s:\n${output}`)), 20000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mlt ui exited with ${code} before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    dir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Chromium headless as root in a closed network: no sandbox, no background connections.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
  });
}

// A page that records uncaught errors and console errors; `page.appErrors` lists them, and
// tests assert it stays empty. Chromium's own "Failed to load resource" lines for HTTP error
// answers are not errors of the app (a bad filter is answered 400 on purpose), so they are not
// recorded.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true, ...options });
  const page = await context.newPage();
  page.appErrors = [];
  page.on('pageerror', (err) => page.appErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      page.appErrors.push(`console: ${msg.text()}`);
    }
  });
  page.setDefaultTimeout(10000);
  return page;
}

// fetch, sent once more when the connection failed under it: a kept-alive connection the server
// closed while idle (it does so when connections wait for a worker) fails before the request was
// read, and node does not resend it.
async function fetchResending(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (!(err instanceof TypeError) || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(err.cause?.code)) throw err;
    return fetch(url, init);
  }
}

// A REST client for seeding: rest.post('runs/create', {...}) against MLflow's API.
export function restClient(baseUrl) {
  async function call(method, path, body) {
    const url = path.startsWith('/') ? baseUrl + path : `${baseUrl}/api/2.0/mlflow/${path}`;
    const init = { method, headers: {} };
    if (body !== undefined && method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const target = method === 'GET' && body ? `${url}?${new URLSearchParams(body)}` : url;
    const response = await fetchResending(target, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
    return text ? JSON.parse(text) : {};
  }
  return {
    get: (path, query) => call('GET', path, query),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body ?? {}),
    delete: (path, body) => call('DELETE', path, body ?? {}),
    // Uploads `content` as the run's artifact `path` through the artifact proxy.
    async putArtifact(run, path, content) {
      const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
      const response = await fetchResending(
        `${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { method: 'PUT', body: content });
      if (!response.ok) throw new Error(`PUT artifact ${path} -> ${response.status}: ${await response.text()}`);
    },
  };
}

// Creates a run with params, metrics (name -> value or [values by step]) and tags; returns the
// run as runs/get answers it.
export async function seedRun(rest, experimentId, { name, params = {}, metrics = {}, tags = {},
                                                      startTime = Date.now(), status = 'FINISHED',
                                                      endTime } = {}) {
  const { run } = await rest.post('runs/create', {
    experiment_id: experimentId, run_name: name, start_time: startTime,
    tags: Object.entries(tags).map(([key, value]) => ({ key, value: String(value) })),
  });
  const id = run.info.run_id;
  const metricList = [];
  for (const [key, value] of Object.entries(metrics)) {
    const values = Array.isArray(value) ? value : [value];
    values.forEach((v, step) => metricList.push({ key, value: v, step, timestamp: startTime + step * 1000 }));
  }
  for (let i = 0; i < metricList.length || i === 0; i += 1000) {
    await rest.post('runs/log-batch', {
      run_id: id,
      metrics: metricList.slice(i, i + 1000),
      params: i === 0 ? Object.entries(params).map(([key, value]) => ({ key, value: String(value) })) : [],
    });
  }
  if (status !== 'RUNNING') {
    await rest.post('runs/update', { run_id: id, status, end_time: endTime ?? startTime + 60000 });
  }
  return (await rest.get('runs/get', { run_id: id })).run;
}

// Polls `read` until it deep-equals `expected` (10 s), then asserts with the last value.
export async function eventually(read, expected, timeout = 10000) {
  const end = Date.now() + timeout;
  let value;
  while (Date.now() < end) {
    value = await read();
    try {
      assert.deepEqual(value, expected);
      return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(value, expected);
}
