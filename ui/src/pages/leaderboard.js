// The runs leaderboard (#/experiments/<id>[,<id>...]): the runs of one or several experiments,
// a page at a time, sorted and filtered on the server. The view lives in the URL query so it is
// a link:
//   filter  the user's filter (runs/search grammar)      order   "<column id> ASC|DESC"
//   cols    comma-separated column ids (default: attribute columns + metrics/params, see
//           defaultColumns)                                nested  0 = flat list (default 1)
//   size    page size (default 100)
// One page costs one runs/search plus one child-counts call; the experiment's key list (for the
// column chooser and the default columns) loads in parallel and never delays the rows. While a
// run on screen is RUNNING, its rows are refreshed every 3 s in place.
import { api, mltrack } from '../api.js';
import { h, clear, errorBox } from '../dom.js';
import { hashFor } from '../main.js';
import { RunTable } from '../leaderboard_table.js';
import { createFilterBox, effectiveFilter, isFilterError } from '../leaderboard_filter.js';
import {
  defaultColumns, keysOfRuns, isColumnId, orderExpression, openColumnChooser, NAME_COLUMN, EXPERIMENT_COLUMN,
} from '../leaderboard_columns.js';

const PAGE_SIZES = [10, 25, 50, 100, 250, 500, 1000];
const DEFAULT_SIZE = 100;
const DEFAULT_ORDER = { id: 'attributes.start_time', dir: 'DESC' };
const POLL_MS = 3000;
const MAX_CHILDREN = 1000;

function parseOrder(text) {
  if (!text) return DEFAULT_ORDER;
  const match = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(text.trim());
  const id = match[1];
  if (!isColumnId(id) || !orderExpression(id)) return DEFAULT_ORDER;
  return { id, dir: (match[2] ?? 'ASC').toUpperCase() };
}

const quote = (id) => `'${id.replaceAll("'", '')}'`;

