// The compare page against a real `mlt ui`: three runs in two experiments with params lr and opt
// and a 50-step loss history; the chart, the table, "differences only", the scatter and the
// errors for unknown or too few run ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, restClient, seedRun } from './harness.mjs';

let server;
let browser;
let runs;

const lossCurve = (scale, final) => Array.from({ length: 50 }, (_, step) => final + scale / (step + 1));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const rest = restClient(server.url);
  const { experiment_id: sweep } = await rest.post('experiments/create', { name: 'sweep' });
  const { experiment_id: baseline } = await rest.post('experiments/create', { name: 'baseline' });
  const t0 = Date.UTC(2026, 0, 5, 9, 0, 0);
  runs = [
    await seedRun(rest, sweep, { name: 'adam-small', startTime: t0,
                                 params: { lr: '0.001', opt: 'adam' }, metrics: { loss: lossCurve(2, 0.3), acc: 0.91 } }),
    await seedRun(rest, sweep, { name: 'adam-large', startTime: t0 + 1000,
                                 params: { lr: '0.1', opt: 'adam' }, metrics: { loss: lossCurve(1, 0.2), acc: 0.94 } }),
    await seedRun(rest, baseline, { name: 'adam-mid', startTime: t0 + 2000,
                                    params: { lr: '0.01', opt: 'adam' }, metrics: { loss: lossCurve(3, 0.25), acc: 0.93 } }),
  ];
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const idsOf = (list) => list.map((r) => r.info.run_id).join(',');

async function openCompare(query) {
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/compare?${query}`);
  return page;
}

// The chart's series as the chart module reports them.
const chartStats = (page) => page.locator('.compare-chart-host').evaluate((el) => el.__chart.stats());

test('three runs: header, overlaid loss curves, chart settings in the URL', async () => {
  const page = await openCompare(`runs=${idsOf(runs)}`);
  await page.locator('.compare-chart-host .u-legend').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Comparing 3 runs');
  assert.deepEqual(await page.locator('.compare-runs tbody tr').evaluateAll((rows) => rows.map((r) =>
    [r.cells[0].innerText.trim(), r.cells[1].innerText.trim()])),
  [['adam-small', 'sweep'], ['adam-large', 'sweep'], ['adam-mid', 'baseline']]);
  assert.equal(await page.locator('.compare-runs a.run-name').first().getAttribute('href'), `#/runs/${runs[0].info.run_id}`);
  assert.match(await page.locator('.breadcrumbs').innerText(), /sweep, baseline/);

  // loss has the longest history, so it is charted first: one 50-point series per run.
  assert.equal(await page.locator('select.compare-metric').inputValue(), 'loss');
  const stats = await chartStats(page);
  assert.deepEqual(stats.map((s) => [s.label, s.points, Number(s.last.toFixed(4))]),
    [['adam-small', 50, 0.34], ['adam-large', 50, 0.22], ['adam-mid', 50, 0.31]]);
  const legend = await page.locator('.compare-chart-host .u-legend .u-series:not(:first-child) .u-label').allInnerTexts();
  assert.deepEqual(legend, ['adam-small', 'adam-large', 'adam-mid']);
  // The swatch colors of the header are the chart's line colors.
  const swatch = await page.locator('.compare-runs .swatch').first().evaluate((el) => getComputedStyle(el).backgroundColor);
  const line = await page.locator('.compare-chart-host .u-legend .u-series:nth-child(2) .u-marker')
    .evaluate((el) => getComputedStyle(el).borderColor);
  assert.equal(swatch, line);

  await page.selectOption('select.compare-metric', 'acc');
  await page.waitForFunction(() => document.querySelector('.compare-chart-host').__chart.options().title === 'acc');
  assert.deepEqual((await chartStats(page)).map((s) => s.last), [0.91, 0.94, 0.93]);
  await page.selectOption('.compare-chart select.chart-x', 'relative');
  await page.check('.compare-chart input.chart-log');
  await page.waitForFunction(() => location.hash.includes('log=1'));
  const hash = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
  assert.equal(hash.get('metric'), 'acc');
  assert.equal(hash.get('xaxis'), 'relative');
  assert.equal(hash.get('runs'), idsOf(runs));

  // Reloading keeps the view.
  await page.reload();
  await page.locator('.compare-chart-host .u-legend').waitFor();
  assert.equal(await page.locator('select.compare-metric').inputValue(), 'acc');
  assert.equal(await page.locator('.compare-chart select.chart-x').inputValue(), 'relative');
  assert.equal(await page.locator('.compare-chart input.chart-log').isChecked(), true);
  assert.deepEqual(page.appErrors, []);
});

