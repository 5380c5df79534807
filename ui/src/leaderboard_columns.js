// The leaderboard's columns: their ids (the same ids the export-csv endpoint takes, so the CSV
// holds what the table shows), headers, cells, the order_by expression that sorts by each on the
// server, the default choice, and the column chooser.
//
// Column ids: attributes.<name> (run_name, status, start_time, duration, user_id,
// experiment_id), params.<key>, metrics.<key>, tags.<key>. The run-name column is always shown
// (first) and the experiment column when the leaderboard spans several experiments; every other
// column is listed in the view's `cols`.
import { h, formatTime, formatDuration, formatNumber } from './dom.js';
import { openPopover } from './dialog.js';

export const NAME_COLUMN = 'attributes.run_name';
export const EXPERIMENT_COLUMN = 'attributes.experiment_id';

// Attribute-like columns, in the order the chooser offers them. The source and commit columns
// read MLflow's tags but sort like attributes.
const ATTRIBUTE_COLUMNS = [
  { id: 'attributes.status', label: 'Status' },
  { id: 'attributes.start_time', label: 'Started' },
  { id: 'attributes.duration', label: 'Duration', num: true },
  { id: 'attributes.user_id', label: 'User' },
  { id: 'tags.mlflow.source.name', label: 'Source' },
  { id: 'tags.mlflow.source.git.commit', label: 'Commit' },
];
export const ATTRIBUTE_IDS = ATTRIBUTE_COLUMNS.map((c) => c.id);
const ATTRIBUTE_BY_ID = new Map(ATTRIBUTE_COLUMNS.map((c) => [c.id, c]));

const KINDS = [
  { prefix: 'metrics.', group: 'Metrics', field: 'metrics' },
  { prefix: 'params.', group: 'Params', field: 'params' },
  { prefix: 'tags.', group: 'Tags', field: 'tags' },
];

// The default choice: the attribute columns plus every metric and param when there are at most
// 12 of them together, otherwise the first 8 metrics and first 4 params (fewer of one leaves room
// for more of the other).
export function defaultColumns({ metrics = [], params = [] }) {
  let picked;
  if (metrics.length + params.length <= 12) {
    picked = [...metrics.map((k) => `metrics.${k}`), ...params.map((k) => `params.${k}`)];
  } else {
    const nm = Math.min(metrics.length, Math.max(8, 12 - params.length));
    const np = Math.min(params.length, 12 - nm);
    picked = [...metrics.slice(0, nm).map((k) => `metrics.${k}`), ...params.slice(0, np).map((k) => `params.${k}`)];
  }
  return [...ATTRIBUTE_IDS, ...picked];
}

// The keys that runs carry, sorted: {metrics, params, tags}.
export function keysOfRuns(runs) {
  const sets = { metrics: new Set(), params: new Set(), tags: new Set() };
  for (const run of runs) {
    for (const field of ['metrics', 'params', 'tags']) {
      for (const item of run.data?.[field] ?? []) sets[field].add(item.key);
    }
  }
  const sorted = (set) => [...set].sort((a, b) => a.localeCompare(b));
  return { metrics: sorted(sets.metrics), params: sorted(sets.params), tags: sorted(sets.tags) };
}

// Back-tick quotes a key for order_by and filter expressions.
function quoteKey(key) {
  return `\`${key}\``;
}

// What the column id names: {group, field, key} for params/metrics/tags, or the attribute.
function parse(id) {
  const attribute = ATTRIBUTE_BY_ID.get(id);
  if (attribute) return { group: 'Attributes', attribute };
  if (id === NAME_COLUMN) return { group: '', attribute: { id, label: 'Run name' } };
  if (id === EXPERIMENT_COLUMN) return { group: '', attribute: { id, label: 'Experiment' } };
  for (const kind of KINDS) {
    if (id.startsWith(kind.prefix) && id.length > kind.prefix.length) {
      return { group: kind.group, field: kind.field, key: id.slice(kind.prefix.length) };
    }
  }
  return null;
}

export function isColumnId(id) {
  return parse(id) !== null;
}

