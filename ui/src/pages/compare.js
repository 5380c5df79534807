// Compare runs: #/compare?runs=<id>,<id>,...  (runs may belong to different experiments)
// The page keeps its view in the URL so it can be shared: metric (the charted metric), xaxis,
// smooth, log (chart settings), diff and filter (table), plot (scatter|parallel), sx, sy, slx,
// sly (scatter axes and their log scales).
// Sections: the runs (color, name, experiment), one metric's history with one line per run,
// a scatter of any param or metric against another (or parallel coordinates over several), and
// the param/metric table.
// An id that names no run is reported by name; the other runs are still compared when at least
// two are left.
import { api } from '../api.js';
import { h, clear, errorBox, formatDuration, formatTime, loading, tagValue } from '../dom.js';
import { hashFor } from '../main.js';
import { chartControls, colorFor, createMetricChart, fetchMetricSeries, suggestedMaxPoints } from '../charts.js';
import { compareTable } from '../compare_table.js';
import { compareScatter } from '../compare_scatter.js';
import { compareParallel } from '../compare_parallel.js';

const FETCH_CONCURRENCY = 8;

export async function renderCompare(container, { query, navigate }) {
  const ids = [...new Set((query.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  const controller = new AbortController();
  const { signal } = controller;
  const cleanups = [() => controller.abort()];
  const cleanup = () => cleanups.forEach((fn) => fn());

  // The view's state, written back to the URL without re-rendering.
  const state = {
    metric: query.get('metric') ?? '',
    xAxis: ['step', 'time', 'relative'].includes(query.get('xaxis')) ? query.get('xaxis') : 'step',
    smoothing: Math.min(0.99, Math.max(0, Number(query.get('smooth')) || 0)),
    logScale: query.get('log') === '1',
    diffOnly: query.get('diff') === '1',
    filter: query.get('filter') ?? '',
    scatterX: query.get('sx') ?? '',
    scatterY: query.get('sy') ?? '',
    scatterLogX: query.get('slx') === '1',
    scatterLogY: query.get('sly') === '1',
    plot: query.get('plot') === 'parallel' ? 'parallel' : 'scatter',
  };
  const urlFor = (runIds) => hashFor('/compare', {
    runs: runIds.join(','), metric: state.metric, xaxis: state.xAxis === 'step' ? '' : state.xAxis,
    smooth: state.smoothing ? String(state.smoothing) : '', log: state.logScale ? '1' : '',
    diff: state.diffOnly ? '1' : '', filter: state.filter, sx: state.scatterX, sy: state.scatterY,
    slx: state.scatterLogX ? '1' : '', sly: state.scatterLogY ? '1' : '',
    plot: state.plot === 'scatter' ? '' : state.plot,
  }).replace(/%2C/gi, ',');  // a comma needs no escape in a query; the run list reads better
  // The URL keeps every id asked for (an unknown one stays named in the error) until the user
  // follows the link that drops them.
  const writeUrl = (runIds) => navigate(urlFor(runIds), { silent: true });

  const page = h('div', { class: 'page compare' },
    h('div', { class: 'breadcrumbs' }, h('a', { href: '#/experiments' }, 'Experiments'), ' › '),
    h('h1', {}, 'Compare runs'));
  container.append(page);

  if (ids.length < 2) {
    page.append(errorBox(new Error(
      `Comparing needs at least two run ids (#/compare?runs=<id>,<id>,...); got ${ids.length}` +
      `${ids.length ? `: '${ids[0]}'` : ''}. Select runs in an experiment's run list and press Compare.`)));
    return cleanup;
  }

  const status = loading(`Loading ${ids.length} runs…`);
  page.append(status);
  const results = await mapLimited(ids, FETCH_CONCURRENCY, async (id) => {
    try {
      return { id, run: (await api.get('runs/get', { run_id: id }, { signal })).run };
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      return { id, error: err };
    }
  });
  status.remove();
  const failed = results.filter((r) => r.error);
  const runs = results.filter((r) => r.run).map((r) => r.run);
  const runIds = runs.map((r) => r.info.run_id);

  if (failed.length) {
    const message = failed.map((f) => (f.error.code === 'RESOURCE_DOES_NOT_EXIST'
      ? `Run '${f.id}' was not found.` : `Run '${f.id}' cannot be read: ${f.error.message}`)).join('\n');
    const box = errorBox(new Error(message));
    box.classList.add('compare-missing');
    if (runs.length >= 2) {
      box.append(' ', h('a', { href: urlFor(runIds) },
                        `Compare the other ${runs.length} runs only`));
    }
    page.append(box);
  }
  if (runs.length < 2) {
    if (runs.length === 1) {
      page.append(h('p', { class: 'muted' }, 'Only one of the runs is left to compare: ',
        h('a', { href: `#/runs/${encodeURIComponent(runIds[0])}` }, runs[0].info.run_name || runIds[0]), '.'));
    }
    return cleanup;
  }

  const experiments = await experimentNames(runs, signal);
  const labels = runLabels(runs);
  const expIds = [...new Set(runs.map((r) => r.info.experiment_id))];
  page.querySelector('.breadcrumbs').append(
    h('a', { href: `#/experiments/${expIds.map(encodeURIComponent).join(',')}` },
      expIds.map((id) => experiments.get(id) ?? id).join(', ')), ' › ');
  page.querySelector('h1').textContent = `Comparing ${runs.length} runs`;

  const removeRun = (id) => navigate(urlFor(ids.filter((x, k) => results[k].run?.info.run_id !== id)));
  page.append(runsHeader(runs, labels, experiments, removeRun));

  const metricKeys = unionKeys(runs, 'metrics');
  const paramKeys = unionKeys(runs, 'params');
  if (!metricKeys.includes(state.metric)) state.metric = defaultMetric(runs, metricKeys);
  const chartPanel = h('section', { class: 'panel compare-chart' });
  const scatter = compareScatter(runs, labels, { params: paramKeys, metrics: metricKeys },
    { x: state.scatterX, y: state.scatterY || (state.metric ? `metrics.${state.metric}` : ''),
      logX: state.scatterLogX, logY: state.scatterLogY },
    (partial) => {
      if ('x' in partial) state.scatterX = partial.x;
      if ('y' in partial) state.scatterY = partial.y;
      if ('logX' in partial) state.scatterLogX = partial.logX;
      if ('logY' in partial) state.scatterLogY = partial.logY;
      writeUrl(ids);
    });
  cleanups.push(scatter.destroy);
  const parallel = compareParallel(runs, labels, { params: paramKeys, metrics: metricKeys }, { metric: state.metric });
  cleanups.push(parallel.destroy);
  const plots = plotsPanel(scatter, parallel, state.plot, (plot) => {
    state.plot = plot;
    writeUrl(ids);
  });
  page.append(h('div', { class: 'compare-grid' }, chartPanel, plots));
  page.append(compareTable(runs, labels, { diffOnly: state.diffOnly, filter: state.filter }, (partial) => {
    if ('diffOnly' in partial) state.diffOnly = partial.diffOnly;
    if ('filter' in partial) state.filter = partial.filter;
    writeUrl(ids);
  }));

  cleanups.push(metricChart(chartPanel, runs, labels, metricKeys, state, () => writeUrl(ids), signal));
  return cleanup;
}

// Runs `fn` over `items` with at most `limit` calls in flight; results in input order.
async function mapLimited(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function experimentNames(runs, signal) {
  const names = new Map();
  const ids = [...new Set(runs.map((r) => r.info.experiment_id))];
  await mapLimited(ids, FETCH_CONCURRENCY, async (id) => {
    try {
      names.set(id, (await api.get('experiments/get', { experiment_id: id }, { signal })).experiment.name);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
    }
  });
  return names;
}

// A name and color per run; names two runs share get the run id's start appended, so every
// chart series and table column is told apart.
function runLabels(runs) {
  const nameOf = (r) => r.info.run_name || tagValue(r, 'mlflow.runName') || r.info.run_id.slice(0, 8);
  const counts = new Map();
  runs.forEach((r) => counts.set(nameOf(r), (counts.get(nameOf(r)) ?? 0) + 1));
  return runs.map((r, i) => {
    const name = nameOf(r);
    return {
      name: counts.get(name) > 1 ? `${name} (${r.info.run_id.slice(0, 6)})` : name,
      color: colorFor(i),
      href: `#/runs/${encodeURIComponent(r.info.run_id)}`,
    };
  });
}

function unionKeys(runs, kind) {
  const keys = new Set();
  for (const r of runs) for (const item of r.data?.[kind] ?? []) keys.add(item.key);
  return [...keys].sort((a, b) => a.localeCompare(b));
}

function runsHeader(runs, labels, experiments, removeRun) {
  return h('table', { class: 'grid compare-runs' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Run'), h('th', {}, 'Experiment'), h('th', {}, 'Status'),
      h('th', {}, 'Started'), h('th', {}, 'Duration'), h('th', {}, ''))),
    h('tbody', {}, runs.map((r, i) => {
      const info = r.info;
      const duration = info.end_time ? info.end_time - info.start_time : null;
      return h('tr', { dataset: { runId: info.run_id } },
        h('td', {}, h('span', { class: 'swatch', style: { background: labels[i].color } }),
          h('a', { href: labels[i].href, class: 'run-name' }, labels[i].name)),
        h('td', {}, h('a', { href: `#/experiments/${encodeURIComponent(info.experiment_id)}` },
          experiments.get(info.experiment_id) ?? info.experiment_id)),
        h('td', {}, h('span', { class: `status ${info.status}` }, info.status)),
        h('td', {}, formatTime(info.start_time)),
        h('td', {}, duration === null ? '' : formatDuration(duration)),
        h('td', { class: 'row-actions' }, h('button', {
          type: 'button', class: 'small', title: 'Remove this run from the comparison',
          'aria-label': `Remove ${labels[i].name} from the comparison`, onclick: () => removeRun(info.run_id),
        }, 'Remove')));
    })));
}

// The panel holding the scatter and the parallel coordinates, one shown at a time.
function plotsPanel(scatter, parallel, initial, onSwitch) {
  const views = { scatter, parallel };
  const tabs = {};
  const show = (which) => {
    scatter.controls.hidden = which !== 'scatter';
    for (const [key, view] of Object.entries(views)) {
      view.element.hidden = key !== which;
      tabs[key].classList.toggle('active', key === which);
      tabs[key].setAttribute('aria-selected', String(key === which));
    }
    views[which].draw();
  };
  for (const [key, text] of [['scatter', 'Scatter'], ['parallel', 'Parallel coordinates']]) {
    tabs[key] = h('button', { type: 'button', role: 'tab', class: `plot-tab plot-tab-${key}`, onclick: () => {
      show(key);
      onSwitch(key);
    } }, text);
  }
  const panel = h('section', { class: 'panel compare-plots' },
    h('div', { class: 'panel-head' }, h('div', { class: 'plot-tabs', role: 'tablist' }, tabs.scatter, tabs.parallel),
      scatter.controls),
    scatter.element, parallel.element);
  show(initial);
  return panel;
}

// The metric whose history is charted first: the one most runs have, then the one with the
// longest history (its latest step), then by name.
function defaultMetric(runs, keys) {
  let best = keys[0] ?? '';
  let bestScore = [-1, -1];
  for (const key of keys) {
    const found = runs.map((r) => r.data?.metrics?.find((m) => m.key === key)).filter(Boolean);
    const score = [found.length, Math.max(0, ...found.map((m) => Number(m.step) || 0))];
    if (score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
      best = key;
      bestScore = score;
    }
  }
  return best;
}

// The metric history panel; returns its cleanup.
function metricChart(panel, runs, labels, metricKeys, state, saveState, pageSignal) {
  if (!metricKeys.length) {
    panel.append(h('h3', {}, 'Metric history'), h('div', { class: 'empty' }, 'These runs have no metrics.'));
    return () => {};
  }
  const select = h('select', { class: 'compare-metric', 'aria-label': 'Metric' },
    metricKeys.map((k) => h('option', { value: k, selected: k === state.metric }, k)));
  const host = h('div', { class: 'compare-chart-host' });
  const problem = h('div');
  const controls = chartControls({ xAxis: state.xAxis, smoothing: state.smoothing, logScale: state.logScale },
    (next) => {
      Object.assign(state, { xAxis: next.xAxis, smoothing: next.smoothing, logScale: next.logScale });
      saveState();
      chart?.update({ xAxis: next.xAxis, smoothing: next.smoothing, logScale: next.logScale });
    });
  panel.append(h('div', { class: 'panel-head' }, h('h3', {}, 'Metric history'), select), controls, problem, host);

  let chart = null;
  let loadController = null;
  async function load() {
    loadController?.abort();
    loadController = new AbortController();
    const signal = loadController.signal;
    clear(problem);
    host.classList.add('reloading');
    let series;
    try {
      series = await fetchMetricSeries(runs.map((r) => r.info.run_id), state.metric, {
        maxPoints: suggestedMaxPoints(runs.length, host.clientWidth || 600), signal,
      });
    } catch (err) {
      if (err.name === 'AbortError' || pageSignal.aborted) return;
      problem.append(errorBox(err, `Cannot load the history of ${state.metric}`));
      host.classList.remove('reloading');
      return;
    }
    host.classList.remove('reloading');
    const options = {
      title: state.metric,
      series: series.map((s, i) => ({ label: labels[i].name, color: labels[i].color, points: s.points,
                                      startTime: runs[i].info.start_time })),
      xAxis: state.xAxis, smoothing: state.smoothing, logScale: state.logScale, height: 300,
    };
    if (chart) chart.update(options);
    else chart = createMetricChart(host, options);
  }
  select.addEventListener('change', () => {
    state.metric = select.value;
    saveState();
    load();
  });
  load();
  return () => {
    loadController?.abort();
    chart?.destroy();
  };
}