export async function renderLeaderboard(container, { params, query, navigate }) {
  const ids = [...new Set(params.ids.split(',').map((s) => s.trim()).filter(Boolean))];
  const colsParam = query.get('cols');
  const size = Number(query.get('size'));
  const state = {
    ids,
    filter: query.get('filter') ?? '',
    order: parseOrder(query.get('order')),
    cols: colsParam !== null ? colsParam.split(',').filter((id) => isColumnId(id) && id !== NAME_COLUMN) : null,
    userCols: colsParam !== null, // false: the default choice, which follows the key list
    nested: query.get('nested') !== '0',
    size: PAGE_SIZES.includes(size) ? size : DEFAULT_SIZE,
    tokens: [undefined],
    page: 0,
    selected: new Set(),
    keys: null, // {metrics, params, tags} once mltrack/runs/columns answered
    seq: 0,
    expandWanted: new Set(), // parents the user opened; reopened when they show up again
    gone: new Set(), // running runs the live refresh no longer finds (deleted): not polled
  };
  const experimentNames = new Map(ids.map((id) => [id, id]));
  const multi = ids.length > 1;
  const pageController = new AbortController(); // requests that live as long as the page
  let controller = new AbortController(); // requests of the current load (a new load aborts them)
  let pollTimer = null;
  let disposed = false;
  let chooser = null;

  const table = new RunTable({
    selected: state.selected, nested: state.nested, experimentNames,
    onSort: sortBy, onToggle: toggle, onSelect: updateSelection,
  });

  // Page skeleton.
  const title = h('h1', { class: 'lb-title' }, multi ? `Runs of ${ids.length} experiments` : `Experiment ${ids[0]}`);
  const subtitle = h('div', { class: 'lb-subtitle muted' });
  const filterBox = createFilterBox({ value: state.filter, onApply: applyFilter });
  const columnsButton = h('button', { type: 'button', class: 'columns-button', onclick: toggleChooser }, 'Columns');
  const nestedBox = h('input', { type: 'checkbox', checked: state.nested, onchange: () => setNested(nestedBox.checked) });
  const csvLink = h('a', { class: 'button csv-link', download: 'runs.csv' }, 'Download CSV');
  const compareButton = h('button', { type: 'button', class: 'primary compare-button', onclick: compareSelected }, 'Compare');
  const selectionNote = h('span', { class: 'selection-note muted' });
  const rangeLabel = h('span', { class: 'pager-range muted' });
  const prevButton = h('button', { type: 'button', class: 'pager-prev', onclick: () => goPage(-1) }, '‹ Previous');
  const nextButton = h('button', { type: 'button', class: 'pager-next', onclick: () => goPage(1) }, 'Next ›');
  const sizeSelect = h('select', { class: 'page-size', 'aria-label': 'Runs per page', onchange: () => setSize(Number(sizeSelect.value)) },
    PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === state.size }, `${n} per page`)));
  const messageSlot = h('div', { class: 'lb-messages' });
  const frame = h('div', { class: 'table-frame lb-frame' }, table.el);
  const emptySlot = h('div', { class: 'lb-empty' });

  const pageEl = h('div', { class: 'page leaderboard-page' },
    h('div', { class: 'breadcrumbs' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / '),
    h('div', { class: 'page-head' }, h('div', {}, title, subtitle)),
    h('div', { class: 'toolbar lb-toolbar' }, h('div', { class: 'grow' }, filterBox.el),
      columnsButton,
      h('label', { class: 'toggle', title: 'List top-level runs with their child runs under them' }, nestedBox, ' Group child runs'),
      csvLink, compareButton),
    messageSlot,
    h('div', { class: 'table-bar' }, selectionNote, h('span', { class: 'grow' }),
      rangeLabel, prevButton, nextButton, sizeSelect),
    frame, emptySlot);
  container.append(pageEl);
  updateSelection();
  updateCsvLink();

  // The key list (chooser, default columns) and experiment names load beside the first page.
  const keysPromise = mltrack.get('runs/columns', { experiment_ids: ids }, { signal: pageController.signal });
  keysPromise.then((keys) => {
    state.keys = { metrics: keys.metrics ?? [], params: keys.params ?? [], tags: keys.tags ?? [] };
    if (!state.userCols && state.cols && !disposed) {
      const next = defaultColumns(state.keys);
      if (next.join(',') !== state.cols.join(',')) setColumns(next, { user: false });
    }
  }, () => {});
  const experimentsPromise = Promise.all(ids.map((id) => api.get('experiments/get', { experiment_id: id }, { signal: pageController.signal })
    .then((answer) => answer.experiment, (err) => { throw Object.assign(err, { experimentId: id }); })));
  const firstLoad = load();
  try {
    const experiments = await experimentsPromise;
    showExperiments(experiments);
  } catch (err) {
    if (err.name === 'AbortError' || disposed) return cleanup;
    cleanup();
    const what = err.status === 404 || err.code === 'RESOURCE_DOES_NOT_EXIST'
      ? `Unknown experiment '${err.experimentId}'` : `Could not load experiment '${err.experimentId}'`;
    clear(container).append(h('div', { class: 'page' },
      h('div', { class: 'breadcrumbs' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / '),
      errorBox(err, what), h('p', {}, h('a', { href: '#/experiments' }, 'Back to the experiments'))));
    return cleanup;
  }
  await firstLoad;
  return cleanup;

  function cleanup() {
    disposed = true;
    pageController.abort();
    controller.abort();
    clearTimeout(pollTimer);
    chooser?.close();
  }

  function showExperiments(experiments) {
    for (const e of experiments) experimentNames.set(e.experiment_id, e.name);
    if (!multi) {
      const e = experiments[0];
      title.textContent = e.name;
      csvLink.download = `${e.name.replace(/[^\w.-]+/g, '_')}-runs.csv`;
      const note = e.tags?.find((t) => t.key === 'mlflow.note.content')?.value;
      subtitle.replaceChildren(...[h('span', {}, `ID ${e.experiment_id}`), h('span', { class: 'mono' }, e.artifact_location ?? ''),
        e.lifecycle_stage === 'deleted' ? h('span', { class: 'status FAILED' }, 'deleted') : null,
        note ? h('span', { class: 'lb-note' }, note) : null].filter(Boolean));
    } else {
      subtitle.replaceChildren(...experiments.map((e) => h('a', { class: 'chip', href: `#/experiments/${e.experiment_id}` }, e.name)));
    }
    // Experiment cells and the empty state drawn before the names arrived show ids: redraw them.
    if (multi) table.setColumns(shownColumns(), { showExperiment: true, sort: state.order });
    if (state.shown && !state.shown.length) showEmpty(state.shown);
  }

  function shownColumns() {
    return state.cols ?? [];
  }

  function syncUrl() {
    const order = state.order.id === DEFAULT_ORDER.id && state.order.dir === DEFAULT_ORDER.dir ? '' : `${state.order.id} ${state.order.dir}`;
    navigate(hashFor(`/experiments/${ids.join(',')}`, {
      filter: state.filter.trim(), order, cols: state.userCols ? (state.cols.join(',') || '-') : '',
      nested: state.nested ? '' : '0', size: state.size === DEFAULT_SIZE ? '' : state.size,
    }), { silent: true });
  }

  function orderBy() {
    return `${orderExpression(state.order.id)} ${state.order.dir}`;
  }

  function searchBody(extra = {}) {
    return { experiment_ids: ids, filter: effectiveFilter(state.filter, state.nested), order_by: [orderBy()], ...extra };
  }

  // Loads the current page. On failure the rows on screen stay; a refused filter is shown under
  // the search box, any other error above the table.
  async function load() {
    const mine = ++state.seq;
    controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    clearTimeout(pollTimer);
    pollTimer = null;
    frame.classList.add('busy');
    let answer;
    try {
      answer = await api.post('runs/search', searchBody({ max_results: state.size, page_token: state.tokens[state.page] ?? undefined }),
                              { signal });
    } catch (err) {
      if (err.name === 'AbortError' || mine !== state.seq) return;
      frame.classList.remove('busy');
      await showLoadError(err, signal);
      schedulePoll();
      return;
    }
    if (mine !== state.seq) return;
    frame.classList.remove('busy');
    filterBox.clearError();
    messageSlot.replaceChildren();
    const runs = answer.runs ?? [];
    state.tokens[state.page + 1] = answer.next_page_token || null;
    if (!state.cols) state.cols = defaultColumns(state.keys ?? keysOfRuns(runs));
    table.setNested(state.nested);
    table.setColumns(shownColumns(), { showExperiment: multi, sort: state.order, redraw: false });
    table.setRuns(runs);
    showEmpty(runs);
    updatePager(runs.length);
    updateSelection();
    updateCsvLink();
    schedulePoll();
    if (state.nested && runs.length) {
      await loadCounts(runs.map((r) => r.info.run_id), signal);
      if (mine !== state.seq) return;
      for (const id of state.expandWanted) {
        if (table.rows.has(id) && table.counts[id]) expand(id);
      }
    }
  }

  async function showLoadError(err, signal) {
    if (isFilterError(err) && state.filter.trim()) {
      // The server quotes the filter it was sent; when that was the user's filter wrapped with the
      // top-level restriction, ask again with the user's filter alone so the message and position
      // are about what the user typed.
      let shown = err;
      const sent = effectiveFilter(state.filter, state.nested);
      if (sent !== state.filter.trim()) {
        try {
          await api.post('runs/search', { experiment_ids: ids, filter: state.filter.trim(), max_results: 1 }, { signal });
        } catch (again) {
          if (again.name === 'AbortError') return;
          if (isFilterError(again)) shown = again;
        }
      }
      filterBox.showError(shown, state.filter.trim());
      return;
    }
    messageSlot.replaceChildren(errorBox(err, 'Could not load the runs'));
  }

  async function loadCounts(runIds, signal) {
    if (!runIds.length) return;
    try {
      const answer = await mltrack.post('runs/child-counts', { run_ids: runIds.slice(0, 1000) }, { signal });
      table.setCounts(answer.counts ?? {});
    } catch (err) {
      if (err.name === 'AbortError') return;
      console.warn('child counts unavailable:', err.message);
    }
  }

  function showEmpty(runs) {
    state.shown = runs;
    frame.hidden = runs.length === 0;
    if (runs.length) {
      emptySlot.replaceChildren();
      return;
    }
    if (state.page > 0) {
      emptySlot.replaceChildren(h('div', { class: 'empty-state' }, h('p', {}, 'No more runs.')));
    } else if (state.filter.trim()) {
      emptySlot.replaceChildren(h('div', { class: 'empty-state' }, h('p', {}, 'No runs match this filter.'),
        h('p', { class: 'muted' }, 'Change the filter, or clear it to see every run.')));
    } else {
      const name = multi ? 'these experiments' : (experimentNames.get(ids[0]) ?? ids[0]);
      emptySlot.replaceChildren(h('div', { class: 'empty-state' },
        h('p', { class: 'empty-title' }, multi ? 'No runs in these experiments yet.' : 'No runs in this experiment yet.'),
        h('p', { class: 'muted' }, 'Runs logged to it show up here. For example, from Python:'),
        h('pre', { class: 'empty-snippet' },
          `import mlflow\nmlflow.set_tracking_uri("${location.origin}")\nmlflow.set_experiment("${multi ? 'my-experiment' : name}")\n` +
          'with mlflow.start_run():\n    mlflow.log_param("lr", 0.1)\n    mlflow.log_metric("rmse", 0.82)')));
    }
  }

  function updatePager(count) {
    const first = state.page * state.size;
    rangeLabel.textContent = count ? `rows ${first + 1}–${first + count}` : '';
    prevButton.disabled = state.page === 0;
    nextButton.disabled = !state.tokens[state.page + 1];
  }

  function resetPaging() {
    state.tokens = [undefined];
    state.page = 0;
  }

  function goPage(delta) {
    const next = state.page + delta;
    if (next < 0 || (delta > 0 && !state.tokens[next])) return;
    state.page = next;
    load();
  }

  function setSize(n) {
    state.size = n;
    resetPaging();
    syncUrl();
    load();
  }

  function applyFilter(text) {
    state.filter = text;
    resetPaging();
    syncUrl();
    load();
  }

  function setNested(on) {
    state.nested = on;
    resetPaging();
    syncUrl();
    load();
  }

  function sortBy(id) {
    state.order = state.order.id === id ? { id, dir: state.order.dir === 'ASC' ? 'DESC' : 'ASC' } : { id, dir: 'ASC' };
    table.setSort(state.order);
    resetPaging();
    syncUrl();
    load();
  }

  function setColumns(next, { user = true } = {}) {
    state.cols = next;
    if (user) state.userCols = true;
    table.setColumns(shownColumns(), { showExperiment: multi, sort: state.order });
    syncUrl();
    updateCsvLink();
  }

  function toggleChooser() {
    if (chooser) {
      chooser.close();
      return;
    }
    chooser = openColumnChooser(columnsButton, {
      keys: keysPromise.then(() => state.keys),
      fallbackKeys: () => keysOfRuns(table.runs()),
      chosen: () => shownColumns(),
      onChange: (next) => setColumns(next),
      onClose: () => {
        chooser = null;
        columnsButton.classList.remove('active');
      },
    });
    columnsButton.classList.add('active');
  }

  // Expands or collapses a parent's child runs.
  function toggle(id) {
    if (table.isExpanded(id)) {
      state.expandWanted.delete(id);
      table.collapse(id);
      return;
    }
    state.expandWanted.add(id);
    expand(id);
  }

  async function expand(id) {
    const { signal } = controller;
    table.showChildNote(id, h('span', { class: 'muted' }, 'Loading child runs…'));
    let answer;
    try {
      answer = await api.post('runs/search', {
        experiment_ids: ids, filter: `tags.mlflow.parentRunId = ${quote(id)}`,
        order_by: [orderBy()], max_results: MAX_CHILDREN,
      }, { signal });
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      table.showChildNote(id, errorBox(err, 'Could not load the child runs'));
      return;
    }
    if (signal.aborted || !state.expandWanted.has(id)) return;
    const children = answer.runs ?? [];
    table.insertChildren(id, children, answer.next_page_token
      ? h('span', { class: 'muted' }, `Showing the first ${MAX_CHILDREN} child runs; filter on tags.mlflow.parentRunId = '${id}' to see them all.`)
      : null);
    if (children.length) await loadCounts(children.map((r) => r.info.run_id), signal);
    schedulePoll();
  }

  function updateSelection() {
    const n = state.selected.size;
    compareButton.disabled = n < 2;
    compareButton.textContent = n ? `Compare (${n})` : 'Compare';
    compareButton.title = n < 2 ? 'Select two or more runs to compare them' : '';
    selectionNote.replaceChildren(n ? h('span', {}, `${n} selected · `,
      h('button', { type: 'button', class: 'link-button', onclick: clearSelection }, 'clear')) : '');
  }

  function clearSelection() {
    state.selected.clear();
    table.selectPage(false);
    updateSelection();
  }

  function compareSelected() {
    if (state.selected.size >= 2) navigate(`#/compare?runs=${[...state.selected].join(',')}`);
  }

  function updateCsvLink() {
    const columns = ['attributes.run_id', NAME_COLUMN, ...(multi ? [EXPERIMENT_COLUMN] : []), ...shownColumns()];
    csvLink.href = mltrack.url('runs/export-csv', {
      experiment_ids: ids, filter: effectiveFilter(state.filter, state.nested),
      order_by: orderBy(), columns,
    });
  }

  // Live refresh: while a run on screen is RUNNING, fetch those runs every POLL_MS (one
  // runs/search by run id per 100 runs) and redraw their changed cells; the page's other rows are
  // not touched. Stops when none is running, on a new load, and on leaving the page.
  function schedulePoll() {
    if (disposed || pollTimer) return;
    if (!runningIds().length) return;
    pollTimer = setTimeout(poll, POLL_MS);
  }

  function runningIds() {
    return table.runningIds().filter((id) => !state.gone.has(id));
  }

  async function poll() {
    const { signal } = controller;
    if (document.hidden) { // a background tab asks nothing until it is looked at again
      pollTimer = null;
      schedulePoll();
      return;
    }
    const running = runningIds();
    const runExperiments = [...new Set(table.runs().map((r) => r.info.experiment_id))];
    try {
      for (let i = 0; i < running.length; i += 100) {
        const chunk = running.slice(i, i + 100);
        const answer = await api.post('runs/search', {
          experiment_ids: runExperiments, filter: `attributes.run_id IN (${chunk.map(quote).join(', ')})`, max_results: chunk.length,
        }, { signal });
        const found = new Set();
        for (const run of answer.runs ?? []) {
          found.add(run.info.run_id);
          table.updateRun(run);
        }
        chunk.filter((id) => !found.has(id)).forEach((id) => state.gone.add(id));
      }
      if (state.nested) await refreshCounts(running, signal);
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      // A failed refresh is retried on the next tick; the rows keep their last values.
    }
    if (signal.aborted) return;
    table.tick();
    pollTimer = null;
    schedulePoll();
  }

  // A running parent (a sweep) may gain children: refresh its count, and its children when open.
  async function refreshCounts(running, signal) {
    const before = Object.fromEntries(running.map((id) => [id, table.counts[id] ?? 0]));
    await loadCounts(running, signal);
    for (const id of running) {
      if ((table.counts[id] ?? 0) !== before[id] && table.isExpanded(id)) expand(id);
    }
  }
}
