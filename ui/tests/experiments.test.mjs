// Browser tests of the experiments page (#/experiments): listing, name search, paging, create
// (and a refused duplicate name), rename, delete, and opening the leaderboard of several.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, restClient, seedRun, eventually } from './harness.mjs';

let server;
let browser;
let rest;
const ids = {};

before(async () => {
  server = await startServer();
  rest = restClient(server.url);
  for (const name of ['exp-alpha', 'exp-beta', 'exp-gamma']) {
    ({ experiment_id: ids[name] } = await rest.post('experiments/create', { name }));
    await new Promise((r) => setTimeout(r, 5)); // distinct creation times
  }
  await seedRun(rest, ids['exp-alpha'], { name: 'alpha-run', params: { lr: '0.1' }, metrics: { rmse: 0.5 } });
  await seedRun(rest, ids['exp-beta'], { name: 'beta-run', params: { lr: '0.2' }, metrics: { rmse: 0.4 } });
  for (let i = 0; i < 52; i += 1) {
    await rest.post('experiments/create', { name: `bulk-${String(i).padStart(2, '0')}` });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function names(page) {
  return page.$$eval('table.experiments tbody td.exp-name a', (as) => as.map((a) => a.textContent));
}


async function search(page, text) {
  await page.fill('.exp-search', text);
  await page.press('.exp-search', 'Enter');
}

test('lists experiments newest first, searches by name and pages 50 at a time', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/experiments`);
  await page.waitForSelector('table.experiments tbody tr');
  const first = await names(page);
  assert.equal(first.length, 50);
  assert.deepEqual(first.slice(0, 3), ['bulk-51', 'bulk-50', 'bulk-49']);
  assert.equal(await page.textContent('.pager-range'), 'experiments 1–50');
  await page.click('.pager-next');
  await page.waitForFunction(() => document.querySelector('.pager-range')?.textContent === 'experiments 51–56');
  assert.deepEqual(await names(page), ['bulk-01', 'bulk-00', 'exp-gamma', 'exp-beta', 'exp-alpha', 'Default']);
  assert.ok(await page.isDisabled('.pager-next'));

  await search(page, 'BET');
  await eventually(() => names(page), ['exp-beta']);
  assert.match(page.url(), /#\/experiments\?q=BET$/);
  await search(page, 'exp-');
  await eventually(() => names(page), ['exp-gamma', 'exp-beta', 'exp-alpha']);

  // Sorting by name, ascending then descending.
  await page.click('th.sortable:has-text("Name")');
  await eventually(() => names(page), ['exp-alpha', 'exp-beta', 'exp-gamma']);
  await page.click('th.sortable:has-text("Name")');
  await eventually(() => names(page), ['exp-gamma', 'exp-beta', 'exp-alpha']);

  await search(page, 'no-such-thing');
  await page.waitForSelector('.empty-state');
  assert.match(await page.textContent('.empty-state'), /No experiment name contains 'no-such-thing'/);

  // A name links to its leaderboard.
  await search(page, 'alpha');
  await eventually(() => names(page), ['exp-alpha']);
  await page.click('td.exp-name a');
  await page.waitForSelector('tr[data-run-id]');
  assert.ok(page.url().endsWith(`#/experiments/${ids['exp-alpha']}`));
  assert.equal(await page.textContent('h1'), 'exp-alpha');
  assert.deepEqual(page.appErrors, []);
});

test('create, refuse a duplicate name, rename and delete', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/experiments?q=exp-`);
  await page.waitForSelector('table.experiments tbody tr');

  await page.click('.exp-create');
  await page.fill('.dialog .exp-name-input', 'exp-delta');
  await page.press('.dialog .exp-name-input', 'Enter');
  await page.waitForSelector('.dialog', { state: 'detached' });
  await eventually(() => names(page), ['exp-delta', 'exp-gamma', 'exp-beta', 'exp-alpha']);
  const { experiment: delta } = await rest.get('experiments/get-by-name', { experiment_name: 'exp-delta' });

  // The server refuses a duplicate name: its message shows in the dialog, which stays open.
  await page.click('.exp-create');
  await page.fill('.dialog .exp-name-input', 'exp-alpha');
  await page.click('.dialog button[data-action="Create"]');
  await page.waitForSelector('.dialog .error');
  assert.match(await page.textContent('.dialog .error'), /exp-alpha.*already exists/);
  await page.click('.dialog button:has-text("Cancel")');
  await page.waitForSelector('.dialog', { state: 'detached' });

  // An empty name is refused before asking the server.
  await page.click('.exp-create');
  await page.click('.dialog button[data-action="Create"]');
  assert.match(await page.textContent('.dialog .error'), /Enter a name/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('.dialog', { state: 'detached' });

  const row = `tr[data-experiment-id="${delta.experiment_id}"]`;
  await page.click(`${row} .exp-rename`);
  await page.fill('.dialog .exp-name-input', 'exp-beta');
  await page.click('.dialog button[data-action="Rename"]');
  await page.waitForSelector('.dialog .error');
  assert.match(await page.textContent('.dialog .error'), /exp-beta.*already exists/);
  await page.fill('.dialog .exp-name-input', 'exp-epsilon');
  await page.click('.dialog button[data-action="Rename"]');
  await page.waitForSelector('.dialog', { state: 'detached' });
  await eventually(() => page.textContent(`${row} td.exp-name`), 'exp-epsilon');
  assert.equal((await rest.get('experiments/get', { experiment_id: delta.experiment_id })).experiment.name, 'exp-epsilon');

  await page.click(`${row} .exp-delete`);
  assert.match(await page.textContent('.dialog h2'), /Delete experiment 'exp-epsilon'\?/);
  await page.click('.dialog button[data-action="Delete"]');
  await page.waitForSelector('.dialog', { state: 'detached' });
  await eventually(() => names(page), ['exp-gamma', 'exp-beta', 'exp-alpha']);
  assert.equal((await rest.get('experiments/get', { experiment_id: delta.experiment_id })).experiment.lifecycle_stage, 'deleted');
  assert.deepEqual(page.appErrors, []);
});

test('selecting two experiments opens one leaderboard over both', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/experiments?q=exp-`);
  await page.waitForSelector('table.experiments tbody tr');
  assert.ok(await page.isDisabled('.exp-compare'));
  await page.check(`tr[data-experiment-id="${ids['exp-alpha']}"] td.check input`);
  assert.ok(await page.isDisabled('.exp-compare'));
  await page.check(`tr[data-experiment-id="${ids['exp-beta']}"] td.check input`);
  assert.equal(await page.textContent('.exp-compare'), 'Compare runs (2)');
  await page.click('.exp-compare');
  await page.waitForSelector('tr[data-run-id]');
  assert.ok(page.url().endsWith(`#/experiments/${ids['exp-alpha']},${ids['exp-beta']}`), page.url());
  await eventually(async () => (await page.$$eval('td.name-col a', (as) => as.map((a) => a.textContent))).sort(),
                   ['alpha-run', 'beta-run']);
  await page.waitForFunction(() => [...document.querySelectorAll('td[data-col="attributes.experiment_id"]')]
    .map((td) => td.textContent).sort().join() === 'exp-alpha,exp-beta');
  assert.deepEqual(page.appErrors, []);
});
