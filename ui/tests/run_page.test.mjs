// The run page (#/runs/<id>) against a real `mlt ui`: the overview (details, description
// editing, params search, tags), the metric charts (axes, smoothing, log scale, overlay, NaN
// values, a 100,000-step history whose spike must survive downsampling, zoom), the artifact
// browser (tree, text/JSON/CSV/image/MLmodel previews, missing files), live refresh of a
// running run, and an unknown run id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { startServer, launchBrowser, newPage, restClient, seedRun } from './harness.mjs';

let server;
let browser;
let rest;
let experimentId;
let mainRun;
let longRun;
const SHOTS = process.env.UI_SCREENSHOTS;  // a folder to save screenshots in, when set

const NOTES = 'Training notes\n  indented line\twith a tab\nlast line: <b>not bold</b> & done\n';
const CONFIG = { model: { layers: [64, 32], dropout: 0.1 }, optimizer: 'adam', seed: 7 };
const CSV = 'name,city,score\n"Smith, John",Berlin,0.91\nAda,"New\nYork",0.87\n"Quote ""Q"" Test",Paris,0.5\n';
const INPUT_NAMES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
const MLMODEL = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.4.0
mlflow_version: 2.10.2
model_size_bytes: 1874
model_uuid: 5f0c2b1d9e4a4b7c8d6e3f2a1b0c9d8e
run_id: RUN_ID
signature:
  inputs: '[${INPUT_NAMES.map((n) => `{"type": "double", "name": "${n}", "required": true}`).join(', ')}]'
  outputs: 'OUTPUTS'
  params: null
utc_time_created: '2024-02-12 09:41:27.123456'
`;
const COLUMN_OUTPUTS = '[{"type": "long", "name": "species", "required": true}]';
const TENSOR_OUTPUTS = '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]';
const BIG_LOG = 'x'.repeat(99) + '\n';  // repeated to 1.5 MB below
const ROWS_CSV = ['i,square', ...Array.from({ length: 600 }, (_, i) => `${i},${i * i}`)].join('\n');
const SPIKE_STEP = 73421;
const SPIKE_VALUE = 1000;
const LONG_STEPS = 100000;

// A real 3x2 RGB PNG (red, green, blue / white, black, gray).
function tinyPng() {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(3, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255, 0, 0, 0, 128, 128, 128]);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
                        chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const loss = Array.from({ length: 200 }, (_, i) => 2 * Math.exp(-i / 40) + 0.05);
const accuracy = Array.from({ length: 200 }, (_, i) => 0.5 + 0.45 * (1 - Math.exp(-i / 50)));
const withNaN = Array.from({ length: 50 }, (_, i) => (i % 10 === 5 ? 'NaN' : i === 20 ? 'Infinity' : i / 10));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  rest = restClient(server.url);
  ({ experiment_id: experimentId } = await rest.post('experiments/create', { name: 'vision-baselines' }));
  mainRun = await seedRun(rest, experimentId, {
    name: 'resnet-baseline',
    params: { lr: '0.01', optimizer: 'adam', layers: '3', batch_size: '64' },
    metrics: { loss, accuracy, nan_metric: withNaN },
    tags: { team: 'vision', 'mlflow.source.name': 'train.py', 'mlflow.source.type': 'LOCAL',
            'mlflow.source.git.commit': '3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39', 'mlflow.user': 'alice',
            'mlflow.note.content': 'Baseline ResNet run.\nSecond line of notes.' },
  });
  const put = (path, content) => rest.putArtifact(mainRun, path, content);
  await put('notes.txt', NOTES);
  await put('config.json', JSON.stringify(CONFIG));
  await put('data.csv', CSV);
  await put('plot.png', tinyPng());
  await put('model/MLmodel', MLMODEL.replace('RUN_ID', mainRun.info.run_id).replace('OUTPUTS', COLUMN_OUTPUTS));
  // What mlflow.sklearn.log_model writes for a classifier given a numpy prediction.
  await put('tensor_model/MLmodel', MLMODEL.replace('RUN_ID', mainRun.info.run_id).replace('OUTPUTS', TENSOR_OUTPUTS)
    .replace('artifact_path: model', 'artifact_path: tensor_model'));
  await put('model/model.pkl', Buffer.alloc(1874, 7));
  await put('model/requirements.txt', 'scikit-learn==1.4.0\n');
  await put('logs/big.log', BIG_LOG.repeat(15729));
  await put('logs/rows.csv', ROWS_CSV);

  // 100,000 steps with one spike, logged 1000 per call, 4 calls at a time (well under the
  // server's workers, so that it has no idle connection to close; the harness resends once if
  // it does).
  longRun = await seedRun(rest, experimentId, { name: 'long-history' });
  const t0 = Date.now() - LONG_STEPS * 10;
  const calls = [];
  for (let start = 0; start < LONG_STEPS; start += 1000) {
    calls.push(() => rest.post('runs/log-batch', { run_id: longRun.info.run_id, metrics:
      Array.from({ length: 1000 }, (_, k) => {
        const step = start + k;
        return { key: 'signal', step, timestamp: t0 + step * 10,
                 value: step === SPIKE_STEP ? SPIKE_VALUE : 0.5 + 0.4 * Math.sin(step / 500) };
      }) }));
  }
  await Promise.all(Array.from({ length: 4 }, async () => { while (calls.length) await calls.shift()(); }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const runHash = (run, query = '') => `${server.url}/#/runs/${run.info.run_id}${query}`;

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function chartStats(page, metrics) {
  return page.evaluate((m) => document.querySelector(`.chart-cell[data-metrics="${m}"] .chart-body`).__chart.stats(), metrics);
}