// The order_by expression that sorts by column `id` on the server, or null when it cannot.
export function orderExpression(id) {
  const p = parse(id);
  if (!p) return null;
  if (p.attribute) {
    if (id === EXPERIMENT_COLUMN) return null;
    if (id.startsWith('tags.')) return `tags.${quoteKey(id.slice(5))}`;
    return id;
  }
  return `${p.field}.${quoteKey(p.key)}`;
}

// Fast access to a run's values by key (runs/search gives arrays). Cached per run object.
const index = new WeakMap();
export function runValues(run) {
  let values = index.get(run);
  if (!values) {
    const map = (list) => new Map((list ?? []).map((item) => [item.key, item]));
    values = { metrics: map(run.data?.metrics), params: map(run.data?.params), tags: map(run.data?.tags) };
    index.set(run, values);
  }
  return values;
}

export function runName(run) {
  return run.info.run_name || runValues(run).tags.get('mlflow.runName')?.value || run.info.run_id.slice(0, 8);
}

// A run's duration in ms: end - start, or now - start while it runs.
export function runDuration(run, now = Date.now()) {
  const { start_time: start, end_time: end, status } = run.info;
  if (!start) return null;
  if (end) return Number(end) - Number(start);
  return status === 'RUNNING' ? Math.max(0, now - Number(start)) : null;
}

const STATUS_LABELS = { FINISHED: 'Finished', RUNNING: 'Running', FAILED: 'Failed', KILLED: 'Killed', SCHEDULED: 'Scheduled' };

// Describes column `id` for the table: {id, group, label, title, num, sortable, cell(run, ctx)}.
// `cell` returns {text, title, node?}: `text` is what a live update compares to decide whether
// the cell changed. ctx = {experimentNames: Map}.
export function describeColumn(id) {
  const p = parse(id);
  const column = { id, group: p.group, sortable: orderExpression(id) !== null };
  if (p.attribute) {
    column.label = p.attribute.label;
    column.num = Boolean(p.attribute.num);
    column.title = id;
    column.cell = attributeCell(id);
    return column;
  }
  column.label = p.key;
  column.title = id;
  column.num = p.field === 'metrics';
  if (p.field === 'metrics') {
    column.cell = (run) => {
      const m = runValues(run).metrics.get(p.key);
      if (!m) return { text: '' };
      return { text: formatNumber(m.value), title: `${m.value} (step ${m.step ?? 0})` };
    };
  } else {
    column.cell = (run) => {
      const value = runValues(run)[p.field].get(p.key)?.value ?? '';
      return { text: value, title: value };
    };
  }
  return column;
}

function attributeCell(id) {
  switch (id) {
    case 'attributes.status':
      return (run) => {
        const status = run.info.status ?? '';
        return { text: status, node: h('span', { class: `status ${status}` }, STATUS_LABELS[status] ?? status) };
      };
    case 'attributes.start_time':
      return (run) => ({ text: formatTime(run.info.start_time), title: run.info.start_time ? new Date(Number(run.info.start_time)).toISOString() : '' });
    case 'attributes.duration':
      return (run) => ({ text: formatDuration(runDuration(run)) });
    case 'attributes.user_id':
      return (run) => {
        const user = run.info.user_id || runValues(run).tags.get('mlflow.user')?.value || '';
        return { text: user, title: user };
      };
    case 'tags.mlflow.source.name':
      return (run) => {
        const source = runValues(run).tags.get('mlflow.source.name')?.value ?? '';
        return { text: source.replace(/^.*[/\\](?=[^/\\])/, ''), title: source };
      };
    case 'tags.mlflow.source.git.commit':
      return (run) => {
        const commit = runValues(run).tags.get('mlflow.source.git.commit')?.value ?? '';
        return { text: commit.slice(0, 7), title: commit, node: commit ? h('code', {}, commit.slice(0, 7)) : null };
      };
    case EXPERIMENT_COLUMN:
      return (run, ctx) => {
        const eid = run.info.experiment_id;
        const name = ctx?.experimentNames?.get(eid) ?? eid;
        return { text: name, title: `${name} (id ${eid})`, node: h('a', { href: `#/experiments/${eid}` }, name) };
      };
    default:
      return () => ({ text: '' });
  }
}

