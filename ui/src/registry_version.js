// One model version: #/models/<name>/versions/<version>. Shows its status, stage, aliases,
// source, description (editable), tags, the source run's metrics and params (runs/get) and the
// model's signature and flavors (mltrack's model-versions/mlmodel, the MLmodel file as JSON).
// The parts load independently: a deleted source run or an unreadable MLmodel leaves a note in
// its section, not a broken page.
import { api, mltrack } from './api.js';
import { h, clear, errorBox, formatNumber, formatTime, loading } from './dom.js';
import {
  aliasChips, closeDialogs, descriptionEditor, modelHash, openAliasDialog, openDeleteAliasDialog,
  openStageDialog, pageError, stageBadge, statusBadge, tagChips,
} from './registry_common.js';

export async function renderModelVersion(container, { params }) {
  const { name, version } = params;
  const controller = new AbortController();
  const { signal } = controller;
  container.append(loading());

  // Parts that do not change with aliases or stages are read once.
  const runSection = h('section', { class: 'version-run' }, h('h2', {}, 'Source run'), loading());
  const modelSection = h('section', { class: 'version-signature' }, h('h2', {}, 'Model'), loading());
  let extrasStarted = false;

  async function load() {
    let mv;
    try {
      mv = (await api.get('model-versions/get', { name, version }, { signal })).model_version;
    } catch (err) {
      if (err.name === 'AbortError') return;
      pageError(container, `Model ${name} version ${version}`, err);
      return;
    }
    draw(mv);
    if (!extrasStarted) {
      extrasStarted = true;
      loadRun(runSection, mv.run_id, signal);
      loadSignature(modelSection, name, version, signal);
    }
  }

  function draw(mv) {
    const setAlias = () => openAliasDialog({ name, versions: [mv.version], version: mv.version, onDone: load });
    const deleteAlias = (alias) => openDeleteAliasDialog({ name, alias, version: mv.version, onDone: load });
    const transition = () => openStageDialog({ name, version: mv.version, stage: mv.current_stage, onDone: load });
    const description = descriptionEditor(mv.description ?? '', async (text) => {
      await api.patch('model-versions/update', { name, version: mv.version, description: text }, { signal });
    });
    const runId = mv.run_id;
    const details = h('table', { class: 'grid kv version-details' }, h('tbody', {},
      kvRow('Status', h('span', {}, statusBadge(mv),
                        mv.status_message ? h('span', { class: 'muted' }, ` ${mv.status_message}`) : null)),
      kvRow('Stage', h('span', { class: 'version-stage' }, stageBadge(mv.current_stage))),
      kvRow('Aliases', h('span', { class: 'version-aliases' }, aliasChips(mv.aliases, { onDelete: deleteAlias }))),
      kvRow('Source', h('span', { class: 'mono source-uri' }, mv.source ?? '')),
      kvRow('Source run', runId
        ? h('a', { href: `#/runs/${encodeURIComponent(runId)}`, class: 'mono source-run' }, runId)
        : h('span', { class: 'muted' }, '—')),
      kvRow('Created', formatTime(mv.creation_timestamp)),
      kvRow('Last modified', formatTime(mv.last_updated_timestamp)),
      mv.user_id ? kvRow('Creator', mv.user_id) : null,
      kvRow('Tags', h('span', {}, tagChips(mv.tags)))));

    clear(container).append(h('div', { class: 'page registry' },
      h('div', { class: 'breadcrumbs' }, h('a', { href: '#/models' }, 'Models'), ' › ',
        h('a', { href: modelHash(name) }, name), ' › '),
      h('div', { class: 'page-head' },
        h('h1', { class: 'model-title' }, `${name} `, h('span', { class: 'muted' }, `version ${mv.version}`)),
        h('span', { class: 'head-badges' }, statusBadge(mv), stageBadge(mv.current_stage)),
        h('span', { class: 'head-actions' },
          h('button', { type: 'button', onclick: setAlias }, 'Set alias'),
          h('button', { type: 'button', onclick: transition }, 'Transition stage'))),
      h('div', { class: 'registry-columns' },
        h('section', { class: 'panel' }, details),
        h('section', { class: 'panel' }, h('h3', {}, 'Description'), description)),
      modelSection, runSection));
  }

  await load();
  return () => {
    controller.abort();
    closeDialogs();
  };
}

