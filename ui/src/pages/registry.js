// The model registry pages:
//   #/models?q=<name part>&order=name|updated     registered models, paged, searched by name
//   #/models/<name>                               one model: description, tags, aliases, versions
//   #/models/<name>/versions/<version>            one version (registry_version.js)
// Changes (aliases, stages, descriptions) are made through dialogs (registry_common.js) and the
// page then re-reads the model from the server.
import { api } from '../api.js';
import { hashFor } from '../main.js';
import { h, clear, errorBox, formatTime, loading } from '../dom.js';
import {
  aliasChips, closeDialogs, descriptionEditor, modelHash, openAliasDialog, openDeleteAliasDialog,
  openStageDialog, pageError, quoteFilterValue, stageBadge, statusBadge, tagChips, versionHash,
} from '../registry_common.js';
import { renderModelVersion } from '../registry_version.js';

export { renderModelVersion };

const MODELS_PAGE_SIZE = 100;
const VERSIONS_PAGE_SIZE = 500;
const ORDERS = {
  name: 'name ASC',
  updated: 'last_updated_timestamp DESC',
};

// --- models list ---------------------------------------------------------------------------------

export async function renderModels(container, { query, navigate }) {
  let search = query.get('q') ?? '';
  let order = ORDERS[query.get('order')] ? query.get('order') : 'name';

  const input = h('input', { type: 'search', class: 'grow', placeholder: 'Search model names',
                             value: search, 'aria-label': 'Search model names' });
  const orderSelect = h('select', { 'aria-label': 'Sort models' },
                        h('option', { value: 'name', selected: order === 'name' }, 'Sort by name'),
                        h('option', { value: 'updated', selected: order === 'updated' }, 'Most recently updated'));
  // A new search or order starts again at page 1; the URL follows without a re-render, so the
  // search box keeps its focus.
  const apply = () => {
    search = input.value.trim();
    order = orderSelect.value;
    navigate(hashFor('/models', { q: search, order: order === 'name' ? '' : order }), { silent: true });
    tokens.length = 0;
    token = '';
    load();
  };
  let typing = null;
  input.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 300);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') { clearTimeout(typing); apply(); }
  });
  orderSelect.addEventListener('change', apply);

  const body = h('div', { class: 'models-body' }, loading());
  container.append(h('div', { class: 'page registry' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Registered models')),
    h('div', { class: 'toolbar' }, input, orderSelect), body));

  // Page tokens of the pages before the shown one, for "Previous".
  const tokens = [];
  let token = '';
  let loadController = null;
  async function load() {
    loadController?.abort();
    loadController = new AbortController();
    const { signal } = loadController;
    const params = { max_results: MODELS_PAGE_SIZE,
                     order_by: order === 'name' ? [ORDERS.name] : [ORDERS[order], ORDERS.name] };
    if (search) params.filter = `name ILIKE ${quoteFilterValue(`%${search}%`)}`;
    if (token) params.page_token = token;
    let answer;
    try {
      answer = await api.get('registered-models/search', params, { signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(body).append(errorBox(err, 'Cannot list registered models'));
      return;
    }
    const models = answer.registered_models ?? [];
    clear(body);
    if (!models.length) {
      body.append(h('div', { class: 'empty' }, search
        ? `No registered model name contains '${search}'.`
        : 'No registered models yet. Register a model version from a run to see it here.'));
      return;
    }
    body.append(modelsTable(models));
    const pager = h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: !tokens.length, onclick: () => {
        token = tokens.pop();
        load();
      } }, '‹ Previous'),
      h('span', { class: 'muted' }, `Page ${tokens.length + 1} · ${models.length} model${models.length === 1 ? '' : 's'}`),
      h('button', { type: 'button', disabled: !answer.next_page_token, onclick: () => {
        tokens.push(token);
        token = answer.next_page_token;
        load();
      } }, 'Next ›'));
    body.append(pager);
  }
  await load();
  return () => {
    loadController?.abort();
    clearTimeout(typing);
  };
}

// The newest version of each stage, as latest_versions lists them.
function latestByStage(model) {
  const byStage = {};
  let newest = null;
  for (const v of model.latest_versions ?? []) {
    byStage[v.current_stage || 'None'] = v;
    if (!newest || Number(v.version) > Number(newest.version)) newest = v;
  }
  return { byStage, newest };
}

function modelsTable(models) {
  const versionLink = (model, v) => (v
    ? h('a', { href: versionHash(model.name, v.version) }, `Version ${v.version}`)
    : h('span', { class: 'muted' }, '—'));
  return h('table', { class: 'grid models-table' },
    h('thead', {}, h('tr', {},
      h('th', {}, 'Name'), h('th', {}, 'Latest version'), h('th', {}, 'Aliases'),
      h('th', {}, 'Staging'), h('th', {}, 'Production'), h('th', {}, 'Description'),
      h('th', {}, 'Last modified'))),
    h('tbody', {}, models.map((model) => {
      const { byStage, newest } = latestByStage(model);
      const aliasVersion = Object.fromEntries((model.aliases ?? []).map((a) => [a.alias, a.version]));
      return h('tr', { dataset: { model: model.name } },
        h('td', { class: 'model-name' }, h('a', { href: modelHash(model.name) }, model.name)),
        h('td', {}, versionLink(model, newest)),
        h('td', { class: 'wrap' }, aliasChips(Object.keys(aliasVersion), { versionOf: (a) => aliasVersion[a] })),
        h('td', {}, versionLink(model, byStage.Staging)),
        h('td', {}, versionLink(model, byStage.Production)),
        h('td', { class: 'description-cell', title: model.description ?? '' }, model.description ?? ''),
        h('td', {}, formatTime(model.last_updated_timestamp)));
    })));
}

