// The shared chart module (ui/src/charts.js), loaded by the browser from a real `mlt ui`:
// fetching histories for more runs than one request may name, smoothing, drawing with NaN,
// Infinity and non-positive values on a log scale, the controls, and zoom.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, restClient } from './harness.mjs';

let server;
let browser;
let rest;
const runIds = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  rest = restClient(server.url);
  const { experiment_id: experimentId } = await rest.post('experiments/create', { name: 'charts' });
  // 150 runs (more than the 100 one request may name); run i logs `acc` = i at steps 0..2.
  const make = async (i) => {
    const { run } = await rest.post('runs/create', { experiment_id: experimentId, run_name: `r${i}`, start_time: 1000 });
    await rest.post('runs/log-batch', { run_id: run.info.run_id, metrics: [0, 1, 2].map((step) =>
      ({ key: 'acc', value: i + step / 10, step, timestamp: 1000 + step * 1000 })) });
    runIds[i] = run.info.run_id;
  };
  for (let i = 0; i < 150; i += 4) await Promise.all([i, i + 1, i + 2, i + 3].filter((k) => k < 150).map(make));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// A page of the app with charts.js loaded as window.charts and an empty 800px box #box.
async function chartPage() {
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/no-such-page`);
  await page.waitForSelector('h1');
  await page.evaluate(async () => {
    window.charts = await import('/static/charts.js');
    const box = document.createElement('div');
    box.id = 'box';
    box.style.width = '800px';
    document.body.append(box);
  });
  return page;
}

test('fetchMetricSeries batches more than 100 runs and keeps their order', async () => {
  const page = await chartPage();
  const requests = [];
  page.on('request', (r) => { if (r.url().includes('get-history-bulk-interval')) requests.push(r.url()); });
  const ids = [...runIds].reverse();
  const series = await page.evaluate((list) => window.charts.fetchMetricSeries([...list, list[0]], 'acc', { maxPoints: 2 }), ids);
  assert.equal(series.length, 150);  // the repeated id is answered once
  assert.deepEqual(series.map((s) => s.runId), ids);
  // max_results 2 keeps the first and the last point of each run.
  assert.deepEqual(series[0].points, [{ step: 0, timestamp: 1000, value: 149 }, { step: 2, timestamp: 3000, value: 149.2 }]);
  assert.equal(requests.length, 2);
  assert.ok(requests.every((u) => new URL(u).searchParams.get('max_results') === '2'));
  assert.deepEqual(requests.map((u) => new URL(u).searchParams.getAll('run_ids').length).sort(), [100, 50]);

  // A run without the metric has no points; a run the server does not know fails the call.
  const { run } = await rest.post('runs/create', { experiment_id: '0' });
  const none = await page.evaluate((id) => window.charts.fetchMetricSeries([id], 'acc'), run.info.run_id);
  assert.deepEqual(none, [{ runId: run.info.run_id, points: [] }]);
  const missing = await page.evaluate(() => window.charts.fetchMetricSeries(['0123456789abcdef0123456789abcdef'], 'acc')
    .then(() => 'no error', (err) => `${err.code}: ${err.message}`));
  assert.equal(missing, 'RESOURCE_DOES_NOT_EXIST: Run with id=0123456789abcdef0123456789abcdef not found');
  const error = await page.evaluate((id) => window.charts.fetchMetricSeries([id], 'acc', { startStep: 5, endStep: 1 })
    .then(() => 'no error', (err) => `${err.code}: ${err.message}`), runIds[0]);
  assert.match(error, /^INVALID_PARAMETER_VALUE: end_step must be greater than start_step/);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('smoothValues is a debiased moving average that passes over non-finite values', async () => {
  const page = await chartPage();
  const out = await page.evaluate(() => [
    window.charts.smoothValues([1, 1, 1], 0.9),
    window.charts.smoothValues([0, 10], 0.5),
    window.charts.smoothValues([2, NaN, Infinity, null, 4], 0.5),
    window.charts.smoothValues([3, NaN, 5], 0),
  ]);
  assert.deepEqual(out[0].map((v) => Number(v.toFixed(12))), [1, 1, 1]);
  assert.deepEqual(out[1], [0, 10 * 0.5 / 0.75]);
  assert.deepEqual(out[2], [2, null, null, null, (2 * 0.25 + 4 * 0.5) / 0.75]);
  assert.deepEqual(out[3], [3, null, 5]);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('charts draw NaN and Infinity as gaps and refuse non-positive values on a log scale', async () => {
  const page = await chartPage();
  const result = await page.evaluate(() => {
    const pts = (values) => values.map((value, step) => ({ step, timestamp: 5000 + step * 2000, value }));
    const box = document.getElementById('box');
    const chart = window.charts.createMetricChart(box, { title: 'mixed', series: [
      { label: 'a', points: pts([1, NaN, 3, Infinity, -Infinity, 6]) },
      { label: 'b', points: pts([0, -1, 2]) },
    ] });
    const u = chart.uplot();
    const first = { data: u.data.map((d) => Array.from(d)), note: box.querySelector('.mchart-note').textContent,
                    canvas: Boolean(box.querySelector('canvas')), stats: chart.stats(),
                    legend: [...box.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent) };
    chart.update({ logScale: true });
    const log = { data: chart.uplot().data.map((d) => Array.from(d)), distr: chart.uplot().scales.y.distr,
                  note: box.querySelector('.mchart-note').textContent };
    chart.update({ series: [{ label: 'b', points: pts([0, -1]) }] });
    const linear = { distr: chart.uplot().scales.y.distr, note: box.querySelector('.mchart-note').textContent };
    chart.update({ series: [{ label: 'a', points: pts([1, 2, 3]) }], logScale: false, xAxis: 'relative', smoothing: 0.5 });
    const relative = { x: Array.from(chart.uplot().data[0]), series: chart.uplot().series.length,
                       alpha: chart.uplot().series[1].alpha };
    chart.update({ series: [] });
    const empty = box.querySelector('.mchart-empty')?.textContent;
    chart.destroy();
    return { first, log, linear, relative, empty, left: box.children.length, handle: box.__chart === undefined };
  });
  assert.equal(result.first.canvas, true);
  assert.deepEqual(result.first.legend, ['Step', 'a', 'b']);
  // NaN and Infinity are gaps (null); where a series has no point at another's x, undefined
  // (the line spans over it).
  assert.deepEqual(result.first.data, [[0, 1, 2, 3, 4, 5], [1, null, 3, null, null, 6], [0, -1, 2, undefined, undefined, undefined]]);
  assert.equal(result.first.note, '3 NaN/Infinity values not drawn');
  assert.deepEqual(result.first.stats.map((s) => [s.label, s.points, s.min, s.max]), [['a', 6, 1, 6], ['b', 3, -1, 2]]);
  assert.equal(result.log.distr, 3);
  assert.deepEqual(result.log.data[2], [null, null, 2, undefined, undefined, undefined]);
  assert.equal(result.log.note, '3 NaN/Infinity values not drawn · log scale: 2 values ≤ 0 hidden');
  assert.equal(result.linear.distr, 1);
  assert.equal(result.linear.note, 'log scale: no positive values, shown linear');
  assert.deepEqual(result.relative.x, [0, 2, 4]);
  assert.equal(result.relative.series, 3);  // x, the faint raw line, the smoothed line
  assert.equal(result.relative.alpha, 0.25);
  assert.equal(result.empty, 'No data');
  assert.equal(result.left, 0);
  assert.equal(result.handle, true);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('chartControls reports the whole state; drag zooms and double-click resets', async () => {
  const page = await chartPage();
  await page.evaluate(() => {
    window.changes = [];
    window.zooms = [];
    const controls = window.charts.chartControls({ xAxis: 'time', smoothing: 0.3, logScale: true },
                                                 (s) => window.changes.push(s));
    controls.id = 'controls';
    document.body.prepend(controls);
    const pts = Array.from({ length: 101 }, (_, step) => ({ step, timestamp: step, value: Math.sin(step / 10) }));
    window.chart = window.charts.createMetricChart(document.getElementById('box'), {
      series: [{ label: 's', points: pts }], onZoom: (z) => window.zooms.push(z) });
  });
  assert.equal(await page.inputValue('#controls .chart-x'), 'time');
  assert.equal(await page.inputValue('#controls .chart-smooth'), '0.3');
  await page.selectOption('#controls .chart-x', 'relative');
  await page.uncheck('#controls .chart-log');
  assert.deepEqual(await page.evaluate(() => window.changes),
                   [{ xAxis: 'relative', smoothing: 0.3, logScale: true }, { xAxis: 'relative', smoothing: 0.3, logScale: false }]);

  const box = await page.locator('#box .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.25, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 20, { steps: 4 });
  await page.mouse.up();
  const zoom = await page.evaluate(() => ({ zooms: window.zooms, x: { ...window.chart.uplot().scales.x } }));
  assert.equal(zoom.zooms.length, 1);
  assert.ok(Math.abs(zoom.zooms[0].min - 25) < 2 && Math.abs(zoom.zooms[0].max - 50) < 2, JSON.stringify(zoom));
  assert.equal(zoom.x.min, zoom.zooms[0].min);
  assert.equal(await page.isVisible('#box .mchart-reset'), true);
  const after = await page.locator('#box .u-over').boundingBox();
  assert.deepEqual(after, box);  // the Reset zoom link does not move the plot
  await page.mouse.dblclick(box.x + box.width / 2, box.y + 20);
  const reset = await page.evaluate(() => ({ zooms: window.zooms, x: { ...window.chart.uplot().scales.x } }));
  assert.deepEqual(reset.zooms.slice(1), [null]);
  assert.deepEqual([reset.x.min, reset.x.max], [0, 100]);
  assert.equal(await page.isVisible('#box .mchart-reset'), false);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('a legend click hides a series with its raw line, and it stays hidden across updates', async () => {
  const page = await chartPage();
  await page.evaluate(() => {
    const pts = (k) => Array.from({ length: 20 }, (_, step) => ({ step, timestamp: step, value: k * step }));
    // Two runs with the same name: told apart by key.
    window.chart = window.charts.createMetricChart(document.getElementById('box'), { smoothing: 0.5, series: [
      { label: 'run', key: 'a', points: pts(1) }, { label: 'run', key: 'b', points: pts(2) }] });
  });
  const shown = () => page.evaluate(() => window.chart.uplot().series.slice(1).map((s) => s.show));
  assert.deepEqual(await shown(), [true, true, true, true]);
  const entries = page.locator('#box .u-legend .u-series:visible');
  assert.equal(await entries.count(), 3);  // the x value and one entry per run
  await entries.nth(1).click();
  assert.deepEqual(await shown(), [false, false, true, true]);
  await page.evaluate(() => window.chart.update({ smoothing: 0.8 }));
  assert.deepEqual(await shown(), [false, false, true, true]);
  await page.evaluate(() => window.chart.update({ smoothing: 0 }));
  assert.deepEqual(await shown(), [false, true]);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});
