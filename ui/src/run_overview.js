// The run page's Overview tab: the run's details, its description (the mlflow.note.content tag,
// editable), and its parameters (searchable), latest metrics (each linking to its chart) and
// tags (system mlflow.* tags hidden unless asked for). refresh(run) redraws everything but a
// description being edited and the search box.
import { api } from './api.js';
import { hashFor } from './main.js';
import { h, errorBox, formatTime, formatDuration, formatNumber, tagValue } from './dom.js';

const NOTE_TAG = 'mlflow.note.content';

function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function detailsRows(run, ctx) {
  const { info } = run;
  const tag = (key) => tagValue(run, key);
  const end = info.end_time ? Number(info.end_time) : null;
  const duration = end ? formatDuration(end - Number(info.start_time))
    : info.status === 'RUNNING' ? `${formatDuration(Date.now() - Number(info.start_time))} (running)` : '';
  const parentId = tag('mlflow.parentRunId');
  const sourceType = tag('mlflow.source.type');
  const commit = tag('mlflow.source.git.commit');
  const rows = [
    ['Run ID', h('code', {}, info.run_id)],
    ['Run name', info.run_name || tag('mlflow.runName') || ''],
    ['Status', h('span', { class: `status ${info.status}` }, info.status)],
    ['Start time', formatTime(info.start_time)],
    ['End time', formatTime(info.end_time)],
    ['Duration', duration],
    ['User', info.user_id || tag('mlflow.user') || ''],
    ['Source', tag('mlflow.source.name')
      ? [h('span', { class: 'mono' }, tag('mlflow.source.name')), sourceType ? [' ', h('span', { class: 'chip' }, sourceType)] : null]
      : sourceType ?? ''],
    ['Git commit', commit ? h('code', { title: commit }, commit) : ''],
    ['Experiment', h('a', { href: `#/experiments/${encodeURIComponent(info.experiment_id)}` },
                     ctx.experiment?.name ?? info.experiment_id)],
    ['Parent run', parentId ? h('a', { href: `#/runs/${encodeURIComponent(parentId)}` }, parentId) : ''],
    ['Lifecycle stage', info.lifecycle_stage ?? ''],
    ['Artifact URI', h('code', { class: 'wrap' }, info.artifact_uri ?? '')],
  ];
  const datasets = run.inputs?.dataset_inputs ?? [];
  if (datasets.length) {
    rows.push(['Datasets', datasets.map((d) => h('span', { class: 'chip', title: d.dataset?.digest ?? '' },
                                                 d.dataset?.name ?? 'dataset'))]);
  }
  return h('table', { class: 'grid kv run-details' }, h('tbody', {}, rows.map(([k, v]) =>
    h('tr', {}, h('th', {}, k), h('td', {}, v === '' ? h('span', { class: 'muted' }, '—') : v)))));
}

// A "Name | Value" table, or an empty note.
function kvTable(cls, rows, emptyText, head = ['Name', 'Value']) {
  if (!rows.length) return h('div', { class: 'empty' }, emptyText);
  return h('table', { class: `grid ${cls}` },
    h('thead', {}, h('tr', {}, head.map((t, i) => h('th', { class: i > 0 && cls === 'run-metrics' ? 'num' : '' }, t)))),
    h('tbody', {}, rows));
}