// --- one model -----------------------------------------------------------------------------------

export async function renderModel(container, { params }) {
  const { name } = params;
  const controller = new AbortController();
  const { signal } = controller;
  container.append(loading());

  async function load() {
    let model;
    let versions;
    try {
      [model, versions] = await Promise.all([
        api.get('registered-models/get', { name }, { signal }).then((a) => a.registered_model),
        searchVersions(name, signal),
      ]);
    } catch (err) {
      if (err.name === 'AbortError') return;
      pageError(container, `Model ${name}`, err);
      return;
    }
    draw(model, versions);
  }

  function draw(model, versions) {
    const aliasVersion = Object.fromEntries((model.aliases ?? []).map((a) => [a.alias, a.version]));
    const versionNumbers = versions.map((v) => v.version);
    const setAlias = (version) => openAliasDialog({ name, versions: versionNumbers, version, onDone: load });
    const deleteAlias = (alias) => openDeleteAliasDialog({ name, alias, version: aliasVersion[alias], onDone: load });

    const aliasPanel = h('div', { class: 'panel side-panel' },
      h('div', { class: 'panel-head' }, h('h3', {}, 'Aliases'),
        versions.length ? h('button', { type: 'button', class: 'small', onclick: () => setAlias(versionNumbers[0]) }, 'Set alias') : null),
      h('div', { class: 'model-aliases' }, aliasChips(Object.keys(aliasVersion), {
        versionOf: (a) => aliasVersion[a], onDelete: deleteAlias })),
      h('h3', {}, 'Tags'), h('div', { class: 'model-tags' }, tagChips(model.tags)));

    const description = descriptionEditor(model.description ?? '', async (text) => {
      await api.patch('registered-models/update', { name, description: text }, { signal });
    });

    const table = versionsTable(model, versions, { setAlias, load });
    clear(container).append(h('div', { class: 'page registry' },
      h('div', { class: 'breadcrumbs' }, h('a', { href: '#/models' }, 'Models'), ' › '),
      h('div', { class: 'page-head' }, h('h1', { class: 'model-title' }, model.name)),
      h('div', { class: 'meta muted' },
        `Created ${formatTime(model.creation_timestamp)}`, ' · ',
        `Last modified ${formatTime(model.last_updated_timestamp)}`,
        model.user_id ? ` · by ${model.user_id}` : ''),
      h('div', { class: 'registry-columns' },
        h('section', { class: 'panel' }, h('h3', {}, 'Description'), description),
        aliasPanel),
      h('h2', {}, `Versions `, h('span', { class: 'count' }, String(versions.length))),
      versions.length ? table : h('div', { class: 'empty' }, 'This model has no versions yet.')));
    fillRunNames(versions, table, signal);
  }

  await load();
  return () => {
    controller.abort();
    closeDialogs();
  };
}

// All versions of a model, newest first (page by page).
async function searchVersions(name, signal) {
  const versions = [];
  let token;
  do {
    const answer = await api.get('model-versions/search', {
      filter: `name = ${quoteFilterValue(name)}`, max_results: VERSIONS_PAGE_SIZE,
      order_by: ['version_number DESC'], page_token: token,
    }, { signal });
    versions.push(...(answer.model_versions ?? []));
    token = answer.next_page_token;
  } while (token);
  return versions;
}

function versionsTable(model, versions, { setAlias, load }) {
  return h('table', { class: 'grid versions-table' },
    h('thead', {}, h('tr', {},
      h('th', {}, 'Version'), h('th', {}, 'Status'), h('th', {}, 'Stage'), h('th', {}, 'Aliases'),
      h('th', {}, 'Created'), h('th', {}, 'Source run'), h('th', {}, 'Description'), h('th', {}, ''))),
    h('tbody', {}, versions.map((v) => h('tr', { dataset: { version: v.version } },
      h('td', {}, h('a', { href: versionHash(model.name, v.version) }, `Version ${v.version}`)),
      h('td', {}, statusBadge(v)),
      h('td', { class: 'stage-cell' }, stageBadge(v.current_stage)),
      h('td', { class: 'wrap aliases-cell' }, aliasChips(v.aliases)),
      h('td', {}, formatTime(v.creation_timestamp)),
      h('td', { class: 'run-cell' }, v.run_id
        ? h('a', { href: `#/runs/${encodeURIComponent(v.run_id)}`, class: 'mono', dataset: { runId: v.run_id },
                   title: v.run_id }, v.run_id.slice(0, 8))
        : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'description-cell', title: v.description ?? '' }, v.description ?? ''),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'small', onclick: () => setAlias(v.version) }, 'Set alias'),
        h('button', { type: 'button', class: 'small', onclick: () => openStageDialog({
          name: model.name, version: v.version, stage: v.current_stage, onDone: load }) }, 'Stage…'))))));
}

// Replaces the short run ids in the versions table by the runs' names, a few requests at a time;
// a run that cannot be read keeps its id.
async function fillRunNames(versions, table, signal) {
  const ids = [...new Set(versions.map((v) => v.run_id).filter(Boolean))].slice(0, 200);
  const next = () => ids.shift();
  const worker = async () => {
    for (let id = next(); id; id = next()) {
      let run;
      try {
        run = (await api.get('runs/get', { run_id: id }, { signal })).run;
      } catch {
        if (signal.aborted) return;
        continue;
      }
      const runName = run?.info?.run_name;
      if (!runName) continue;
      table.querySelectorAll('a[data-run-id]').forEach((a) => {
        if (a.dataset.runId !== id) return;
        a.textContent = runName;
        a.classList.remove('mono');
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
