// Browser tests of the runs leaderboard (#/experiments/<ids>): order, server-side sorting,
// filters (good and refused), column chooser, nested runs, paging, CSV download, live updates of
// running runs, several experiments at once, selection -> compare, empty and unknown experiments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, restClient, seedRun, eventually } from './harness.mjs';

let server;
let browser;
let rest;
const seeded = {}; // name -> {id, rmse, depth, lr, topLevel, startTime}
let mainId;
let otherId;
let emptyId;
let liveRunId;
let parentRunId;

// 24 plain runs, a parent with 3 children and a RUNNING run in `lb-main`; 3 runs in `lb-other`.
before(async () => {
  server = await startServer();
  rest = restClient(server.url);
  ({ experiment_id: mainId } = await rest.post('experiments/create', { name: 'lb-main' }));
  ({ experiment_id: otherId } = await rest.post('experiments/create', { name: 'lb-other' }));
  ({ experiment_id: emptyId } = await rest.post('experiments/create', { name: 'lb-empty' }));
  const base = Date.now() - 24 * 3600 * 1000;
  for (let i = 0; i < 24; i += 1) {
    const name = `run-${String(i).padStart(2, '0')}`;
    const rmse = (30 + 3 * i) / 100;
    const depth = String((i % 5) + 1);
    const lr = ['0.1', '0.01', '0.001'][i % 3];
    const startTime = base + i * 60000;
    seeded[name] = { rmse, depth, lr, topLevel: true, startTime };
    const run = await seedRun(rest, mainId, {
      name, startTime, params: { lr, depth }, metrics: { rmse: [rmse + 0.2, rmse], acc: 1 - rmse / 2 },
      tags: { 'mlflow.source.name': 'train.py', 'mlflow.source.git.commit': `abcdef${i}1234567890`, team: i % 2 ? 'recs' : 'search' },
    });
    seeded[name].id = run.info.run_id;
  }
  const parent = await seedRun(rest, mainId, { name: 'sweep-parent', startTime: base + 30 * 60000,
                                               params: { lr: '0.05', depth: '9' }, metrics: { rmse: 0.505, acc: 0.7 } });
  parentRunId = parent.info.run_id;
  seeded['sweep-parent'] = { rmse: 0.505, depth: '9', topLevel: true, startTime: base + 30 * 60000, id: parentRunId };
  for (let c = 1; c <= 3; c += 1) {
    const startTime = base + (30 + c) * 60000;
    const run = await seedRun(rest, mainId, { name: `sweep-child-${c}`, startTime, params: { lr: '0.05', depth: '3' },
                                              metrics: { rmse: 0.4 + c / 100 }, tags: { 'mlflow.parentRunId': parentRunId } });
    seeded[`sweep-child-${c}`] = { rmse: 0.4 + c / 100, depth: '3', topLevel: false, startTime, id: run.info.run_id };
  }
  const live = await seedRun(rest, mainId, { name: 'live-run', startTime: Date.now() - 5000, status: 'RUNNING',
                                             params: { lr: '0.2', depth: '4' }, metrics: { rmse: 0.905 } });
  liveRunId = live.info.run_id;
  seeded['live-run'] = { rmse: 0.905, depth: '4', topLevel: true, startTime: live.info.start_time, id: liveRunId };
  for (let i = 1; i <= 3; i += 1) {
    await seedRun(rest, otherId, { name: `other-${i}`, startTime: base + (40 + i) * 60000, params: { lr: '0.3' },
                                   metrics: { rmse: 0.2 + i / 100 } });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const topLevel = () => Object.entries(seeded).filter(([, r]) => r.topLevel);
const namesBy = (entries, key, dir = 1) => entries.slice().sort((a, b) => dir * (a[1][key] - b[1][key])).map(([n]) => n);

async function open(page, hash) {
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector('table.leaderboard tbody tr[data-run-id], .empty-state, .error');
}

function rowNames(page) {
  return page.$$eval('table.leaderboard tbody tr[data-run-id] td.name-col a', (as) => as.map((a) => a.textContent));
}


const cellText = (page, runId, col) => page.$eval(`tr[data-run-id="${runId}"] td[data-col="${col}"]`, (td) => td.textContent);

test('rows come newest first with the default columns, and the rmse header sorts on the server', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}`);
  assert.deepEqual(await rowNames(page), namesBy(topLevel(), 'startTime', -1));
  assert.equal(await page.textContent('h1'), 'lb-main');
  const headers = await page.$$eval('tr.name-row th[data-col]', (ths) => ths.map((th) => th.dataset.col));
  assert.deepEqual(headers, ['attributes.run_name', 'attributes.status', 'attributes.start_time', 'attributes.duration',
                             'attributes.user_id', 'tags.mlflow.source.name', 'tags.mlflow.source.git.commit',
                             'metrics.acc', 'metrics.rmse', 'params.depth', 'params.lr']);
  assert.equal(await page.textContent('.pager-range'), 'rows 1–26');
  const first = seeded['run-05'];
  assert.equal(await cellText(page, first.id, 'metrics.rmse'), String(first.rmse));
  assert.equal(await cellText(page, first.id, 'params.depth'), first.depth);
  assert.equal(await cellText(page, first.id, 'tags.mlflow.source.git.commit'), 'abcdef5');
  assert.equal(await cellText(page, first.id, 'attributes.status'), 'Finished');
  assert.equal(await cellText(page, first.id, 'attributes.duration'), '1m 00s');

  await page.click('th[data-col="metrics.rmse"]');
  await eventually(() => rowNames(page), namesBy(topLevel(), 'rmse', 1));
  assert.equal(await page.getAttribute('th[data-col="metrics.rmse"]', 'aria-sort'), 'ascending');
  assert.equal(await page.textContent('th[data-col="metrics.rmse"] .sort-arrow'), '▲');
  assert.match(page.url(), /order=metrics\.rmse\+ASC/);

  await page.click('th[data-col="metrics.rmse"]');
  await eventually(() => rowNames(page), namesBy(topLevel(), 'rmse', -1));
  assert.equal(await page.getAttribute('th[data-col="metrics.rmse"]', 'aria-sort'), 'descending');
  assert.equal(await page.textContent('th[data-col="metrics.rmse"] .sort-arrow'), '▼');

  // The sorted view is a link: reloading it shows the same order.
  await page.reload();
  await page.waitForSelector('tr[data-run-id]');
  assert.deepEqual(await rowNames(page), namesBy(topLevel(), 'rmse', -1));
  assert.deepEqual(page.appErrors, []);
});

test('a filter with OR gives exactly the matching runs; a refused filter is shown inline and keeps the rows', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}?order=metrics.rmse+ASC`);
  await page.fill('.filter-input', "metrics.rmse < 0.5 OR params.depth = '3'");
  await page.press('.filter-input', 'Enter');
  const expected = namesBy(topLevel().filter(([, r]) => r.rmse < 0.5 || r.depth === '3'), 'rmse', 1);
  assert.ok(expected.length > 5 && expected.length < 20);
  await eventually(() => rowNames(page), expected);
  assert.match(decodeURIComponent(page.url().replaceAll('+', ' ')), /filter=metrics\.rmse < 0\.5 OR params\.depth = '3'/);

  await page.fill('.filter-input', 'metrics.rmse <');
  await page.press('.filter-input', 'Enter');
  await page.waitForSelector('.filter-error');
  const message = await page.textContent('.filter-error .filter-message');
  assert.match(message, /^Invalid filter 'metrics\.rmse <': .*position 15/);
  assert.equal(await page.textContent('.filter-caret'), 'metrics.rmse < \n              ^');
  assert.equal(await page.getAttribute('.filter-input', 'aria-invalid'), 'true');
  assert.ok(await page.$eval('.filter-input', (el) => el.classList.contains('invalid')));
  assert.deepEqual(await rowNames(page), expected);

  // A filter whose parentheses do not balance is reported in the user's own terms.
  await page.fill('.filter-input', '(metrics.rmse < 1');
  await page.press('.filter-input', 'Enter');
  await page.waitForFunction(() => document.querySelector('.filter-message')?.textContent.includes("'(metrics.rmse < 1'"));
  assert.deepEqual(await rowNames(page), expected);

  await page.fill('.filter-input', '');
  await page.press('.filter-input', 'Enter');
  await eventually(() => rowNames(page), namesBy(topLevel(), 'rmse', 1));
  assert.equal(await page.$('.filter-error'), null);
  assert.deepEqual(page.appErrors, []);
});