export async function renderOverview(el, ctx) {
  let run = ctx.run;
  const details = h('div', {});
  const descriptionBody = h('div', {});
  const paramsBody = h('div', { class: 'scroll-box' });
  const metricsBody = h('div', { class: 'scroll-box' });
  const tagsBody = h('div', { class: 'scroll-box' });
  const paramsCount = h('span', { class: 'muted count' });
  const metricsCount = h('span', { class: 'muted count' });
  const tagsCount = h('span', { class: 'muted count' });
  const paramSearch = h('input', { type: 'search', placeholder: 'Search parameters', class: 'param-search',
                                   'aria-label': 'Search parameters', oninput: () => drawParams() });
  const showSystem = h('input', { type: 'checkbox', class: 'show-system-tags', onchange: () => drawTags() });
  let editing = false;

  // Two columns (details and parameters | description and metrics), then the tags.
  el.append(h('div', { class: 'run-overview' },
    h('div', { class: 'run-column' },
      h('section', { class: 'panel run-details-panel' }, h('h2', {}, 'Details'), details),
      h('section', { class: 'panel run-params' },
        h('div', { class: 'section-head' }, h('h2', {}, 'Parameters ', paramsCount), paramSearch), paramsBody)),
    h('div', { class: 'run-column' },
      h('section', { class: 'panel run-description' }, h('h2', {}, 'Description'), descriptionBody),
      h('section', { class: 'panel run-metrics-panel' },
        h('div', { class: 'section-head' }, h('h2', {}, 'Metrics ', metricsCount)), metricsBody)),
    h('section', { class: 'panel run-tags' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Tags ', tagsCount),
        h('label', { class: 'muted' }, showSystem, ' Show system tags (mlflow.*)')), tagsBody)));

  function drawParams() {
    const params = [...(run.data?.params ?? [])].sort(byKey);
    const needle = paramSearch.value.trim().toLowerCase();
    const shown = needle ? params.filter((p) => p.key.toLowerCase().includes(needle) ||
                                                String(p.value).toLowerCase().includes(needle)) : params;
    paramsCount.textContent = needle ? `${shown.length} of ${params.length}` : String(params.length);
    paramsBody.replaceChildren(kvTable('run-params-table',
      shown.map((p) => h('tr', {}, h('td', { class: 'key' }, p.key), h('td', { class: 'value' }, p.value))),
      params.length ? `No parameter matches '${paramSearch.value.trim()}'.` : 'No parameters.'));
  }

  function drawMetrics() {
    const metrics = [...(run.data?.metrics ?? [])].sort(byKey);
    metricsCount.textContent = String(metrics.length);
    metricsBody.replaceChildren(kvTable('run-metrics', metrics.map((m) => h('tr', {},
      h('td', { class: 'key' }, h('a', { href: hashFor(ctx.path, { tab: 'metrics', metrics: m.key }),
                                          title: `Chart of ${m.key}` }, m.key)),
      h('td', { class: 'num' }, formatNumber(m.value)),
      h('td', { class: 'num' }, String(m.step ?? 0)),
      h('td', { class: 'num muted' }, formatTime(m.timestamp)))),
    'No metrics.', ['Name', 'Latest value', 'Step', 'Logged']));
  }

  function drawTags() {
    const tags = [...(run.data?.tags ?? [])].sort(byKey);
    const system = tags.filter((t) => t.key.startsWith('mlflow.'));
    const shown = showSystem.checked ? tags : tags.filter((t) => !t.key.startsWith('mlflow.'));
    tagsCount.textContent = showSystem.checked ? String(tags.length)
      : `${shown.length}${system.length ? ` (+${system.length} system)` : ''}`;
    tagsBody.replaceChildren(kvTable('run-tags-table', shown.map((t) =>
      h('tr', { class: t.key.startsWith('mlflow.') ? 'system' : '' },
        h('td', { class: 'key' }, t.key), h('td', { class: 'value' }, t.value))),
    system.length && !showSystem.checked ? 'No user tags.' : 'No tags.', ['Key', 'Value']));
  }

  function drawDescription() {
    const text = tagValue(run, NOTE_TAG) ?? '';
    const edit = h('button', { class: 'edit-description', onclick: () => startEdit() }, text ? 'Edit' : 'Add description');
    descriptionBody.replaceChildren(
      text ? h('div', { class: 'description-text' }, text) : h('div', { class: 'muted description-text empty-note' }, 'No description.'),
      h('div', { class: 'toolbar' }, edit));
  }

  function startEdit() {
    editing = true;
    const area = h('textarea', { class: 'description-input', rows: 6, 'aria-label': 'Description' });
    area.value = tagValue(run, NOTE_TAG) ?? '';
    const status = h('div', {});
    const save = h('button', { class: 'primary save-description', onclick: async () => {
      save.disabled = true;
      status.replaceChildren();
      try {
        await api.post('runs/set-tag', { run_id: run.info.run_id, key: NOTE_TAG, value: area.value });
        const tags = (run.data.tags ?? []).filter((t) => t.key !== NOTE_TAG);
        tags.push({ key: NOTE_TAG, value: area.value });
        run = { ...run, data: { ...run.data, tags } };
        ctx.run = run;
        editing = false;
        drawDescription();
        drawTags();
      } catch (err) {
        status.replaceChildren(errorBox(err, 'Could not save the description'));
        save.disabled = false;
      }
    } }, 'Save');
    const cancel = h('button', { onclick: () => { editing = false; drawDescription(); } }, 'Cancel');
    descriptionBody.replaceChildren(area, status, h('div', { class: 'toolbar' }, save, cancel));
    area.focus();
  }

  function drawAll() {
    details.replaceChildren(detailsRows(run, ctx));
    if (!editing) drawDescription();
    drawParams();
    drawMetrics();
    drawTags();
  }
  drawAll();

  return {
    // Unchanged data only updates the details (a running run's duration grows), so a poll does
    // not disturb what the user selects in the tables.
    refresh(fresh) {
      const same = JSON.stringify(fresh.data) === JSON.stringify(run.data);
      run = fresh;
      if (same) details.replaceChildren(detailsRows(run, ctx));
      else drawAll();
    },
  };
}
