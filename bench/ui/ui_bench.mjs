// Times the web app in Debian's Chromium (headless, through playwright-core) against a running
// `mlt ui` over the database bench/ui/ui_bench_seed made. Each figure is the median of REPEATS
// runs, wall time as the user sees it:
//   first page   from navigating a fresh tab to #/experiments/<id> until the first page of runs
//                is in the table (the app's files are loaded and parsed, one runs/search, the
//                child counts)
//   sort         from clicking the rmse header until the table shows the sorted rows
//   filter       from pressing Enter in the search box until the filtered rows show
//   next page    from clicking Next until the second page shows
//   chart        from navigating to the long run's metrics tab until its chart has drawn the
//                1,000,000-step metric, spikes checked present
// Usage: node ui_bench.mjs <url> <leaderboard experiment id> <history run id> [repeats]
import { chromium } from '../../ui/node_modules/playwright-core/index.mjs';

const [url, experiment, historyRun, repeatsArg] = process.argv.slice(2);
const REPEATS = Number(repeatsArg ?? 5);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage'],
});
console.log(`browser: Chromium ${browser.version()} headless`);

const firstRowId = (page) => page.$eval('#app tbody tr[data-run-id]', (tr) => tr.dataset.runId);
const waitFirstRowNot = (page, id) => page.waitForFunction(
  (old) => {
    const tr = document.querySelector('#app tbody tr[data-run-id]');
    return tr && tr.dataset.runId !== old;
  }, id, { timeout: 30000 });

const figures = { first: [], sortAsc: [], sortDesc: [], filter: [], next: [], chart: [] };
let rowsShown = 0;
let spikes = 0;
for (let i = 0; i < REPEATS; ++i) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  let t = performance.now();
  await page.goto(`${url}/#/experiments/${experiment}`);
  await page.waitForSelector('#app tbody tr[data-run-id]', { timeout: 30000 });
  figures.first.push(performance.now() - t);
  rowsShown = await page.$$eval('#app tbody tr[data-run-id]', (rows) => rows.length);

  let before = await firstRowId(page);
  t = performance.now();
  await page.click('#app th[data-col="metrics.rmse"]');
  await waitFirstRowNot(page, before);
  figures.sortAsc.push(performance.now() - t);

  before = await firstRowId(page);
  t = performance.now();
  await page.click('#app th[data-col="metrics.rmse"]');
  await waitFirstRowNot(page, before);
  figures.sortDesc.push(performance.now() - t);

  before = await firstRowId(page);
  const box = page.locator('#app input[type=search], #app input.filter-input').first();
  await box.fill("metrics.rmse < 0.8 AND (params.optimizer = 'adam' OR params.rank = '128')");
  t = performance.now();
  await box.press('Enter');
  await waitFirstRowNot(page, before);
  figures.filter.push(performance.now() - t);

  before = await firstRowId(page);
  t = performance.now();
  await page.getByRole('button', { name: /next/i }).first().click();
  await waitFirstRowNot(page, before);
  figures.next.push(performance.now() - t);
  await context.close();

  const chartContext = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const chartPage = await chartContext.newPage();
  t = performance.now();
  await chartPage.goto(`${url}/#/runs/${historyRun}?tab=metrics&metrics=loss`);
  await chartPage.waitForFunction(() => {
    // charts.js hangs its handle on the chart's container (container.__chart).
    const el = [...document.querySelectorAll('#app *')].find((e) => e.__chart);
    return el && document.querySelector('#app .uplot canvas') &&
           el.__chart.stats().some((series) => series.points > 0);
  }, null, { timeout: 30000 });
  // One animation frame: uPlot draws on the frame after its data is set.
  await chartPage.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  figures.chart.push(performance.now() - t);
  spikes = await chartPage.evaluate(() => {
    const el = [...document.querySelectorAll('#app *')].find((e) => e.__chart);
    const data = el.__chart.uplot().data;
    let n = 0;
    for (const series of data.slice(1)) for (const v of series) if (v === 50) n += 1;
    return n;
  });
  await chartContext.close();
}
await browser.close();

const fmt = (xs) => `${median(xs).toFixed(0)} ms median (${xs.map((x) => x.toFixed(0)).join(', ')})`;
console.log(`leaderboard first page (${rowsShown} rows, 100,000 runs): ${fmt(figures.first)}   target <= 1000 ms`);
console.log(`sort by metrics.rmse ascending:  ${fmt(figures.sortAsc)}   target <= 300 ms`);
console.log(`sort by metrics.rmse descending: ${fmt(figures.sortDesc)}   target <= 300 ms`);
console.log(`filter with OR and parentheses:  ${fmt(figures.filter)}`);
console.log(`next page:                       ${fmt(figures.next)}`);
console.log(`1,000,000-step metric chart:     ${fmt(figures.chart)}   target <= 1000 ms; spikes drawn: ${spikes} of 2`);