test('the column chooser adds a tag column and the choice is kept in the URL', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}`);
  await page.click('.columns-button');
  await page.waitForSelector('.column-chooser .chooser-item');
  await page.fill('.chooser-search', 'tea');
  await page.waitForSelector('.column-chooser input[data-col="tags.team"]');
  const listed = await page.$$eval('.column-chooser input[data-col]', (els) => els.map((el) => el.dataset.col));
  assert.deepEqual(listed, ['tags.team']);
  await page.check('.column-chooser input[data-col="tags.team"]');
  await page.waitForSelector('th[data-col="tags.team"]');
  assert.equal(await page.textContent('tr.group-row th.group-tags'), 'Tags');
  assert.equal(await cellText(page, seeded['run-03'].id, 'tags.team'), 'recs');
  assert.equal(await cellText(page, seeded['run-04'].id, 'tags.team'), 'search');
  await page.keyboard.press('Escape');
  assert.equal(await page.$('.column-chooser'), null);
  assert.match(decodeURIComponent(page.url()), /cols=[^&]*tags\.team/);

  // Removing a metric column and sorting by the new tag column (server side).
  await page.click('.columns-button');
  await page.uncheck('.column-chooser input[data-col="metrics.acc"]');
  await page.keyboard.press('Escape');
  assert.equal(await page.$('th[data-col="metrics.acc"]'), null);
  await page.click('th[data-col="tags.team"]');
  await page.waitForSelector('th[data-col="tags.team"][aria-sort="ascending"]');
  await page.waitForFunction(() => !document.querySelector('.lb-frame.busy'));
  const teams = await page.$$eval('td[data-col="tags.team"]', (tds) => tds.map((td) => td.textContent));
  const recsCount = teams.filter((t) => t === 'recs').length;
  assert.equal(recsCount, 12);
  assert.deepEqual(teams.slice(0, 12), Array(12).fill('recs'));

  await page.reload();
  await page.waitForSelector('th[data-col="tags.team"]');
  assert.equal(await page.$('th[data-col="metrics.acc"]'), null);
  assert.deepEqual(page.appErrors, []);
});

test('a parent lists its children when expanded; grouping off gives the flat list', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}`);
  const parent = `tr[data-run-id="${parentRunId}"]`;
  assert.equal(await page.textContent(`${parent} .child-count`), '3');
  await page.click(`${parent} button.twisty`);
  await page.waitForSelector('tr[data-depth="1"]');
  const order = await rowNames(page);
  const at = order.indexOf('sweep-parent');
  assert.deepEqual(order.slice(at, at + 4), ['sweep-parent', 'sweep-child-3', 'sweep-child-2', 'sweep-child-1']);
  assert.equal(await page.$$eval('tr[data-depth="1"]', (trs) => trs.length), 3);
  assert.equal(await page.getAttribute(`${parent} button.twisty`, 'aria-expanded'), 'true');

  // Re-sorting keeps the parent open with its children in the new order.
  await page.click('th[data-col="metrics.rmse"]');
  await page.waitForSelector('th[data-col="metrics.rmse"][aria-sort="ascending"]');
  await eventually(async () => {
    const names = await rowNames(page);
    const i = names.indexOf('sweep-parent');
    return names.slice(i, i + 4);
  }, ['sweep-parent', 'sweep-child-1', 'sweep-child-2', 'sweep-child-3']);

  await page.click(`${parent} button.twisty`);
  assert.equal(await page.$('tr[data-depth="1"]'), null);

  await page.uncheck('.toggle input');
  await eventually(async () => (await rowNames(page)).length, Object.keys(seeded).length);
  assert.equal(await page.$('button.twisty'), null);
  assert.match(page.url(), /nested=0/);
  assert.deepEqual(page.appErrors, []);
});