// Opens the column chooser under `anchor`. `keys` is a promise of {metrics, params, tags}
// (the experiment's keys from mltrack/runs/columns; it may reject, then `fallbackKeys()` — the
// keys of the runs on screen — is offered with a note). `chosen()` gives the current column ids;
// `onChange(ids)` is called on every tick so the table follows live; `onClose()` once it closes.
export function openColumnChooser(anchor, { keys, fallbackKeys, chosen, onChange, onClose }) {
  const LIMIT = 300; // checkboxes rendered per section; typing narrows the rest
  const search = h('input', { type: 'search', class: 'chooser-search', placeholder: 'Search columns…',
                              'aria-label': 'Search columns', oninput: () => draw() });
  const list = h('div', { class: 'chooser-list' }, h('div', { class: 'loading' }, 'Loading keys…'));
  const note = h('div', { class: 'chooser-note muted' });
  const content = [
    h('div', { class: 'chooser-head' }, search,
      h('button', { type: 'button', class: 'small', onclick: () => { onChange(defaultsOf(known)); draw(); } }, 'Defaults')),
    note, list,
  ];
  const popover = openPopover(anchor, content, { className: 'column-chooser', onClose });
  search.focus();
  let known = null;

  Promise.resolve(keys).then((k) => { known = k; }, (err) => {
    known = fallbackKeys();
    note.textContent = `Showing the keys of the runs on this page: the full list could not be loaded (${err.message}).`;
  }).then(() => draw());

  function defaultsOf(k) {
    return defaultColumns(k ?? fallbackKeys());
  }

  function draw() {
    if (!known) return;
    const q = search.value.trim().toLowerCase();
    const current = chosen();
    const selected = new Set(current);
    const sections = [
      { group: 'Attributes', ids: ATTRIBUTE_IDS, label: (id) => ATTRIBUTE_BY_ID.get(id).label },
      { group: 'Metrics', ids: (known.metrics ?? []).map((k) => `metrics.${k}`), label: (id) => id.slice(8) },
      { group: 'Params', ids: (known.params ?? []).map((k) => `params.${k}`), label: (id) => id.slice(7) },
      // Tags shown as attribute columns (source, commit) and the run name are not offered twice.
      { group: 'Tags', ids: (known.tags ?? []).map((k) => `tags.${k}`).filter((id) => !ATTRIBUTE_BY_ID.has(id) && id !== 'tags.mlflow.runName'),
        label: (id) => id.slice(5) },
    ];
    // Chosen columns no run carries any more (or typed into the URL) stay listed so they can be removed.
    for (const id of current) {
      const p = parse(id);
      const section = sections.find((s) => s.group === p?.group);
      if (section && !section.ids.includes(id)) section.ids = [...section.ids, id];
    }
    const nodes = [];
    for (const section of sections) {
      const matching = section.ids.filter((id) => !q || section.label(id).toLowerCase().includes(q));
      if (!matching.length) continue;
      const shown = matching.slice(0, LIMIT);
      const setAll = (on) => {
        const next = chosen().filter((id) => on || !matching.includes(id));
        if (on) for (const id of matching) if (!next.includes(id)) next.push(id);
        onChange(next);
        draw();
      };
      nodes.push(h('div', { class: 'chooser-section', dataset: { group: section.group } },
        h('div', { class: 'chooser-section-head' },
          h('span', {}, section.group, h('span', { class: 'muted' }, ` ${matching.filter((id) => selected.has(id)).length}/${matching.length}`)),
          h('span', {},
            h('button', { type: 'button', class: 'link-button', onclick: () => setAll(true) }, 'all'),
            ' · ',
            h('button', { type: 'button', class: 'link-button', onclick: () => setAll(false) }, 'none'))),
        shown.map((id) => h('label', { class: 'chooser-item', title: id },
          h('input', {
            type: 'checkbox', checked: selected.has(id), dataset: { col: id },
            onchange: (event) => {
              const next = chosen().filter((c) => c !== id);
              if (event.target.checked) next.push(id);
              onChange(next);
            },
          }),
          h('span', {}, section.label(id)))),
        matching.length > shown.length
          ? h('div', { class: 'muted chooser-more' }, `${matching.length - shown.length} more — type to narrow`) : null));
    }
    list.replaceChildren(...(nodes.length ? nodes : [h('div', { class: 'muted empty' }, `No column matches '${search.value}'.`)]));
  }
  return popover;
}
