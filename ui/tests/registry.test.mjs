// The registry pages against a real `mlt ui`: a run with a logged model, a registered model with
// two versions, and every change made from the pages checked through the REST API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, restClient, seedRun } from './harness.mjs';

const MODEL = 'fraud-detector';
const MLMODEL = `artifact_path: model
flavors:
  mltrack.logistic_regression:
    data: model.json
    format_version: 1
  python_function:
    loader_module: mltrack.pyfunc
model_uuid: 0f8e3c1a2b4d4e6f8a9b0c1d2e3f4a5b
run_id: RUN_ID
signature:
  inputs: '[{"type": "double", "name": "x"}, {"type": "string", "name": "segment", "required": false}]'
  outputs: '[{"type": "double", "name": "y"}]'
utc_time_created: '2026-11-26 10:00:00.000000'
`;

let server;
let browser;
let rest;
let run;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  rest = restClient(server.url);
  const { experiment_id: exp } = await rest.post('experiments/create', { name: 'fraud' });
  run = await seedRun(rest, exp, { name: 'lr-balanced', params: { C: '0.5', penalty: 'l2' },
                                   metrics: { auc: [0.81, 0.86, 0.912], logloss: 0.31 } });
  await rest.putArtifact(run, 'model/MLmodel', MLMODEL.replace('RUN_ID', run.info.run_id));
  await rest.post('registered-models/create', { name: MODEL, description: 'Scores card payments.',
                                                tags: [{ key: 'team', value: 'risk' }] });
  for (let i = 0; i < 2; i += 1) {
    await rest.post('model-versions/create', { name: MODEL, source: `${run.info.artifact_uri}/model`,
                                               run_id: run.info.run_id, description: `candidate ${i + 1}` });
  }
  await rest.post('registered-models/create', { name: 'churn' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(hash) {
  const page = await newPage(browser);
  await page.goto(`${server.url}/${hash}`);
  return page;
}

async function aliasVersion(alias) {
  try {
    return (await rest.get('registered-models/alias', { name: MODEL, alias })).model_version.version;
  } catch (err) {
    if (/alias \w+ not found/.test(err.message)) return null;
    throw err;
  }
}

test('the models list shows the registered models and searches by name', async () => {
  const page = await open('#/models');
  const row = page.locator(`tr[data-model="${MODEL}"]`);
  await row.waitFor();
  assert.deepEqual(await page.locator('.models-table tbody tr').evaluateAll(
    (rows) => rows.map((r) => r.dataset.model)), ['churn', MODEL]);
  assert.equal(await row.locator('td').nth(1).innerText(), 'Version 2');
  assert.match(await row.innerText(), /Scores card payments\./);

  await page.fill('input[type=search]', 'FRAUD');
  await page.waitForFunction(() => document.querySelectorAll('.models-table tbody tr').length === 1);
  assert.equal(await page.locator('.models-table tbody tr').getAttribute('data-model'), MODEL);
  assert.match(page.url(), /#\/models\?q=FRAUD$/);

  await page.fill('input[type=search]', "no such 'model");
  await page.locator('.empty').waitFor();
  assert.equal(await page.locator('.empty').innerText(), "No registered model name contains 'no such 'model'.");

  await page.goto(`${server.url}/#/models`);
  await row.locator('a').first().click();
  await page.locator('.versions-table').waitFor();
  assert.match(page.url(), /#\/models\/fraud-detector$/);
  assert.deepEqual(page.appErrors, []);
});

test('the model page lists versions with status, run and description', async () => {
  const page = await open(`#/models/${MODEL}`);
  await page.locator('.versions-table').waitFor();
  assert.equal(await page.locator('h1').innerText(), MODEL);
  const rows = page.locator('.versions-table tbody tr');
  assert.deepEqual(await rows.evaluateAll((r) => r.map((x) => x.dataset.version)), ['2', '1']);
  assert.equal(await rows.nth(1).locator('.status').innerText(), 'READY');
  assert.equal(await rows.nth(1).locator('.stage').innerText(), 'None');
  assert.match(await rows.nth(1).innerText(), /candidate 1/);
  // The run column ends up naming the run and links to it.
  const runLink = rows.nth(1).locator('.run-cell a');
  await page.waitForFunction(() => document.querySelector('.run-cell a').textContent === 'lr-balanced');
  assert.equal(await runLink.getAttribute('href'), `#/runs/${run.info.run_id}`);
  assert.match(await page.locator('.model-tags').innerText(), /team = risk/);
  assert.match(await page.locator('.description-text').innerText(), /Scores card payments/);
  assert.deepEqual(page.appErrors, []);
});

test('an alias set from the model page is visible through the REST API, and can be deleted', async () => {
  const page = await open(`#/models/${MODEL}`);
  await page.locator('.versions-table').waitFor();
  await page.locator('tr[data-version="1"] button', { hasText: 'Set alias' }).click();
  const dialog = page.locator('.dialog');
  assert.equal(await dialog.locator('select[name=version]').inputValue(), '1');
  await dialog.locator('input[name=alias]').fill('champion');
  await dialog.locator('button[type=submit]').click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('tr[data-version="1"] .chip.alias', { hasText: '@champion' }).waitFor();
  assert.equal(await aliasVersion('champion'), '1');
  assert.equal(await page.locator('.model-aliases .chip.alias').evaluate((el) => el.firstChild.textContent +
    el.querySelector('.alias-version').textContent), '@champion → v1');

  // Moving the alias to version 2 from the side panel.
  await page.locator('.side-panel button', { hasText: 'Set alias' }).click();
  await dialog.locator('input[name=alias]').fill('champion');
  await dialog.locator('select[name=version]').selectOption('2');
  await dialog.locator('button[type=submit]').click();
  await page.locator('tr[data-version="2"] .chip.alias', { hasText: '@champion' }).waitFor();
  assert.equal(await aliasVersion('champion'), '2');
  assert.equal(await page.locator('tr[data-version="1"] .chip.alias').count(), 0);

  await page.locator('.model-aliases button[aria-label="Delete alias champion"]').click();
  assert.match(await dialog.innerText(), /models:\/fraud-detector@champion/);
  await dialog.locator('button[type=submit]').click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('.model-aliases .chip.alias').waitFor({ state: 'detached' });
  assert.equal(await aliasVersion('champion'), null);
  assert.deepEqual(page.appErrors, []);
});

test('a bad alias shows the server\'s message in the dialog and changes nothing', async () => {
  const page = await open(`#/models/${MODEL}`);
  await page.locator('.versions-table').waitFor();
  await page.locator('tr[data-version="1"] button', { hasText: 'Set alias' }).click();
  const dialog = page.locator('.dialog');
  for (const [alias, message] of [
    ['v1', "Version alias name 'v1' is reserved."],
    ['Latest', "'latest' alias name (case insensitive) is reserved."],
    ['', /alias/],
  ]) {
    await dialog.locator('input[name=alias]').fill(alias);
    await dialog.locator('button[type=submit]').click();
    const error = dialog.locator('.error');
    await error.waitFor();
    if (typeof message === 'string') assert.equal(await error.innerText(), message);
    else assert.match(await error.innerText(), message);
    assert.equal(await dialog.locator('button[type=submit]').isEnabled(), true);
  }
  const model = (await rest.get('registered-models/get', { name: MODEL })).registered_model;
  assert.equal(model.aliases, undefined);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.locator('.versions-table .chip.alias').count(), 0);
  assert.deepEqual(page.appErrors, []);
});

test('a stage transition shows on the page and through the REST API', async () => {
  const page = await open(`#/models/${MODEL}`);
  await page.locator('.versions-table').waitFor();
  const stageOf = (v) => page.locator(`tr[data-version="${v}"] .stage`);
  await page.locator('tr[data-version="1"] button', { hasText: 'Stage' }).click();
  const dialog = page.locator('.dialog');
  await dialog.locator('select[name=stage]').selectOption('Production');
  await dialog.locator('button[type=submit]').click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelector('tr[data-version="1"] .stage').textContent === 'Production');
  const get = async (v) => (await rest.get('model-versions/get', { name: MODEL, version: v })).model_version.current_stage;
  assert.equal(await get('1'), 'Production');

  // Version 2 to Production, archiving version 1.
  await page.locator('tr[data-version="2"] button', { hasText: 'Stage' }).click();
  await dialog.locator('select[name=stage]').selectOption('Production');
  await dialog.locator('input[name=archive_existing_versions]').check();
  await dialog.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('tr[data-version="1"] .stage').textContent === 'Archived');
  assert.equal(await stageOf('2').innerText(), 'Production');
  assert.equal(await get('1'), 'Archived');
  assert.equal(await get('2'), 'Production');

  // The models list shows the production version.
  await page.goto(`${server.url}/#/models`);
  const row = page.locator(`tr[data-model="${MODEL}"]`);
  await row.waitFor();
  assert.equal(await row.locator('td').nth(4).innerText(), 'Version 2');
  assert.deepEqual(page.appErrors, []);
});

test('the version page shows the model\'s signature and flavors', async () => {
  const page = await open(`#/models/${MODEL}/versions/1`);
  await page.locator('.signature-inputs').waitFor();
  assert.deepEqual(await page.locator('.signature-inputs tbody tr').evaluateAll(
    (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
    [['x', 'double', 'required'], ['segment', 'string', 'optional']]);
  assert.deepEqual(await page.locator('.signature-outputs tbody td:first-child').allInnerTexts(), ['y']);
  assert.deepEqual(await page.locator('.model-facts .chip.flavor').allInnerTexts(),
                   ['mltrack.logistic_regression', 'python_function']);
  assert.match(await page.locator('.flavor-cards').innerText(), /format_version\s+1/);
  assert.deepEqual(page.appErrors, []);
});

test('the version page shows the source and the run\'s metrics, edits the description, sets an alias', async () => {
  const page = await open(`#/models/${MODEL}/versions/1`);
  await page.locator('.version-details').waitFor();
  assert.match(await page.locator('h1').innerText(), /fraud-detector\s+version 1/);
  assert.equal(await page.locator('.source-uri').innerText(), `${run.info.artifact_uri}/model`);
  assert.equal(await page.locator('.source-run').getAttribute('href'), `#/runs/${run.info.run_id}`);
  await page.locator('.run-metrics').waitFor();
  assert.equal(await page.locator('.run-metrics tr[data-metric="auc"] td').nth(1).innerText(), '0.912');
  assert.equal(await page.locator('.version-run .run-experiment').innerText(), 'fraud');

  // Description edit goes to model-versions/update.
  await page.locator('.description button', { hasText: 'Edit' }).click();
  await page.fill('.description-input', 'Balanced classes, C=0.5.');
  await page.locator('.description button', { hasText: 'Save' }).click();
  await page.locator('.description-text', { hasText: 'Balanced classes' }).waitFor();
  const mv = (await rest.get('model-versions/get', { name: MODEL, version: '1' })).model_version;
  assert.equal(mv.description, 'Balanced classes, C=0.5.');

  // An alias set here shows in the details.
  await page.locator('.head-actions button', { hasText: 'Set alias' }).click();
  await page.locator('.dialog input[name=alias]').fill('baseline');
  await page.locator('.dialog button[type=submit]').click();
  await page.locator('.version-aliases .chip.alias', { hasText: '@baseline' }).waitFor();
  assert.equal(await aliasVersion('baseline'), '1');
  assert.deepEqual(page.appErrors, []);
});

test('an unknown model or version shows an error naming it', async () => {
  const page = await open('#/models/no-such-model');
  await page.locator('.error').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Model no-such-model');
  assert.match(await page.locator('.error').innerText(), /no-such-model/);

  await page.goto(`${server.url}/#/models/${MODEL}/versions/42`);
  await page.locator('.error').waitFor();
  assert.equal(await page.locator('h1').innerText(), `Model ${MODEL} version 42`);
  assert.match(await page.locator('.error').innerText(), /version=42/);
  assert.deepEqual(page.appErrors, []);
});

test('a name with a quote and a space works; the list pages by 100', async () => {
  const odd = "o'brien model";
  await rest.post('registered-models/create', { name: odd });
  await rest.post('model-versions/create', { name: odd, source: `${run.info.artifact_uri}/model`, run_id: run.info.run_id });
  const page = await open(`#/models/${encodeURIComponent(odd)}`);
  await page.locator('.versions-table').waitFor();
  assert.equal(await page.locator('h1').innerText(), odd);
  assert.deepEqual(await page.locator('.versions-table tbody tr').evaluateAll((r) => r.map((x) => x.dataset.version)), ['1']);

  for (let i = 0; i < 101; i += 1) {
    await rest.post('registered-models/create', { name: `bulk-${String(i).padStart(3, '0')}` });
  }
  await page.goto(`${server.url}/#/models?q=bulk`);
  const rows = page.locator('.models-table tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('.models-table tbody tr').length === 100);
  assert.equal(await rows.first().getAttribute('data-model'), 'bulk-000');
  assert.match(await page.locator('.pager').innerText(), /Page 1 · 100 models/);
  await page.locator('.pager button', { hasText: 'Next' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.models-table tbody tr').length === 1);
  assert.equal(await rows.first().getAttribute('data-model'), 'bulk-100');
  assert.equal(await page.locator('.pager button', { hasText: 'Next' }).isDisabled(), true);
  await page.locator('.pager button', { hasText: 'Previous' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.models-table tbody tr').length === 100);
  assert.equal(await page.locator('.pager button', { hasText: 'Previous' }).isDisabled(), true);
  assert.deepEqual(page.appErrors, []);
});