test('paging 10 at a time walks every run exactly once, forwards and back', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}?size=10&order=attributes.run_name+ASC`);
  const seen = [];
  const ranges = [];
  for (;;) {
    ranges.push(await page.textContent('.pager-range'));
    seen.push(...await rowNames(page));
    if (await page.isDisabled('.pager-next')) break;
    const before = await rowNames(page);
    await page.click('.pager-next');
    await page.waitForFunction((first) => document.querySelector('tr[data-run-id] td.name-col a')?.textContent !== first, before[0]);
  }
  assert.deepEqual(ranges, ['rows 1–10', 'rows 11–20', 'rows 21–26']);
  assert.deepEqual(seen, topLevel().map(([n]) => n).sort());
  assert.equal(await page.$$eval('tr[data-run-id]', (trs) => trs.length), 6);
  await page.click('.pager-prev');
  await page.waitForFunction(() => document.querySelector('.pager-range')?.textContent === 'rows 11–20');
  assert.deepEqual(await rowNames(page), seen.slice(10, 20));
  await page.selectOption('.page-size', '25');
  await page.waitForFunction(() => document.querySelector('.pager-range')?.textContent === 'rows 1–25');
  assert.match(page.url(), /size=25/);
  assert.deepEqual(page.appErrors, []);
});

test('Download CSV saves the current view: same filter, order and columns', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}?order=metrics.rmse+ASC&filter=${encodeURIComponent("params.lr = '0.1'")}`);
  const expected = namesBy(topLevel().filter(([, r]) => r.lr === '0.1'), 'rmse', 1);
  await eventually(() => rowNames(page), expected);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.csv-link')]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(',');
  assert.equal(lines.length, expected.length + 1);
  assert.deepEqual(header.slice(0, 2).map((c) => c.replace(/^"|"$/g, '')).map((c) => c.replace(/^attributes\./, '')),
                   ['run_id', 'run_name']);
  for (const key of ['rmse', 'acc', 'depth', 'lr', 'status', 'mlflow.source.git.commit']) {
    assert.ok(header.some((c) => c.includes(key)), `CSV header ${lines[0]} lacks ${key}`);
  }
  const names = lines.slice(1).map((line) => line.split(',')[1].replace(/^"|"$/g, ''));
  assert.deepEqual(names, expected);
  assert.deepEqual(page.appErrors, []);
});

