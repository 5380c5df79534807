// The shell of the web app: `mlt ui` serves the embedded files with ETags, refuses paths that
// leave the app's folder, and the router renders pages (and a not-found page) without errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, launchBrowser, newPage } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ embedded: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Sends `path` as written (fetch would normalise '..' away) and returns the raw answer.
function rawGet(url, path) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

test('mlt ui prints where to open the app', () => {
  assert.match(server.output(), /Open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
});

test('the index and the app files are served with ETags and revalidated with 304', async () => {
  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(await index.text(), /<script type="module" src="\/static\/main.js">/);
  const etag = index.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const again = await fetch(`${server.url}/`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);

  const main = await fetch(`${server.url}/static/main.js`);
  assert.equal(main.status, 200);
  assert.match(main.headers.get('content-type'), /^text\/javascript/);
  const uplot = await fetch(`${server.url}/static/vendor/uPlot.esm.js`);
  assert.equal(uplot.status, 200);
  assert.match(await uplot.text(), /export \{ uPlot as default \}|export default/);
  const css = await fetch(`${server.url}/static/vendor/uPlot.min.css`);
  assert.match(css.headers.get('content-type'), /^text\/css/);
});

test('unknown assets are 404 and escaping paths are refused', async () => {
  const missing = await fetch(`${server.url}/static/no-such-file.js`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error_code: 'RESOURCE_DOES_NOT_EXIST',
    message: "No UI asset '/static/no-such-file.js'",
  });
  const escaping = await rawGet(server.url, '/static/../../etc/passwd');
  assert.match(escaping, /^HTTP\/1\.1 400 /);
  assert.match(escaping, /Invalid UI asset path '.*etc\/passwd': it escapes its root folder/);
  assert.doesNotMatch(escaping, /root:/);
  const dotted = await rawGet(server.url, '/static/vendor/../../../mlruns.db');
  assert.match(dotted, /^HTTP\/1\.1 400 /);
});

test('the router renders the pages and a not-found page', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('.topbar .brand');
  assert.equal(await page.textContent('.topbar .brand'), 'mltrack');
  assert.equal(await page.getAttribute('[data-nav="experiments"]', 'class'), 'active');
  await page.click('[data-nav="models"]');
  await page.waitForFunction(() => location.hash === '#/models');
  assert.equal(await page.getAttribute('[data-nav="models"]', 'class'), 'active');
  await page.goto(`${server.url}/#/no/such/page`);
  await page.waitForSelector('text=Page not found');
  assert.match(await page.textContent('#app'), /No page at '\/no\/such\/page'/);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});