test('the table lists params then metrics per run, and "differences only" hides equal rows', async () => {
  const page = await openCompare(`runs=${idsOf(runs)}`);
  await page.locator('.compare-table').waitFor();
  const table = () => page.locator('.compare-table tbody tr[data-key]').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.kind, ...[...r.cells].map((c) => c.innerText.trim())]));
  assert.deepEqual(await page.locator('.compare-table thead th').allInnerTexts(),
                   ['Key', 'adam-small', 'adam-large', 'adam-mid']);
  assert.deepEqual(await table(), [
    ['param', 'lr', '0.001', '0.1', '0.01'],
    ['param', 'opt', 'adam', 'adam', 'adam'],
    ['metric', 'acc', '0.91', '0.94', '0.93'],
    ['metric', 'loss', '0.34', '0.22', '0.31'],
  ]);
  // The best value of a metric row is marked: highest accuracy, lowest loss.
  assert.equal(await page.locator('tr[data-key="acc"] td.best').innerText(), '0.94');
  assert.equal(await page.locator('tr[data-key="loss"] td.best').innerText(), '0.22');

  await page.check('.compare-diff-only');
  await page.locator('tr[data-key="opt"]').waitFor({ state: 'detached' });
  assert.deepEqual((await table()).map((r) => r[1]), ['lr', 'acc', 'loss']);
  assert.match(await page.locator('.compare-table-count').innerText(), /3 of 4 rows · 1 identical hidden/);
  await page.waitForFunction(() => location.hash.includes('diff=1'));

  await page.fill('.compare-filter', 'LO');
  assert.deepEqual((await table()).map((r) => r[1]), ['loss']);
  await page.waitForFunction(() => location.hash.includes('filter=LO'));
  await page.reload();
  await page.locator('.compare-table').waitFor();
  assert.equal(await page.locator('.compare-diff-only').isChecked(), true);
  assert.equal(await page.locator('.compare-filter').inputValue(), 'LO');
  assert.deepEqual((await table()).map((r) => r[1]), ['loss']);
  assert.deepEqual(page.appErrors, []);
});