test('a RUNNING run updates on screen without a reload', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId}`);
  const row = `tr[data-run-id="${liveRunId}"]`;
  assert.equal(await cellText(page, liveRunId, 'attributes.status'), 'Running');
  assert.equal(await cellText(page, liveRunId, 'metrics.rmse'), '0.905');
  await rest.post('runs/log-metric', { run_id: liveRunId, key: 'rmse', value: 0.123, timestamp: Date.now(), step: 1 });
  await page.waitForFunction((sel) => document.querySelector(`${sel} td[data-col="metrics.rmse"]`)?.textContent === '0.123',
                             row, { timeout: 7000 });
  await rest.post('runs/update', { run_id: liveRunId, status: 'FINISHED', end_time: Date.now() });
  await page.waitForFunction((sel) => document.querySelector(`${sel} td[data-col="attributes.status"]`)?.textContent === 'Finished',
                             row, { timeout: 7000 });
  assert.notEqual(await cellText(page, liveRunId, 'attributes.duration'), '');
  seeded['live-run'].rmse = 0.123;
  assert.deepEqual(page.appErrors, []);
});

test('two experiments at once list the runs of both with an experiment column', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${mainId},${otherId}?order=attributes.run_name+DESC`);
  const names = await rowNames(page);
  assert.deepEqual(names.slice(0, 3), ['sweep-parent', 'run-23', 'run-22']);
  assert.deepEqual(names.filter((n) => n.startsWith('other-')), ['other-3', 'other-2', 'other-1']);
  assert.equal(names.length, topLevel().length + 3);
  assert.equal(await page.textContent('h1'), 'Runs of 2 experiments');
  await page.waitForFunction(() => [...document.querySelectorAll('td[data-col="attributes.experiment_id"]')]
    .some((td) => td.textContent === 'lb-other'));
  const experiments = await page.$$eval('td[data-col="attributes.experiment_id"]', (tds) => [...new Set(tds.map((td) => td.textContent))]);
  assert.deepEqual(experiments.sort(), ['lb-main', 'lb-other']);

  // Selecting two runs opens the comparison of those runs.
  const a = await page.getAttribute('tr[data-run-id]:nth-child(1)', 'data-run-id');
  const b = await page.getAttribute('tr[data-run-id]:nth-child(2)', 'data-run-id');
  assert.ok(await page.isDisabled('.compare-button'));
  await page.check('tr[data-run-id]:nth-child(1) td.check input');
  await page.check('tr[data-run-id]:nth-child(2) td.check input');
  assert.equal(await page.textContent('.compare-button'), 'Compare (2)');
  await page.click('.compare-button');
  await page.waitForURL(/#\/compare/);
  assert.ok(page.url().endsWith(`#/compare?runs=${a},${b}`), page.url());
  assert.deepEqual(page.appErrors, []);
});