function kvRow(label, value) {
  return h('tr', {}, h('th', {}, label), h('td', {}, value));
}

// --- the source run ------------------------------------------------------------------------------

async function loadRun(section, runId, signal) {
  const body = h('div');
  clear(section).append(h('h2', {}, 'Source run'), body);
  if (!runId) {
    body.append(h('div', { class: 'empty' }, 'This version was not registered from a run.'));
    return;
  }
  let run;
  try {
    run = (await api.get('runs/get', { run_id: runId }, { signal })).run;
  } catch (err) {
    if (err.name === 'AbortError') return;
    body.append(errorBox(err, `Cannot read run ${runId}`));
    return;
  }
  const info = run.info ?? {};
  let experimentName = info.experiment_id ?? '';
  try {
    experimentName = (await api.get('experiments/get', { experiment_id: info.experiment_id }, { signal })).experiment.name;
  } catch (err) {
    if (err.name === 'AbortError') return;
  }
  const metrics = [...(run.data?.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const runParams = [...(run.data?.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  body.append(
    h('div', { class: 'meta' },
      h('a', { href: `#/runs/${encodeURIComponent(runId)}` }, info.run_name || runId), ' ',
      h('span', { class: `status ${info.status}` }, info.status ?? ''),
      h('span', { class: 'muted' }, ' in experiment '),
      h('a', { href: `#/experiments/${encodeURIComponent(info.experiment_id ?? '')}`, class: 'run-experiment' }, experimentName),
      h('span', { class: 'muted' }, ` · started ${formatTime(info.start_time)}`)),
    h('div', { class: 'registry-columns even' },
      h('div', { class: 'panel' }, h('h3', {}, `Metrics (${metrics.length})`), metrics.length
        ? h('table', { class: 'grid run-metrics' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Metric'), h('th', { class: 'num' }, 'Value'), h('th', { class: 'num' }, 'Step'))),
            h('tbody', {}, metrics.map((m) => h('tr', { dataset: { metric: m.key } },
              h('td', {}, m.key), h('td', { class: 'num', title: String(m.value) }, formatNumber(m.value)),
              h('td', { class: 'num' }, String(m.step ?? 0))))))
        : h('div', { class: 'muted' }, 'No metrics.')),
      h('div', { class: 'panel' }, h('h3', {}, `Parameters (${runParams.length})`), runParams.length
        ? h('table', { class: 'grid run-params' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Parameter'), h('th', {}, 'Value'))),
            h('tbody', {}, runParams.map((p) => h('tr', {}, h('td', {}, p.key), h('td', { title: p.value }, p.value)))))
        : h('div', { class: 'muted' }, 'No parameters.'))));
}

// --- MLmodel: signature and flavors --------------------------------------------------------------

async function loadSignature(section, name, version, signal) {
  const body = h('div');
  clear(section).append(h('h2', {}, 'Model'), body);
  let mlmodel;
  try {
    mlmodel = (await mltrack.get('model-versions/mlmodel', { name, version }, { signal })).mlmodel ?? {};
  } catch (err) {
    if (err.name === 'AbortError') return;
    body.append(errorBox(err, 'Cannot read the MLmodel file'));
    return;
  }
  const flavors = Object.entries(mlmodel.flavors ?? {});
  const signature = mlmodel.signature ?? {};
  const facts = [
    ['Flavors', flavors.length ? flavors.map(([key]) => h('span', { class: 'chip flavor' }, key)) : '—'],
    mlmodel.model_uuid ? ['Model UUID', h('span', { class: 'mono' }, mlmodel.model_uuid)] : null,
    mlmodel.utc_time_created ? ['Created (UTC)', mlmodel.utc_time_created] : null,
    mlmodel.mltrack_version ? ['mltrack version', mlmodel.mltrack_version] : null,
    mlmodel.mlflow_version ? ['MLflow version', mlmodel.mlflow_version] : null,
    mlmodel.saved_input_example_info ? ['Input example', h('span', { class: 'mono' },
      mlmodel.saved_input_example_info.artifact_path ?? JSON.stringify(mlmodel.saved_input_example_info))] : null,
  ].filter(Boolean);
  body.append(h('table', { class: 'grid kv model-facts' },
    h('tbody', {}, facts.map(([label, value]) => kvRow(label, h('span', {}, value))))));

  const inputs = specList(signature.inputs);
  const outputs = specList(signature.outputs);
  const sigParams = specList(signature.params);
  if (!inputs.length && !outputs.length) {
    body.append(h('h3', {}, 'Signature'), h('div', { class: 'muted signature-none' }, 'This model has no signature.'));
  } else {
    body.append(h('div', { class: 'registry-columns even' },
      specTable('Inputs', 'signature-inputs', inputs),
      specTable('Outputs', 'signature-outputs', outputs)));
    if (sigParams.length) body.append(specTable('Parameters', 'signature-params', sigParams, true));
  }
  if (flavors.length) {
    body.append(h('h3', {}, 'Flavors'), h('div', { class: 'flavor-cards' }, flavors.map(([key, conf]) =>
      h('div', { class: 'panel flavor-card' }, h('div', { class: 'flavor-name mono' }, key),
        h('table', { class: 'grid kv' }, h('tbody', {}, Object.entries(conf ?? {}).map(([k, v]) =>
          kvRow(k, h('span', { class: 'mono' }, typeof v === 'object' ? JSON.stringify(v) : String(v))))))))));
  }
}

// The server parses signature.inputs/outputs into arrays; a string (an older server) is parsed here.
function specList(value) {
  if (!value) return [];
  if (typeof value === 'string') {
    try { return specList(JSON.parse(value)); } catch { return []; }
  }
  return Array.isArray(value) ? value : [];
}

// MLflow's column and tensor specs as short text: "double", "tensor float32 [-1, 4]",
// "array<string>", "object{a: long}".
export function specType(spec) {
  if (!spec || typeof spec !== 'object') return String(spec ?? '');
  if (spec.type === 'tensor' || spec['tensor-spec']) {
    const t = spec['tensor-spec'] ?? {};
    return `tensor ${t.dtype ?? ''} ${JSON.stringify(t.shape ?? [])}`.replace(/\s+/g, ' ').trim();
  }
  if (spec.type === 'array') return `array<${specType(spec.items)}>`;
  if (spec.type === 'object') {
    const props = Object.entries(spec.properties ?? {}).map(([k, v]) => `${k}: ${specType(v)}`);
    return `object{${props.join(', ')}}`;
  }
  if (spec.type === 'map') return `map<string, ${specType(spec.values)}>`;
  return String(spec.type ?? '');
}

function specTable(title, cls, specs, withDefault = false) {
  return h('div', { class: 'panel' }, h('h3', {}, `${title} (${specs.length})`), specs.length
    ? h('table', { class: `grid ${cls}` },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'),
          withDefault ? h('th', {}, 'Default') : h('th', {}, 'Required'))),
        h('tbody', {}, specs.map((s, i) => h('tr', {},
          h('td', { class: 'mono' }, s.name ?? h('span', { class: 'muted' }, `#${i}`)),
          h('td', { class: 'mono' }, specType(s)),
          withDefault ? h('td', { class: 'mono' }, s.default === undefined ? '' : JSON.stringify(s.default))
                      : h('td', {}, s.required === false || s.optional === true ? 'optional' : 'required')))))
    : h('div', { class: 'muted' }, '—'));
}
