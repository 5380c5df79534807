// The run page's Metrics tab: a metric picker and one chart per chosen metric (or all of them
// overlaid on one chart), with the x axis, smoothing and log scale shared by the charts. State
// lives in the URL: metrics=a,b&x=step|time|relative&smooth=0.6&log=1&overlay=1; without
// `metrics` the first 6 metrics (by name) are shown.
//
// Each chart reads the downsampled history (about two points per pixel of its width, never the
// full history). Dragging over a step range zooms in and refetches just those steps at full
// detail; a double-click zooms back out. While the run is running refresh() refetches the
// charts that are not zoomed.
import { h, errorBox, clear } from './dom.js';
import { fetchMetricSeries, createMetricChart, chartControls, colorFor, suggestedMaxPoints } from './charts.js';

const DEFAULT_COUNT = 6;
const X_VALUES = ['step', 'time', 'relative'];

function readState(query, keys) {
  const listed = query.get('metrics');
  const metrics = listed !== null && listed !== ''
    ? listed.split(',').map((k) => k.trim()).filter(Boolean)
    : keys.slice(0, DEFAULT_COUNT);
  const smoothing = Number(query.get('smooth'));
  return {
    metrics,
    xAxis: X_VALUES.includes(query.get('x')) ? query.get('x') : 'step',
    smoothing: Number.isFinite(smoothing) ? Math.min(0.99, Math.max(0, smoothing)) : 0,
    logScale: query.get('log') === '1',
    overlay: query.get('overlay') === '1',
  };
}