test('an empty experiment shows a friendly empty state; an unknown id is named in an error', async () => {
  const page = await newPage(browser);
  await open(page, `#/experiments/${emptyId}`);
  assert.match(await page.textContent('.empty-state'), /No runs in this experiment yet/);
  assert.match(await page.textContent('.empty-state pre'), /mlflow\.set_experiment\("lb-empty"\)/);
  await open(page, '#/experiments/98765');
  const error = await page.textContent('.error');
  assert.match(error, /Unknown experiment '98765'/);
  assert.match(error, /98765/);
  assert.equal(await page.$('table.leaderboard'), null);
  assert.deepEqual(page.appErrors, []);
});

// A leaderboard for the docs: realistic names, several column groups, a sorted metric and an
// expanded hyper-parameter sweep. The picture is written only when UI_SCREENSHOTS names a folder
// (`UI_SCREENSHOTS=$PWD/docs/images` refreshes docs/images/leaderboard.png), so test runs leave
// the source tree alone.
test('screenshot for the docs', async () => {
  const { experiment_id: id } = await rest.post('experiments/create', { name: 'movielens-als' });
  const base = Date.now() - 3 * 3600 * 1000;
  const users = ['alice', 'bob', 'carol'];
  let k = 0;
  const runs = [];
  for (const rank of [8, 16, 32, 64]) {
    for (const reg of [0.01, 0.05, 0.1]) {
      k += 1;
      const rmse = 0.78 + Math.abs(Math.log2(rank / 32)) * 0.021 + Math.abs(reg - 0.05) * 0.35 + k * 0.0009;
      runs.push({ name: `als-r${rank}-reg${reg}`, rank, reg, rmse, start: base + k * 420000, k });
    }
  }
  for (const r of runs) {
    await seedRun(rest, id, {
    name: r.name, startTime: r.start, endTime: r.start + 60000 + r.rank * 2100,
    status: r.k === 7 ? 'FAILED' : 'FINISHED',
    params: { rank: r.rank, reg_param: r.reg, max_iter: 15, implicit: 'false' },
    metrics: { rmse: r.rmse, mae: r.rmse * 0.77, 'precision_at_10': 0.21 - (r.rmse - 0.78) * 0.4, train_seconds: 18 + r.rank * 1.9 },
    tags: { 'mlflow.user': users[r.k % 3], 'mlflow.source.name': 'examples/als/train.py',
            'mlflow.source.git.commit': `9f3c2a1${r.k}e7b40d5c6`, dataset: 'ml-100k' },
    });
  }
  const sweep = await seedRun(rest, id, {
    name: 'rank-sweep', startTime: base + 20 * 420000, endTime: base + 20 * 420000 + 900000,
    params: { rank: '16..64', reg_param: 0.05, max_iter: 15, implicit: 'false' },
    metrics: { rmse: 0.7712, mae: 0.7712 * 0.77, 'precision_at_10': 0.214, train_seconds: 301 },
    tags: { 'mlflow.user': 'alice', 'mlflow.source.name': 'examples/als/sweep.py', 'mlflow.source.git.commit': '4b1d9e07aa31c2', dataset: 'ml-100k' },
  });
  for (const [i, rank] of [16, 32, 48].entries()) {
    const rmse = [0.7788, 0.7712, 0.7741][i];
    await seedRun(rest, id, {
      name: `sweep-rank-${rank}`, startTime: base + (21 + i) * 420000, endTime: base + (21 + i) * 420000 + 95000,
      params: { rank, reg_param: 0.05, max_iter: 15, implicit: 'false' },
      metrics: { rmse, mae: rmse * 0.77, 'precision_at_10': 0.211 + i * 0.001, train_seconds: 40 + rank * 1.7 },
      tags: { 'mlflow.user': 'alice', 'mlflow.source.name': 'examples/als/sweep.py', 'mlflow.source.git.commit': '4b1d9e07aa31c2',
              'mlflow.parentRunId': sweep.info.run_id, dataset: 'ml-100k' },
    });
  }
  await seedRun(rest, id, { name: 'als-r128-reg0.05', startTime: Date.now() - 95000, status: 'RUNNING',
                            params: { rank: 128, reg_param: 0.05, max_iter: 15, implicit: 'false' },
                            metrics: { rmse: [0.93, 0.86, 0.82], train_seconds: 61 },
                            tags: { 'mlflow.user': 'bob', 'mlflow.source.name': 'examples/als/train.py', 'mlflow.source.git.commit': '4b1d9e07aa31c2', dataset: 'ml-100k' } });
  const page = await newPage(browser, { viewport: { width: 1440, height: 800 } });
  await open(page, `#/experiments/${id}?order=metrics.rmse+ASC&cols=attributes.status,attributes.start_time,attributes.duration,attributes.user_id,tags.mlflow.source.git.commit,metrics.rmse,metrics.mae,metrics.precision_at_10,metrics.train_seconds,params.rank,params.reg_param,tags.dataset`);
  await page.click(`tr[data-run-id="${sweep.info.run_id}"] button.twisty`);
  await page.waitForSelector('tr[data-depth="1"]');
  await page.check('tr[data-run-id]:nth-child(2) td.check input');
  await page.check('tr[data-run-id]:nth-child(3) td.check input');
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.querySelectorAll('td.changed').forEach((td) => td.classList.remove('changed')));
  assert.equal(await page.$$eval('tr[data-depth="1"]', (rows) => rows.length), 3);
  if (process.env.UI_SCREENSHOTS) {
    mkdirSync(process.env.UI_SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(process.env.UI_SCREENSHOTS, 'leaderboard.png') });
  }
  assert.deepEqual(page.appErrors, []);
});