test('the scatter has one dot per run (numbers by value, text as categories); parallel coordinates', async () => {
  const page = await openCompare(`runs=${idsOf(runs)}`);
  const points = page.locator('.compare-scatter .scatter-point');
  await points.first().waitFor();
  assert.equal(await points.count(), 3);
  // lr varies and is numeric, so it is X; Y is the charted metric.
  assert.equal(await page.locator('select.scatter-x').inputValue(), 'params.lr');
  assert.equal(await page.locator('select.scatter-y').inputValue(), 'metrics.loss');
  const xy = async () => Object.fromEntries(await points.evaluateAll((dots) => dots.map((d) =>
    [d.dataset.runId, [Number(d.getAttribute('cx')), Number(d.getAttribute('cy'))]])));
  let at = await xy();
  const [small, large, mid] = runs.map((r) => at[r.info.run_id]);
  assert.ok(small[0] < mid[0] && mid[0] < large[0], 'x follows lr 0.001 < 0.01 < 0.1');
  assert.ok(large[1] > mid[1] && mid[1] > small[1], 'y follows loss (lower loss lower on the plot)');

  // On a log X axis lr 0.001, 0.01, 0.1 are evenly spaced.
  await page.check('.scatter-log-x');
  await page.waitForFunction(() => location.hash.includes('slx=1'));
  at = await xy();
  const [s2, l2, m2] = runs.map((r) => at[r.info.run_id][0]);
  assert.ok(Math.abs((m2 - s2) - (l2 - m2)) < 0.5, `even log spacing: ${s2} ${m2} ${l2}`);
  await page.uncheck('.scatter-log-x');

  // Hovering a dot names its run.
  const box = await points.nth(1).boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tooltip = page.locator('.compare-scatter .scatter-tooltip');
  await tooltip.waitFor();
  assert.match(await tooltip.innerText(), /adam-large\s+lr \(param\): 0\.1\s+loss: 0\.22/);

  // opt is the same text for every run: one category, all dots on one vertical line.
  await page.selectOption('select.scatter-x', 'params.opt');
  await page.waitForFunction(() => location.hash.includes('sx=params.opt'));
  at = await xy();
  assert.equal(new Set(Object.values(at).map((p) => p[0])).size, 1);
  const labels = await page.locator('.scatter-axes text').evaluateAll((t) => t.map((x) => x.lastChild.textContent));
  assert.deepEqual(labels.filter((x) => x === 'adam'), ['adam']);
  assert.ok(labels.includes('opt (param)'));

  // Parallel coordinates: one line per run over the varying params (lr; opt is the same
  // everywhere) and the metrics, the charted one (loss) first.
  await page.click('.plot-tab-parallel');
  await page.waitForFunction(() => location.hash.includes('plot=parallel'));
  assert.equal(await page.locator('.compare-scatter').isHidden(), true);
  assert.equal(await page.locator('.parallel-line').count(), 3);
  assert.deepEqual(await page.locator('.parallel-axes .axis-title').evaluateAll((t) => t.map((x) => x.lastChild.textContent)),
                   ['lr', 'loss', 'acc']);
  const line = page.locator(`.parallel-line[data-run-id="${runs[1].info.run_id}"]`);
  assert.equal(await line.getAttribute('stroke'), '#e8590c');
  // Hovering a line names its run and lists its values.
  const at30 = await page.locator(`.parallel-run:has([data-run-id="${runs[1].info.run_id}"]) .parallel-hit`).evaluate((p) => {
    const q = p.getPointAtLength(p.getTotalLength() * 0.3);
    const m = p.getScreenCTM();
    return { x: q.x * m.a + m.e, y: q.y * m.d + m.f };
  });
  await page.mouse.move(at30.x, at30.y);
  const tip = page.locator('.compare-parallel .scatter-tooltip');
  await tip.waitFor();
  assert.match(await tip.innerText(), /^adam-large\s+lr \(param\): 0\.1\s+loss: 0\.22\s+acc: 0\.94$/);
  await page.reload();
  await page.locator('.parallel-line').first().waitFor();
  assert.equal(await page.locator('.plot-tab-parallel').getAttribute('aria-selected'), 'true');
  assert.deepEqual(page.appErrors, []);
});

test('an unknown run id is named, and fewer than two runs is an error', async () => {
  const page = await openCompare(`runs=${idsOf(runs)},0123456789abcdef0123456789abcdef`);
  const error = page.locator('.compare-missing');
  await error.waitFor();
  assert.match(await error.innerText(), /Run '0123456789abcdef0123456789abcdef' was not found\./);
  // The three known runs are still compared, and one link drops the unknown id.
  await page.locator('.compare-chart-host .u-legend').waitFor();
  assert.equal(await page.locator('.compare-runs tbody tr').count(), 3);
  await error.locator('a').click();
  await page.waitForFunction((ids) => new URLSearchParams(location.hash.split('?')[1]).get('runs') === ids, idsOf(runs));
  await page.locator('.compare-runs').waitFor();
  assert.equal(await page.locator('.compare-missing').count(), 0);

  // Removing a run from the header leaves two.
  await page.locator('.compare-runs tr', { hasText: 'adam-mid' }).locator('button').click();
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Comparing 2 runs');
  assert.equal(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('runs'), idsOf(runs.slice(0, 2)));

  await page.goto(`${server.url}/#/compare?runs=${runs[0].info.run_id},nope`);
  await page.locator('.error').waitFor();
  assert.match(await page.locator('.error').innerText(), /Run 'nope' was not found\./);
  assert.equal(await page.locator('.compare-chart').count(), 0);

  await page.goto(`${server.url}/#/compare?runs=${runs[0].info.run_id}`);
  await page.locator('.error').waitFor();
  assert.match(await page.locator('.error').innerText(), new RegExp(`at least two run ids.*got 1: '${runs[0].info.run_id}'`));
  assert.deepEqual(page.appErrors, []);
});
