// The leaderboard's table: a two-row header (column groups over column names, sortable headers
// with an arrow on the sorted one), one row per run of the current page, child runs indented
// under an expanded parent, a selection checkbox per row, and in-place updates of a run's cells
// (live runs) that touch only the cells whose text changed.
//
// The table holds only what is on screen: the page's runs and the children of expanded parents.
import { h } from './dom.js';
import { describeColumn, runName, NAME_COLUMN, EXPERIMENT_COLUMN } from './leaderboard_columns.js';

const GROUP_ORDER = ['', 'Attributes', 'Metrics', 'Params', 'Tags'];

export class RunTable {
  // options: {onSort(columnId), onToggle(runId), onSelect(), selected: Set, nested: bool,
  //           experimentNames: Map}
  constructor(options) {
    this.options = options;
    this.columns = [];
    this.sort = null; // {id, dir}
    this.rows = new Map(); // run id -> {tr, run, depth, cells: Map(col id -> {td, text})}
    this.counts = {}; // run id -> number of children
    this.expanded = new Set();
    this.thead = h('thead');
    this.tbody = h('tbody');
    this.selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all runs on this page',
                                  onchange: () => this.selectPage(this.selectAll.checked) });
    this.el = h('table', { class: 'grid leaderboard' }, this.thead, this.tbody);
  }

  // Sets the shown columns (ids besides run name/experiment) and the sort; redraws everything.
  // `redraw: false` skips redrawing the current rows (the caller replaces them next).
  setColumns(ids, { showExperiment, sort, redraw = true }) {
    const fixed = [NAME_COLUMN, ...(showExperiment ? [EXPERIMENT_COLUMN] : [])];
    const described = ids.filter((id) => !fixed.includes(id)).map(describeColumn);
    described.sort((a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group));
    this.columns = [...fixed.map(describeColumn), ...described];
    this.sort = sort;
    this.drawHeader();
    if (!redraw) return;
    // Redraw in screen order (children sit under their parents); notes span the new width.
    for (const tr of [...this.tbody.children]) {
      const row = this.rows.get(tr.dataset.runId);
      if (row) tr.replaceWith(this.drawRow(row));
      else tr.firstElementChild?.setAttribute('colspan', String(this.columns.length + 1));
    }
  }

  setSort(sort) {
    this.sort = sort;
    this.drawHeader();
  }

  setNested(nested) {
    this.options.nested = nested;
  }

  drawHeader() {
    const groups = [];
    for (const column of this.columns) {
      const last = groups[groups.length - 1];
      if (last && last.group === column.group) last.span += 1;
      else groups.push({ group: column.group, span: 1 });
    }
    const groupRow = h('tr', { class: 'group-row' }, h('th', { class: 'check' }),
      groups.map((g) => h('th', { colspan: String(g.span), class: g.group ? `group group-${g.group.toLowerCase()}` : 'group' }, g.group)));
    const nameRow = h('tr', { class: 'name-row' }, h('th', { class: 'check' }, this.selectAll),
      this.columns.map((column) => {
        const sorted = this.sort?.id === column.id;
        const classes = [column.num ? 'num' : '', column.sortable ? 'sortable' : '', sorted ? 'sorted' : '',
                         column.id === NAME_COLUMN ? 'name-col' : '', `kind-${(column.group || 'run').toLowerCase()}`];
        return h('th', {
          class: classes.filter(Boolean).join(' '), title: column.sortable ? `${column.title} — click to sort` : column.title,
          dataset: { col: column.id },
          'aria-sort': sorted ? (this.sort.dir === 'ASC' ? 'ascending' : 'descending') : null,
          tabindex: column.sortable ? '0' : null,
          onclick: column.sortable ? () => this.options.onSort(column.id) : null,
          onkeydown: column.sortable ? (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              this.options.onSort(column.id);
            }
          } : null,
        }, h('span', { class: 'th-label' }, column.label),
        sorted ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, this.sort.dir === 'ASC' ? '▲' : '▼') : null);
      }));
    this.thead.replaceChildren(groupRow, nameRow);
  }

  // Replaces the body with the page's runs; children of expanded parents are dropped (the page
  // re-expands them through onToggle when it wants them back).
  setRuns(runs) {
    this.rows.clear();
    this.counts = {};
    const fragment = document.createDocumentFragment();
    for (const run of runs) {
      const row = { run, depth: 0, parent: null, cells: new Map() };
      this.rows.set(run.info.run_id, row);
      fragment.append(this.drawRow(row));
    }
    this.tbody.replaceChildren(fragment);
    this.syncSelectAll();
  }

  // Records child counts ({run id: n}) and shows twisties on those rows.
  setCounts(counts) {
    Object.assign(this.counts, counts);
    for (const id of Object.keys(counts)) {
      const row = this.rows.get(id);
      if (row) this.drawTwisty(row);
    }
  }

  runIds() {
    return [...this.rows.keys()];
  }

  topLevelIds() {
    return [...this.rows.values()].filter((r) => r.depth === 0).map((r) => r.run.info.run_id);
  }

  runningIds() {
    return [...this.rows.values()].filter((r) => r.run.info.status === 'RUNNING').map((r) => r.run.info.run_id);
  }

  runs() {
    return [...this.rows.values()].map((r) => r.run);
  }

  isExpanded(id) {
    return this.expanded.has(id);
  }

  drawRow(row) {
    const id = row.run.info.run_id;
    row.cells = new Map();
    const selected = this.options.selected.has(id);
    const tr = h('tr', { class: `${row.depth ? 'child' : ''}${selected ? ' selected' : ''}`,
                         dataset: { runId: id, depth: String(row.depth) } },
      h('td', { class: 'check' }, h('input', {
        type: 'checkbox', checked: selected, 'aria-label': `Select ${runName(row.run)}`,
        onchange: (event) => this.select(id, event.target.checked),
      })));
    for (const column of this.columns) {
      const td = column.id === NAME_COLUMN ? this.nameCell(row) : h('td', { class: column.num ? 'num' : '', dataset: { col: column.id } });
      const cell = column.id === NAME_COLUMN ? { text: runName(row.run) } : column.cell(row.run, this.options);
      if (column.id !== NAME_COLUMN) fillCell(td, cell);
      row.cells.set(column.id, { td, text: cell.text, column });
      tr.append(td);
    }
    row.tr = tr;
    return tr;
  }

  nameCell(row) {
    const id = row.run.info.run_id;
    row.twisty = h('span', { class: 'twisty-slot' });
    const td = h('td', { class: 'name-col', dataset: { col: NAME_COLUMN }, style: { paddingLeft: `${8 + row.depth * 22}px` } },
      this.options.nested ? row.twisty : null,
      h('a', { href: `#/runs/${encodeURIComponent(id)}`, class: 'run-link', title: `${runName(row.run)} (${id})` }, runName(row.run)));
    this.drawTwisty(row);
    return td;
  }

  drawTwisty(row) {
    if (!row.twisty) return;
    const id = row.run.info.run_id;
    const n = this.counts[id] ?? 0;
    if (!n) {
      row.twisty.replaceChildren();
      return;
    }
    const open = this.expanded.has(id);
    row.twisty.replaceChildren(h('button', {
      type: 'button', class: `twisty${open ? ' open' : ''}`, 'aria-expanded': open ? 'true' : 'false',
      'aria-label': `${open ? 'Collapse' : 'Expand'} ${n} child run${n === 1 ? '' : 's'}`,
      title: `${n} child run${n === 1 ? '' : 's'}`,
      onclick: () => this.options.onToggle(id),
    }, h('span', { class: 'twisty-arrow' }, '▸'), h('span', { class: 'child-count' }, String(n))));
  }

  // Puts `runs` under parent `id` (after its existing descendants are removed); `note` is an
  // optional trailing text row (e.g. "first 1000 of more").
  insertChildren(parentId, runs, note) {
    const parent = this.rows.get(parentId);
    if (!parent) return;
    this.removeDescendants(parentId);
    this.expanded.add(parentId);
    const anchor = parent.tr;
    const fragment = document.createDocumentFragment();
    for (const run of runs) {
      const id = run.info.run_id;
      if (this.rows.has(id)) continue; // a run cannot show twice (cycles, or also on the page)
      const row = { run, depth: parent.depth + 1, parent: parentId, cells: new Map() };
      this.rows.set(id, row);
      fragment.append(this.drawRow(row));
    }
    if (note) {
      fragment.append(h('tr', { class: 'child note', dataset: { noteFor: parentId } },
        h('td', { colspan: String(this.columns.length + 1), style: { paddingLeft: `${38 + (parent.depth + 1) * 22}px` } }, note)));
    }
    anchor.after(fragment);
    this.drawTwisty(parent);
  }

  // A transient "loading…" or error row under a parent.
  showChildNote(parentId, content) {
    const parent = this.rows.get(parentId);
    if (!parent) return;
    this.removeDescendants(parentId);
    parent.tr.after(h('tr', { class: 'child note', dataset: { noteFor: parentId } },
      h('td', { colspan: String(this.columns.length + 1), style: { paddingLeft: `${38 + (parent.depth + 1) * 22}px` } }, content)));
  }

  collapse(parentId) {
    this.removeDescendants(parentId);
    this.expanded.delete(parentId);
    const parent = this.rows.get(parentId);
    if (parent) this.drawTwisty(parent);
  }

  removeDescendants(parentId) {
    for (const note of this.tbody.querySelectorAll(`tr[data-note-for="${CSS.escape(parentId)}"]`)) note.remove();
    for (const [id, row] of [...this.rows]) {
      if (row.parent === parentId) {
        this.removeDescendants(id);
        this.expanded.delete(id);
        row.tr.remove();
        this.rows.delete(id);
      }
    }
  }

  // Replaces a shown run's data and redraws the cells whose text changed. Returns true when the
  // run is on screen.
  updateRun(run) {
    const row = this.rows.get(run.info.run_id);
    if (!row) return false;
    row.run = run;
    for (const [id, cell] of row.cells) {
      if (id === NAME_COLUMN) continue;
      const next = cell.column.cell(run, this.options);
      if (next.text !== cell.text || (next.title ?? '') !== (cell.td.title ?? '')) {
        fillCell(cell.td, next);
        cell.text = next.text;
        if (id === 'attributes.duration') continue; // changes every tick while running
        cell.td.classList.remove('changed');
        void cell.td.offsetWidth; // restart the highlight animation
        cell.td.classList.add('changed');
      }
    }
    return true;
  }

  // Recomputes the cells of running runs whose values depend on the clock (duration).
  tick() {
    for (const row of this.rows.values()) {
      if (row.run.info.status !== 'RUNNING') continue;
      const cell = row.cells.get('attributes.duration');
      if (!cell) continue;
      const next = cell.column.cell(row.run, this.options);
      if (next.text !== cell.text) {
        fillCell(cell.td, next);
        cell.text = next.text;
      }
    }
  }

  select(id, on) {
    if (on) this.options.selected.add(id);
    else this.options.selected.delete(id);
    this.rows.get(id)?.tr.classList.toggle('selected', on);
    this.syncSelectAll();
    this.options.onSelect();
  }

  selectPage(on) {
    for (const [id, row] of this.rows) {
      if (on) this.options.selected.add(id);
      else this.options.selected.delete(id);
      row.tr.classList.toggle('selected', on);
      const box = row.tr.querySelector('td.check input');
      if (box) box.checked = on;
    }
    this.options.onSelect();
  }

  syncSelectAll() {
    const ids = this.runIds();
    this.selectAll.checked = ids.length > 0 && ids.every((id) => this.options.selected.has(id));
  }
}

function fillCell(td, cell) {
  td.replaceChildren(cell.node ?? cell.text ?? '');
  if (cell.title) td.title = cell.title;
  else td.removeAttribute('title');
}
