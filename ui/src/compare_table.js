// The compare page's parameter/metric table: one column per run, rows = params then metrics
// (latest values), a "differences only" switch that hides rows where every run has the same
// value (a run lacking the key counts as different), a key filter, and the best value of a
// metric row marked when its name says which way is better (loss, error... lower; accuracy,
// auc... higher).
import { h, clear, formatNumber } from './dom.js';

const LOWER_IS_BETTER = /(loss|error|err$|rmse|mse|mae|mape|perplexity|wer|cer|latency|brier|logloss|deviance)/i;
const HIGHER_IS_BETTER = /(acc|accuracy|auc|f1|precision|recall|ndcg|map|mrr|r2|hit|score|iou|bleu|rouge)/i;

// 'lower' | 'higher' | null, from a metric's name.
export function betterDirection(key) {
  const name = key.split('/').pop();
  if (LOWER_IS_BETTER.test(name)) return 'lower';
  if (HIGHER_IS_BETTER.test(name)) return 'higher';
  return null;
}

// Rows of the table: [{kind: 'param'|'metric', key, values: [string|number|undefined per run]}].
export function compareRows(runs) {
  const paramKeys = new Set();
  const metricKeys = new Set();
  for (const run of runs) {
    for (const p of run.data?.params ?? []) paramKeys.add(p.key);
    for (const m of run.data?.metrics ?? []) metricKeys.add(m.key);
  }
  const sorted = (set) => [...set].sort((a, b) => a.localeCompare(b));
  const rows = [];
  for (const key of sorted(paramKeys)) {
    rows.push({ kind: 'param', key, values: runs.map((r) => r.data?.params?.find((p) => p.key === key)?.value) });
  }
  for (const key of sorted(metricKeys)) {
    rows.push({ kind: 'metric', key, values: runs.map((r) => {
      const m = r.data?.metrics?.find((x) => x.key === key);
      return m === undefined ? undefined : Number(m.value);
    }) });
  }
  return rows;
}

// True when every run has the key with the same value.
export function rowIsUniform(row) {
  const [first] = row.values;
  if (first === undefined) return false;
  return row.values.every((v) => v !== undefined && (v === first || (Number.isNaN(v) && Number.isNaN(first))));
}

// Index of the best run of a metric row, or -1 (unknown direction, fewer than 2 values, a tie
// of all of them).
function bestIndex(row) {
  const direction = betterDirection(row.key);
  if (!direction) return -1;
  let best = -1;
  let finite = 0;
  row.values.forEach((v, i) => {
    if (v === undefined || !Number.isFinite(v)) return;
    finite += 1;
    if (best < 0 || (direction === 'lower' ? v < row.values[best] : v > row.values[best])) best = i;
  });
  if (finite < 2 || rowIsUniform(row)) return -1;
  return best;
}

// Builds the table section. `runs` and `labels` ([{name, color, href}]) are parallel;
// `state` {diffOnly, filter} and `onState(partial)` keep the switches in the URL.
export function compareTable(runs, labels, state, onState) {
  const rows = compareRows(runs);
  const tableHost = h('div', { class: 'compare-table-host' });
  const counter = h('span', { class: 'muted compare-table-count' });
  const diffBox = h('input', { type: 'checkbox', class: 'compare-diff-only', checked: Boolean(state.diffOnly) });
  const filterInput = h('input', { type: 'search', class: 'compare-filter', placeholder: 'Filter keys',
                                   'aria-label': 'Filter keys', value: state.filter ?? '' });
  let current = { diffOnly: Boolean(state.diffOnly), filter: state.filter ?? '' };

  function draw() {
    const needle = current.filter.trim().toLowerCase();
    const shown = rows.filter((row) => (!current.diffOnly || !rowIsUniform(row)) &&
                                       (!needle || row.key.toLowerCase().includes(needle)));
    const hiddenSame = current.diffOnly ? rows.filter(rowIsUniform).length : 0;
    counter.textContent = `${shown.length} of ${rows.length} rows` +
      (hiddenSame ? ` · ${hiddenSame} identical hidden` : '');
    const head = h('thead', {}, h('tr', {}, h('th', { class: 'key-col' }, 'Key'),
      labels.map((l) => h('th', { class: 'run-col', title: l.name },
        h('span', { class: 'swatch', style: { background: l.color } }), h('a', { href: l.href }, l.name)))));
    const body = h('tbody');
    for (const kind of ['param', 'metric']) {
      const part = shown.filter((r) => r.kind === kind);
      const total = rows.filter((r) => r.kind === kind).length;
      body.append(h('tr', { class: 'section-row' }, h('th', { colspan: labels.length + 1 },
        kind === 'param' ? 'Parameters' : 'Metrics', h('span', { class: 'muted' }, ` ${part.length}/${total}`))));
      if (!part.length) {
        body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: labels.length + 1, class: 'muted' },
          total ? 'No row matches.' : `These runs have no ${kind === 'param' ? 'parameters' : 'metrics'}.`)));
      }
      for (const row of part) body.append(rowElement(row));
    }
    clear(tableHost).append(h('table', { class: 'grid compare-table' }, head, body));
  }

  function rowElement(row) {
    const best = row.kind === 'metric' ? bestIndex(row) : -1;
    const direction = betterDirection(row.key);
    const uniform = rowIsUniform(row);
    return h('tr', { class: `${row.kind}-row${uniform ? ' uniform' : ''}`, dataset: { kind: row.kind, key: row.key } },
      h('th', { class: 'key-col', title: row.key }, row.key),
      row.values.map((v, i) => {
        if (v === undefined) return h('td', { class: 'missing' }, '—');
        if (row.kind === 'param') return h('td', { title: v }, v);
        return h('td', { class: `num${i === best ? ' best' : ''}`, title: i === best
          ? `${v} (best: ${direction} is better)` : String(v) }, formatNumber(v));
      }));
  }

  diffBox.addEventListener('change', () => {
    current = { ...current, diffOnly: diffBox.checked };
    onState({ diffOnly: current.diffOnly });
    draw();
  });
  let typing = null;
  filterInput.addEventListener('input', () => {
    current = { ...current, filter: filterInput.value };
    draw();
    clearTimeout(typing);
    typing = setTimeout(() => onState({ filter: current.filter }), 300);
  });
  draw();
  return h('section', { class: 'panel compare-table-panel' },
    h('div', { class: 'panel-head' }, h('h3', {}, 'Parameters and metrics'),
      h('div', { class: 'compare-table-tools' }, filterInput,
        h('label', { class: 'toggle' }, diffBox, ' Differences only'), counter)),
    h('div', { class: 'compare-table-scroll' }, tableHost));
}
