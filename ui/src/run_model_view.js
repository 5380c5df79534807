// The model a run logged (an MLmodel file in an artifact folder): its flavors, its signature as
// inputs/outputs/params tables, its metadata, and the MLmodel text itself. The parsed model
// comes from GET mltrack/artifacts/mlmodel?run_id=&path=<folder>, which answers
// {mlmodel: {...}} with signature.inputs/outputs/params already parsed from MLflow's JSON strings
// (strings are still parsed here, in case).
import { mltrack, artifactUrl } from './api.js';
import { h, errorBox, formatBytes } from './dom.js';
import { readPrefix } from './run_artifact_preview.js';

function parseSpec(value) {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

function scalar(value) {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// "double", "tensor float32", "array<string>", "object{a,b}" ...
function typeText(spec) {
  if (spec.type === 'tensor') return `tensor ${spec['tensor-spec']?.dtype ?? ''}`.trim();
  if (spec.type === 'array') return `array<${spec.items ? typeText(spec.items) : '?'}>`;
  if (spec.type === 'object') return `object{${Object.keys(spec.properties ?? {}).join(', ')}}`;
  if (spec.type === 'map') return `map<string, ${spec.values ? typeText(spec.values) : '?'}>`;
  return spec.type ?? '';
}

function shapeText(spec) {
  const shape = spec['tensor-spec']?.shape ?? spec.shape;
  return Array.isArray(shape) ? `(${shape.join(', ')})` : '';
}

// Name | Type | Shape (only when some spec has one) | Required (or Default, for params).
function specTable(cls, specs, withDefault = false) {
  const shapes = specs.some((spec) => shapeText(spec));
  return h('table', { class: `grid model-spec ${cls}` },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), shapes ? h('th', {}, 'Shape') : null,
                     h('th', {}, withDefault ? 'Default' : 'Required'))),
    h('tbody', {}, specs.map((spec, i) => h('tr', {},
      h('td', { class: 'spec-name' }, spec.name ?? h('span', { class: 'muted' }, `(unnamed ${i})`)),
      h('td', { class: 'mono' }, typeText(spec)),
      shapes ? h('td', { class: 'mono' }, shapeText(spec)) : null,
      h('td', {}, withDefault ? scalar(spec.default) : spec.required === false ? 'optional' : 'required')))));
}

function flavorsTable(flavors) {
  const rows = Object.entries(flavors ?? {}).map(([name, conf]) => {
    const facts = [];
    for (const [key, value] of Object.entries(conf ?? {})) {
      if (value === null || value === undefined) continue;
      if (typeof value === 'object' && !Array.isArray(value)) {
        for (const [sub, v] of Object.entries(value)) facts.push([`${key}.${sub}`, scalar(v)]);
      } else {
        facts.push([key, scalar(value)]);
      }
    }
    return h('tr', {}, h('td', { class: 'flavor-name' }, h('code', {}, name)),
             h('td', {}, facts.map(([k, v]) => h('span', { class: 'chip' }, h('span', { class: 'muted' }, `${k}: `), v))));
  });
  if (!rows.length) return h('div', { class: 'empty' }, 'No flavors.');
  return h('table', { class: 'grid model-flavors' },
           h('thead', {}, h('tr', {}, h('th', {}, 'Flavor'), h('th', {}, 'Details'))), h('tbody', {}, rows));
}

// Resolves to the nodes showing the model in `folder` ('' = the artifact root). `rawUrl` is the
// MLmodel file's URL (defaults to <folder>/MLmodel). Throws only when neither the parsed model
// nor the file can be read.
export async function renderModelView({ runId, folder, signal, rawUrl }) {
  const fileUrl = rawUrl ?? artifactUrl(runId, folder ? `${folder}/MLmodel` : 'MLmodel');
  const [parsed, raw] = await Promise.allSettled([
    mltrack.get('artifacts/mlmodel', { run_id: runId, path: folder }, { signal }),
    readPrefix(fileUrl, { signal }),
  ]);
  for (const r of [parsed, raw]) if (r.status === 'rejected' && r.reason?.name === 'AbortError') throw r.reason;
  if (parsed.status === 'rejected' && raw.status === 'rejected') throw raw.reason;

  const out = [];
  if (parsed.status === 'fulfilled') {
    const model = parsed.value.mlmodel ?? {};
    const signature = model.signature ?? {};
    const inputs = parseSpec(signature.inputs);
    const outputs = parseSpec(signature.outputs);
    const params = parseSpec(signature.params);
    out.push(h('div', { class: 'model-view' },
      h('h3', {}, 'Model'),
      h('table', { class: 'grid kv model-meta' }, h('tbody', {},
        [['Artifact path', model.artifact_path], ['Model UUID', model.model_uuid], ['Created', model.utc_time_created],
         ['MLflow version', model.mlflow_version], ['Run ID', model.run_id],
         ['Size', model.model_size_bytes !== undefined && model.model_size_bytes !== null ? formatBytes(model.model_size_bytes) : undefined]]
          .filter(([, v]) => v !== undefined && v !== null && v !== '')
          .map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, scalar(v)))))),
      h('h3', {}, 'Flavors'), flavorsTable(model.flavors),
      h('h3', {}, 'Signature'),
      Array.isArray(inputs) || Array.isArray(outputs)
        ? [h('h4', {}, 'Inputs'), Array.isArray(inputs) ? specTable('model-inputs', inputs) : h('div', { class: 'muted' }, 'None'),
           h('h4', {}, 'Outputs'), Array.isArray(outputs) ? specTable('model-outputs', outputs) : h('div', { class: 'muted' }, 'None'),
           Array.isArray(params) && params.length ? [h('h4', {}, 'Parameters'), specTable('model-params', params, true)] : null]
        : h('div', { class: 'muted' }, 'This model has no signature.'),
      model.saved_input_example_info?.artifact_path
        ? h('p', {}, 'Input example: ', h('code', {}, model.saved_input_example_info.artifact_path)) : null));
  } else {
    out.push(errorBox(parsed.reason, 'Cannot read the model description'));
  }
  if (raw.status === 'fulfilled') {
    out.push(h('h3', {}, 'MLmodel'), h('pre', { class: 'art-text model-raw' }, raw.value.text));
  } else {
    out.push(errorBox(raw.reason, 'Cannot load the MLmodel file'));
  }
  return out;
}
