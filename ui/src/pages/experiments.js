// The experiments page (#/experiments?q=<name search>&order=<field DIR>): the active
// experiments, a page of 50 at a time from experiments/search, searched by name
// (`name ILIKE '%q%'`, case-insensitive), sortable by name or creation time. Each name links to
// its runs leaderboard; experiments can be created, renamed and deleted (after a confirmation),
// and several can be picked to open one leaderboard over all of them (#/experiments/<id>,<id>).
import { api } from '../api.js';
import { h, clear, errorBox, formatTime } from '../dom.js';
import { hashFor } from '../main.js';
import { openDialog } from '../dialog.js';

const PAGE_SIZE = 50;
const DEFAULT_ORDER = 'creation_time DESC';
const SORTABLE = { name: 'Name', creation_time: 'Created', last_update_time: 'Last modified' };

// The search filter for a typed name fragment. A fragment holding a single quote is quoted with
// double quotes (the filter grammar has no escapes); one holding both kinds drops the double quotes.
export function nameFilter(text) {
  const q = text.trim();
  if (!q) return undefined;
  if (!q.includes("'")) return `name ILIKE '%${q}%'`;
  return `name ILIKE "%${q.replaceAll('"', '')}%"`;
}

export async function renderExperiments(container, { query, navigate }) {
  const state = {
    q: query.get('q') ?? '',
    order: SORTABLE[(query.get('order') ?? '').split(' ')[0]] ? query.get('order') : DEFAULT_ORDER,
    tokens: [undefined],
    page: 0,
    selected: new Map(), // experiment id -> name, kept across pages and searches
    seq: 0,
  };
  let controller = null;
  let debounce = null;

  const search = h('input', {
    type: 'search', class: 'exp-search', placeholder: 'Search experiments by name', value: state.q,
    'aria-label': 'Search experiments by name',
    oninput: () => {
      clearTimeout(debounce);
      debounce = setTimeout(applySearch, 250);
    },
    onkeydown: (event) => {
      if (event.key === 'Enter') {
        clearTimeout(debounce);
        applySearch();
      }
    },
  });
  const compareButton = h('button', { type: 'button', class: 'exp-compare', onclick: compareSelected },
                          'Compare runs');
  const selectionNote = h('span', { class: 'muted exp-selection' });
  const createButton = h('button', { type: 'button', class: 'primary exp-create', onclick: createDialog },
                         'New experiment');
  const body = h('div', { class: 'exp-body' });
  const pager = h('div', { class: 'pager' });

  container.append(h('div', { class: 'page experiments-page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Experiments'), createButton),
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, search), selectionNote, compareButton),
    body, pager));
  updateSelection();
  await load();

  return () => {
    clearTimeout(debounce);
    controller?.abort();
  };

  function syncUrl() {
    navigate(hashFor('/experiments', { q: state.q.trim(), order: state.order === DEFAULT_ORDER ? '' : state.order }),
             { silent: true });
  }

  function applySearch() {
    if (search.value === state.q) return;
    state.q = search.value;
    state.tokens = [undefined];
    state.page = 0;
    syncUrl();
    load();
  }

  async function load() {
    const mine = ++state.seq;
    controller?.abort();
    controller = new AbortController();
    body.classList.add('busy');
    let answer;
    try {
      answer = await api.post('experiments/search', {
        // Ties (experiments created in the same millisecond) break by id in the same direction,
        // so "newest first" stays newest first.
        max_results: PAGE_SIZE, filter: nameFilter(state.q),
        order_by: [state.order, `experiment_id ${state.order.endsWith('DESC') ? 'DESC' : 'ASC'}`],
        page_token: state.tokens[state.page], view_type: 'ACTIVE_ONLY',
      }, { signal: controller.signal });
    } catch (err) {
      if (err.name === 'AbortError' || mine !== state.seq) return;
      body.classList.remove('busy');
      clear(body).append(errorBox(err, 'Could not list experiments'));
      pager.replaceChildren();
      return;
    }
    if (mine !== state.seq) return;
    body.classList.remove('busy');
    const experiments = answer.experiments ?? [];
    state.tokens[state.page + 1] = answer.next_page_token || null;
    renderTable(experiments);
    renderPager(experiments.length);
  }

  function renderTable(experiments) {
    clear(body);
    if (!experiments.length) {
      body.append(h('div', { class: 'empty-state' },
        state.q.trim()
          ? h('p', {}, `No experiment name contains '${state.q.trim()}'.`)
          : [h('p', {}, 'No experiments yet.'), h('p', { class: 'muted' }, 'Create one to start logging runs to it.')]));
      return;
    }
    const pageBox = h('input', {
      type: 'checkbox', 'aria-label': 'Select all on this page',
      checked: experiments.every((e) => state.selected.has(e.experiment_id)),
      onchange: () => {
        for (const e of experiments) {
          if (pageBox.checked) state.selected.set(e.experiment_id, e.name);
          else state.selected.delete(e.experiment_id);
        }
        body.querySelectorAll('tbody input[type=checkbox]').forEach((box) => { box.checked = pageBox.checked; });
        updateSelection();
      },
    });
    const header = (field, label, extra = {}) => {
      if (!SORTABLE[field]) return h('th', extra, label);
      const [current, dir] = state.order.split(' ');
      const sorted = current === field;
      return h('th', { ...extra, class: `sortable${sorted ? ' sorted' : ''}`, 'aria-sort': sorted ? (dir === 'ASC' ? 'ascending' : 'descending') : null,
                       onclick: () => sortBy(field) },
               label, sorted ? h('span', { class: 'sort-arrow' }, dir === 'ASC' ? ' ▲' : ' ▼') : null);
    };
    const rows = experiments.map((e) => h('tr', { dataset: { experimentId: e.experiment_id } },
      h('td', { class: 'check' }, h('input', {
        type: 'checkbox', 'aria-label': `Select ${e.name}`, checked: state.selected.has(e.experiment_id),
        onchange: (event) => {
          if (event.target.checked) state.selected.set(e.experiment_id, e.name);
          else state.selected.delete(e.experiment_id);
          updateSelection();
        },
      })),
      h('td', { class: 'exp-name' }, h('a', { href: hashFor(`/experiments/${e.experiment_id}`) }, e.name)),
      h('td', { class: 'num muted' }, e.experiment_id),
      h('td', {}, formatTime(e.creation_time)),
      h('td', {}, formatTime(e.last_update_time)),
      h('td', { class: 'muted mono exp-location', title: e.artifact_location }, e.artifact_location ?? ''),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'small exp-rename', onclick: () => renameDialog(e) }, 'Rename'),
        h('button', { type: 'button', class: 'small danger exp-delete', onclick: () => deleteDialog(e) }, 'Delete'))));
    body.append(h('div', { class: 'table-frame' }, h('table', { class: 'grid experiments' },
      h('thead', {}, h('tr', {}, h('th', { class: 'check' }, pageBox), header('name', 'Name'),
                       h('th', { class: 'num' }, 'ID'), header('creation_time', 'Created'),
                       header('last_update_time', 'Last modified'), h('th', {}, 'Artifact location'), h('th', {}))),
      h('tbody', {}, rows))));
  }

  function renderPager(count) {
    const first = state.page * PAGE_SIZE;
    const hasNext = Boolean(state.tokens[state.page + 1]);
    pager.replaceChildren(
      h('span', { class: 'muted pager-range' }, count ? `experiments ${first + 1}–${first + count}` : ''),
      h('button', { type: 'button', class: 'pager-prev', disabled: state.page === 0,
                    onclick: () => { state.page -= 1; load(); } }, '‹ Previous'),
      h('button', { type: 'button', class: 'pager-next', disabled: !hasNext,
                    onclick: () => { state.page += 1; load(); } }, 'Next ›'));
  }

  function sortBy(field) {
    const [current, dir] = state.order.split(' ');
    state.order = `${field} ${current === field && dir === 'ASC' ? 'DESC' : 'ASC'}`;
    state.tokens = [undefined];
    state.page = 0;
    syncUrl();
    load();
  }

  function updateSelection() {
    const n = state.selected.size;
    compareButton.disabled = n < 2;
    compareButton.textContent = n >= 2 ? `Compare runs (${n})` : 'Compare runs';
    compareButton.title = n < 2 ? 'Select two or more experiments to list their runs together' : '';
    selectionNote.textContent = n ? `${n} selected` : '';
  }

  function compareSelected() {
    const ids = [...state.selected.keys()];
    if (ids.length >= 2) navigate(hashFor(`/experiments/${ids.join(',')}`));
  }

  function createDialog() {
    const name = h('input', { type: 'text', class: 'exp-name-input', placeholder: 'e.g. recommender-als', 'aria-label': 'Experiment name' });
    openDialog({
      title: 'New experiment',
      body: [h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Name'), name)],
      actions: [{
        label: 'Create', primary: true,
        run: async () => {
          if (!name.value.trim()) throw new Error('Enter a name for the experiment.');
          const { experiment_id: id } = await api.post('experiments/create', { name: name.value.trim() });
          state.selected.delete(id);
          await load();
          flash(id);
        },
      }],
    });
  }

  function renameDialog(experiment) {
    const name = h('input', { type: 'text', class: 'exp-name-input', value: experiment.name, 'aria-label': 'New name' });
    openDialog({
      title: `Rename experiment '${experiment.name}'`,
      body: [h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'New name'), name)],
      actions: [{
        label: 'Rename', primary: true,
        run: async () => {
          const newName = name.value.trim();
          if (!newName) throw new Error('The name cannot be empty.');
          if (newName === experiment.name) return true;
          await api.post('experiments/update', { experiment_id: experiment.experiment_id, new_name: newName });
          if (state.selected.has(experiment.experiment_id)) state.selected.set(experiment.experiment_id, newName);
          await load();
          flash(experiment.experiment_id);
        },
      }],
    });
  }

  function deleteDialog(experiment) {
    openDialog({
      title: `Delete experiment '${experiment.name}'?`,
      body: [h('p', {}, 'The experiment and its runs move to the deleted state; they no longer appear in lists or searches.')],
      actions: [{
        label: 'Delete', danger: true,
        run: async () => {
          await api.post('experiments/delete', { experiment_id: experiment.experiment_id });
          state.selected.delete(experiment.experiment_id);
          updateSelection();
          await load();
        },
      }],
    });
  }

  // Highlights the row of an experiment just created or renamed.
  function flash(id) {
    body.querySelector(`tr[data-experiment-id="${CSS.escape(id)}"]`)?.classList.add('flash');
  }
}