export async function renderMetricsTab(el, ctx) {
  const { runId, signal } = ctx;
  let run = ctx.run;
  const keysOf = (r) => [...new Set((r.data?.metrics ?? []).map((m) => m.key))].sort();
  let keys = keysOf(run);
  const state = readState(ctx.query, keys);
  // One entry per chart on screen: {cell, chart, keys, zoom, points: Map(key -> points)}.
  let charts = [];
  let destroyed = false;
  let chosen = ctx.query.get('metrics') !== null;  // else the default selection follows new metrics

  if (!keys.length && !state.metrics.length) {
    el.append(h('div', { class: 'empty' }, 'This run has no metrics.'));
    return {};
  }

  const filter = h('input', { type: 'search', placeholder: 'Filter metrics', class: 'metric-filter',
                              'aria-label': 'Filter metrics', oninput: () => drawPicker() });
  const pickerList = h('div', { class: 'metric-list' });
  const overlay = h('input', { type: 'checkbox', class: 'metric-overlay', checked: state.overlay,
                               onchange: () => { state.overlay = overlay.checked; saveState(); drawCharts(); } });
  const controls = chartControls({ xAxis: state.xAxis, smoothing: state.smoothing, logScale: state.logScale },
                                 (next) => { Object.assign(state, next); saveState(); restyle(); });
  const grid = h('div', { class: 'chart-grid' });
  const pickerActions = h('div', { class: 'metric-actions' },
    h('button', { class: 'link-button', onclick: () => select(filteredKeys()) }, 'All'),
    h('button', { class: 'link-button', onclick: () => select([]) }, 'None'));
  el.append(h('div', { class: 'run-metrics-tab' },
    h('aside', { class: 'panel metric-picker' },
      h('h2', {}, 'Metrics'), keys.length > 8 ? filter : null, pickerActions, pickerList,
      h('label', { class: 'overlay-option' }, overlay, ' Overlay on one chart')),
    h('div', { class: 'metric-main' }, h('div', { class: 'toolbar' }, controls), grid)));

  function filteredKeys() {
    const needle = filter.value.trim().toLowerCase();
    return needle ? keys.filter((k) => k.toLowerCase().includes(needle)) : keys;
  }

  function select(list) {
    chosen = true;
    state.metrics = keys.filter((k) => list.includes(k));
    saveState();
    drawPicker();
    drawCharts();
  }

  function drawPicker() {
    const shownKeys = [...new Set([...filteredKeys(), ...state.metrics.filter((k) => !keys.includes(k))])];
    pickerList.replaceChildren(...shownKeys.map((key) => h('label', { class: 'metric-option', title: key },
      h('input', { type: 'checkbox', value: key, checked: state.metrics.includes(key), onchange: (event) => {
        const on = event.target.checked;
        chosen = true;
        state.metrics = on ? keys.filter((k) => k === key || state.metrics.includes(k))
                           : state.metrics.filter((k) => k !== key);
        saveState();
        drawCharts();
      } }),
      h('span', {}, key))));
  }

  function saveState() {
    const listed = state.metrics.join(',');
    const isDefault = listed === keys.slice(0, DEFAULT_COUNT).join(',');
    ctx.setQuery({ metrics: isDefault ? null : listed || null, x: state.xAxis === 'step' ? null : state.xAxis,
                   smooth: state.smoothing ? state.smoothing : null, log: state.logScale ? '1' : null,
                   overlay: state.overlay ? '1' : null });
  }

  function chartOptions(entry) {
    return {
      title: entry.keys.join(', '),
      series: entry.keys.map((key, i) => ({ label: key, points: entry.points.get(key) ?? [],
                                            color: colorFor(keys.indexOf(key) >= 0 ? keys.indexOf(key) : i),
                                            startTime: Number(run.info.start_time) })),
      xAxis: state.xAxis,
      smoothing: state.smoothing,
      logScale: state.logScale,
      xRange: entry.zoom ? [entry.zoom.min, entry.zoom.max] : null,
    };
  }

  // Loads the points of the entry's metrics (the zoomed step range when zoomed) and draws them.
  async function load(entry) {
    const width = entry.cell.clientWidth || 600;
    const maxPoints = suggestedMaxPoints(entry.keys.length, width);
    const range = entry.zoom && state.xAxis === 'step'
      ? { startStep: Math.max(0, Math.floor(entry.zoom.min)), endStep: Math.ceil(entry.zoom.max) } : {};
    const requestId = (entry.requestId ?? 0) + 1;
    entry.requestId = requestId;
    try {
      const answers = await Promise.all(entry.keys.map((key) =>
        fetchMetricSeries([runId], key, { maxPoints, signal, ...range })));
      if (destroyed || entry.requestId !== requestId || !entry.cell.isConnected) return;
      entry.keys.forEach((key, i) => entry.points.set(key, answers[i][0].points));
      entry.error?.remove();
      entry.error = null;
      if (entry.chart) entry.chart.update(chartOptions(entry));
      else {
        entry.chart = createMetricChart(entry.body, { ...chartOptions(entry), height: 240, syncKey: `run-${runId}`,
                                                       onZoom: (zoom) => onZoom(entry, zoom) });
      }
      entry.cell.dataset.loaded = '1';
    } catch (err) {
      if (err.name === 'AbortError' || destroyed) return;
      entry.error?.remove();
      entry.error = errorBox(err, `Cannot load ${entry.keys.join(', ')}`);
      entry.cell.prepend(entry.error);
      entry.cell.dataset.loaded = 'error';
    }
  }

  function onZoom(entry, zoom) {
    entry.zoom = zoom;
    // Only the step axis maps back to a step range the server can fetch in detail; on the time
    // axes the zoom just magnifies the points already loaded.
    if (state.xAxis === 'step') load(entry);
  }

  function drawCharts() {
    for (const entry of charts) entry.chart?.destroy();
    charts = [];
    clear(grid);
    grid.classList.toggle('single', state.overlay || state.metrics.length === 1);
    if (!state.metrics.length) {
      grid.append(h('div', { class: 'empty' }, 'Choose metrics to chart.'));
      return;
    }
    const groups = state.overlay ? [state.metrics] : state.metrics.map((k) => [k]);
    for (const group of groups) {
      const body = h('div', { class: 'chart-body' });
      const cell = h('div', { class: 'panel chart-cell', dataset: { metrics: group.join(',') } }, body);
      grid.append(cell);
      charts.push({ cell, body, chart: null, keys: group, zoom: null, points: new Map() });
    }
    charts.forEach(load);
  }

  // Axis, smoothing or log changed: redraw from the loaded points; zoomed charts go back to the
  // whole history (their zoom range was in the old axis' units).
  function restyle() {
    for (const entry of charts) {
      if (entry.zoom) {
        entry.zoom = null;
        load(entry);
      } else if (entry.chart) {
        entry.chart.update(chartOptions(entry));
      }
    }
  }

  drawPicker();
  drawCharts();

  return {
    async refresh(fresh) {
      const same = JSON.stringify(fresh.data?.metrics) === JSON.stringify(run.data?.metrics);
      run = fresh;
      if (same) return;  // no metric has a new latest value: the histories are as drawn
      const freshKeys = keysOf(fresh);
      if (freshKeys.join('\n') !== keys.join('\n')) {
        keys = freshKeys;
        if (!chosen) state.metrics = keys.slice(0, DEFAULT_COUNT);
        drawPicker();
        drawCharts();
        return;
      }
      await Promise.all(charts.filter((entry) => !entry.zoom).map(load));
    },
    destroy() {
      destroyed = true;
      for (const entry of charts) entry.chart?.destroy();
    },
  };
}