async function waitCharts(page, count) {
  await page.waitForFunction((n) => {
    const cells = [...document.querySelectorAll('.chart-cell')];
    return cells.length === n && cells.every((c) => c.dataset.loaded === '1');
  }, count);
}

test('overview shows details, description, params, metrics and tags', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun));
  await page.waitForSelector('.run-details');
  assert.equal(await page.textContent('h1.run-title .status'), 'FINISHED');
  assert.match(await page.textContent('h1.run-title'), /resnet-baseline/);
  const crumb = page.locator('.breadcrumbs a', { hasText: 'vision-baselines' });
  assert.equal(await crumb.getAttribute('href'), `#/experiments/${experimentId}`);
  const details = await page.textContent('.run-details');
  for (const text of [mainRun.info.run_id, 'alice', 'train.py', 'LOCAL', '3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
                      'active', mainRun.info.artifact_uri, '1m 00s']) {
    assert.ok(details.includes(text), `details lack ${text}: ${details}`);
  }
  assert.equal(await page.textContent('.description-text'), 'Baseline ResNet run.\nSecond line of notes.');

  const params = () => page.$$eval('.run-params-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(await params(), [['batch_size', '64'], ['layers', '3'], ['lr', '0.01'], ['optimizer', 'adam']]);
  await page.fill('.param-search', 'ADA');
  assert.deepEqual(await params(), [['optimizer', 'adam']]);
  await page.fill('.param-search', 'nothing-like-this');
  assert.match(await page.textContent('.run-params .empty'), /No parameter matches 'nothing-like-this'/);

  const metricRows = await page.$$eval('.run-metrics tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(metricRows.map((r) => r.slice(0, 3)),
                   [['accuracy', String(Number(accuracy[199].toPrecision(6))), '199'],
                    ['loss', String(Number(loss[199].toPrecision(6))), '199'], ['nan_metric', '4.9', '49']]);
  assert.equal(await page.getAttribute('.run-metrics a >> text=loss', 'href'), `#/runs/${mainRun.info.run_id}?tab=metrics&metrics=loss`);

  const tagKeys = () => page.$$eval('.run-tags-table tbody td.key', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(await tagKeys(), ['team']);
  await page.check('.show-system-tags');
  assert.ok((await tagKeys()).includes('mlflow.source.git.commit'));
  await shot(page, 'run-overview');

  // Edit the description; the tag changes on the server.
  await page.click('.edit-description');
  await page.fill('.description-input', 'Edited description\nwith two lines');
  await page.click('.save-description');
  await page.waitForSelector('.description-text >> text=Edited description');
  const { run } = await rest.get('runs/get', { run_id: mainRun.info.run_id });
  assert.equal(run.data.tags.find((t) => t.key === 'mlflow.note.content').value, 'Edited description\nwith two lines');
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('metrics tab charts each metric and keeps axis, smoothing and log scale in the URL', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun, '?tab=metrics'));
  await waitCharts(page, 3);
  assert.deepEqual(await page.$$eval('.chart-cell', (cells) => cells.map((c) => c.dataset.metrics)), ['accuracy', 'loss', 'nan_metric']);
  assert.equal(await page.locator('.chart-cell canvas').count(), 3);
  const lossStats = await chartStats(page, 'loss');
  assert.equal(lossStats.length, 1);
  assert.equal(lossStats[0].label, 'loss');
  assert.equal(lossStats[0].points, 200);
  assert.ok(Math.abs(lossStats[0].max - Math.max(...loss)) < 1e-9);
  const legend = await page.$$eval('.chart-cell[data-metrics="loss"] .u-legend .u-series', (rows) =>
    rows.filter((r) => getComputedStyle(r).display !== 'none').map((r) => r.querySelector('.u-label').textContent));
  assert.deepEqual(legend, ['Step', 'loss']);
  // NaN and Infinity are gaps, noted; the finite values are all there.
  const nanStats = await chartStats(page, 'nan_metric');
  assert.equal(nanStats[0].points, 50);
  assert.equal(nanStats[0].max, 4.9);
  assert.match(await page.textContent('.chart-cell[data-metrics="nan_metric"] .mchart-note'), /6 NaN\/Infinity values not drawn/);
  await shot(page, 'run-metrics');

  const query = () => new URL(page.url().replace('#', '')).searchParams;
  await page.selectOption('.chart-x', 'time');
  await page.waitForFunction(() => location.hash.includes('x=time'));
  await page.selectOption('.chart-x', 'relative');
  await page.waitForFunction(() => location.hash.includes('x=relative'));
  const relative = await chartStats(page, 'loss');
  assert.equal(relative[0].lastX, 199);  // seeded one point per second from the run's start
  await page.$eval('.chart-smooth', (el) => { el.value = '0.6'; el.dispatchEvent(new Event('input')); });
  await page.waitForFunction(() => location.hash.includes('smooth=0.6'));
  await page.check('.chart-log');
  await page.waitForFunction(() => location.hash.includes('log=1'));
  assert.equal(query().get('x'), 'relative');
  // Smoothed: the raw line is drawn faint behind, its legend entry hidden.
  const series = await page.evaluate(() => document.querySelector('.chart-cell[data-metrics="loss"] .chart-body').__chart.uplot().series.length);
  assert.equal(series, 3);
  assert.equal(await page.locator('.chart-cell[data-metrics="loss"] .u-legend .u-series:visible').count(), 2);
  // Log scale notes the hidden non-positive values of nan_metric (its step 0 is 0).
  assert.match(await page.textContent('.chart-cell[data-metrics="nan_metric"] .mchart-note'), /log scale: 1 value ≤ 0 hidden/);
  await shot(page, 'run-metrics-smoothed');

  // Reload keeps it all.
  await page.reload();
  await waitCharts(page, 3);
  assert.equal(await page.inputValue('.chart-x'), 'relative');
  assert.equal(await page.inputValue('.chart-smooth'), '0.6');
  assert.equal(await page.isChecked('.chart-log'), true);

  // Overlay: one chart, three series.
  await page.check('.metric-overlay');
  await waitCharts(page, 1);
  const overlay = await chartStats(page, 'accuracy,loss,nan_metric');
  assert.deepEqual(overlay.map((s) => s.label), ['accuracy', 'loss', 'nan_metric']);
  assert.ok(query().get('overlay') === '1');
  // Unticking a metric removes it.
  await page.uncheck('.metric-option input[value="nan_metric"]');
  await waitCharts(page, 1);
  assert.deepEqual((await chartStats(page, 'accuracy,loss')).map((s) => s.label), ['accuracy', 'loss']);
  assert.equal(query().get('metrics'), 'accuracy,loss');
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('a metric link opens just that chart', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun));
  await page.click('.run-metrics a >> text=accuracy');
  await waitCharts(page, 1);
  assert.deepEqual(await page.$$eval('.chart-cell', (cells) => cells.map((c) => c.dataset.metrics)), ['accuracy']);
  assert.equal(await page.isChecked('.metric-option input[value="accuracy"]'), true);
  assert.equal(await page.isChecked('.metric-option input[value="loss"]'), false);
  assert.equal(await page.getAttribute('.tabs a.active', 'data-tab'), 'metrics');
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('a 100,000-step history draws downsampled with its spike, and zooms in on a range', async () => {
  const page = await newPage(browser);
  // How fast it draws is measured by bench/run_ui_bench.sh, not here.
  await page.goto(runHash(longRun, '?tab=metrics'));
  await waitCharts(page, 1);
  const [stats] = await chartStats(page, 'signal');
  assert.equal(stats.max, SPIKE_VALUE);
  assert.ok(stats.points <= 2500 && stats.points >= 500, `${stats.points} points`);
  const hasSpike = await page.evaluate((step) => {
    const u = document.querySelector('.chart-body').__chart.uplot();
    const i = u.data[0].indexOf(step);
    return i >= 0 ? u.data[1][i] : null;
  }, SPIKE_STEP);
  assert.equal(hasSpike, SPIKE_VALUE);

  // Drag over about the middle fifth of the plot: the chart refetches that range in detail.
  const box = await page.locator('.chart-cell .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => {
    const s = document.querySelector('.chart-body').__chart.stats()[0];
    return s.points > 0 && s.lastX < 70000;
  });
  const zoomed = await page.evaluate(() => {
    const u = document.querySelector('.chart-body').__chart.uplot();
    return { first: u.data[0][0], last: u.data[0][u.data[0].length - 1], n: u.data[0].length, min: u.scales.x.min, max: u.scales.x.max };
  });
  assert.ok(zoomed.first >= 39000 && zoomed.last <= 61000, JSON.stringify(zoomed));
  assert.ok(zoomed.max - zoomed.min < 25000, JSON.stringify(zoomed));
  await shot(page, 'run-metrics-long');
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('artifact tree lists files with sizes and previews text, JSON, CSV and images', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun, '?tab=artifacts'));
  await page.waitForSelector('.art-tree');
  const rows = await page.$$eval('.art-tree > li > .art-row', (els) => els.map((r) => [r.querySelector('.art-name').textContent, r.querySelector('.art-size').textContent]));
  assert.deepEqual(rows, [['logs', ''], ['model', ''], ['tensor_model', ''], ['config.json', `${JSON.stringify(CONFIG).length} B`], ['data.csv', `${CSV.length} B`],
                          ['notes.txt', `${NOTES.length} B`], ['plot.png', `${tinyPng().length} B`]]);

  await page.click('.art-row[data-path="notes.txt"]');
  await page.waitForSelector('.art-preview[data-path="notes.txt"][data-state="ready"]');
  assert.equal(await page.textContent('.art-text'), NOTES);
  assert.equal(await page.getAttribute('.art-download', 'href'), `/get-artifact?run_uuid=${mainRun.info.run_id}&path=notes.txt`);
  assert.match(page.url(), /tab=artifacts&path=notes\.txt$/);
  await shot(page, 'run-artifacts-text');

  await page.click('.art-row[data-path="config.json"]');
  await page.waitForSelector('.art-preview[data-path="config.json"][data-state="ready"]');
  assert.equal(await page.textContent('.art-json'), JSON.stringify(CONFIG, null, 2));

  await page.click('.art-row[data-path="data.csv"]');
  await page.waitForSelector('.art-preview[data-path="data.csv"][data-state="ready"]');
  const table = await page.$$eval('.art-table tr', (trs) => trs.map((tr) => [...tr.cells].slice(1).map((c) => c.textContent)));
  assert.deepEqual(table, [['name', 'city', 'score'], ['Smith, John', 'Berlin', '0.91'], ['Ada', 'New\nYork', '0.87'],
                           ['Quote "Q" Test', 'Paris', '0.5']]);
  await shot(page, 'run-artifacts-csv');

  await page.click('.art-row[data-path="plot.png"]');
  await page.waitForSelector('.art-preview[data-path="plot.png"][data-state="ready"]');
  await page.waitForFunction(() => document.querySelector('.art-image')?.naturalWidth > 0);
  assert.equal(await page.$eval('.art-image', (img) => `${img.naturalWidth}x${img.naturalHeight}`), '3x2');

  // Large files: the first 1 MB of text, the first 500 rows of a table, each noted.
  await page.click('.art-row[data-path="logs"]');
  await page.click('.art-row[data-path="logs/big.log"]');
  await page.waitForSelector('.art-preview[data-path="logs/big.log"][data-state="ready"]');
  assert.equal(await page.textContent('.art-note'), 'Showing the first 1.0 MB of 1.5 MB; download the file for all of it.');
  assert.equal(await page.$eval('.art-text', (pre) => pre.textContent.length), 1024 * 1024);
  await page.click('.art-row[data-path="logs/rows.csv"]');
  await page.waitForSelector('.art-preview[data-path="logs/rows.csv"][data-state="ready"]');
  assert.equal(await page.textContent('.art-note'), 'Showing the first 500 rows; download the file for all of them.');
  assert.equal(await page.locator('.art-table tbody tr').count(), 500);
  assert.equal(await page.textContent('.art-table tbody tr:last-child td:last-child'), String(499 * 499));
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('an MLmodel shows flavors and the signature; its folder opens from the URL', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun, '?tab=artifacts'));
  await page.click('.art-row[data-path="model"]');
  await page.waitForSelector('.art-row[data-path="model/MLmodel"]');
  assert.equal(await page.textContent('.art-row[data-path="model/model.pkl"] .art-size'), '1.8 KB');
  await page.click('.art-row[data-path="model/MLmodel"]');
  await page.waitForSelector('.art-preview[data-path="model/MLmodel"][data-state="ready"]');
  const inputs = await page.$$eval('.model-inputs tbody td.spec-name', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(inputs, INPUT_NAMES);
  assert.match(await page.textContent('.model-outputs tbody'), /^species\s*long\s*required$/);
  const flavors = await page.$$eval('.model-flavors td.flavor-name', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(flavors, ['python_function', 'sklearn']);
  assert.match(await page.textContent('.model-flavors'), /sklearn_version: 1\.4\.0/);
  assert.match(await page.textContent('.model-raw'), /^artifact_path: model\n/);
  await shot(page, 'run-artifacts-model');

  // The folder itself, straight from the URL: the tree opens to it and the model shows.
  await page.goto(runHash(mainRun, '?tab=artifacts&path=model'));
  await page.waitForSelector('.art-preview[data-path="model"][data-state="ready"]');
  assert.deepEqual(await page.$$eval('.model-inputs tbody td.spec-name', (cells) => cells.map((c) => c.textContent)), INPUT_NAMES);
  assert.equal(await page.getAttribute('.art-row.selected', 'data-path'), 'model');
  assert.equal(await page.isVisible('.art-row[data-path="model/requirements.txt"]'), true);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

// The server's MLmodel reader refuses tensor specs ("only column-based schemas of basic types
// are supported"), though MLflow writes them for numpy inputs and outputs.
test('a model with a tensor-based output shows its signature', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun, '?tab=artifacts&path=tensor_model/MLmodel'));
  await page.waitForSelector('.art-preview[data-state="ready"]');
  assert.match(await page.textContent('.model-raw'), /^artifact_path: tensor_model\n/);
  assert.deepEqual(await page.$$eval('.model-inputs tbody td.spec-name', (cells) => cells.map((c) => c.textContent)), INPUT_NAMES);
  assert.match(await page.textContent('.model-outputs tbody'), /tensor int64\s*\(-1\)/);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('a missing artifact and an unknown run show visible errors', async () => {
  const page = await newPage(browser);
  await page.goto(runHash(mainRun, '?tab=artifacts&path=model/missing.txt'));
  await page.waitForSelector('.art-preview[data-state="error"]');
  assert.equal(await page.textContent('.art-preview .error'),
               "Cannot load 'model/missing.txt': Artifact 'model/missing.txt' does not exist");
  assert.equal(await page.isVisible('.art-row[data-path="model/MLmodel"]'), true);
  assert.equal(await page.locator('.art-download').count(), 0);
  // A path that leaves the run's artifacts is refused by the server, visibly.
  await page.goto(runHash(mainRun, '?tab=artifacts&path=../secret.txt'));
  await page.waitForSelector('.art-preview[data-state="error"]');
  assert.match(await page.textContent('.art-preview .error'), /Invalid artifact path '\.\.\/secret\.txt'/);

  await page.goto(`${server.url}/#/runs/0123456789abcdef0123456789abcdef`);
  await page.waitForSelector('.run-page .error');
  const text = await page.textContent('.run-page .error');
  assert.match(text, /Cannot load run '0123456789abcdef0123456789abcdef'/);
  assert.match(text, /Run with id=0123456789abcdef0123456789abcdef not found/);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});

test('a running run refreshes its overview and charts, and links to its parent', async () => {
  const live = await seedRun(rest, experimentId, { name: 'live-child', status: 'RUNNING', metrics: { loss: [1, 0.8] },
                                                   tags: { 'mlflow.parentRunId': mainRun.info.run_id } });
  const page = await newPage(browser);
  await page.goto(runHash(live));
  await page.waitForSelector('.run-details');
  assert.equal(await page.textContent('h1.run-title .status'), 'RUNNING');
  await page.waitForSelector('.run-meta a.parent-run >> text=resnet-baseline');
  assert.equal(await page.getAttribute('.run-meta a.parent-run', 'href'), `#/runs/${mainRun.info.run_id}`);

  await rest.post('runs/log-metric', { run_id: live.info.run_id, key: 'loss', value: 0.25, step: 2, timestamp: Date.now() });
  await page.waitForSelector('.run-metrics tbody td.num >> text=0.25', { timeout: 8000 });

  await page.click('.tabs a[data-tab=metrics]');
  await waitCharts(page, 1);
  assert.equal((await chartStats(page, 'loss'))[0].points, 3);
  await rest.post('runs/log-metric', { run_id: live.info.run_id, key: 'loss', value: 0.2, step: 3, timestamp: Date.now() });
  await rest.post('runs/update', { run_id: live.info.run_id, status: 'FINISHED', end_time: Date.now() });
  await page.waitForFunction(() => document.querySelector('.chart-body').__chart.stats()[0].points === 4, null, { timeout: 8000 });
  await page.waitForSelector('h1.run-title .status >> text=FINISHED');

  // Once the run has ended, or the page is left, the polling stops.
  const polls = [];
  page.on('request', (r) => { if (r.url().includes('/runs/get?')) polls.push(r.url()); });
  await page.waitForTimeout(3500);
  assert.deepEqual(polls, []);
  assert.deepEqual(page.appErrors, []);
  await page.context().close();
});
