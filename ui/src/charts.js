// Metric charts shared by the run page and the compare page, drawn with uPlot.
//
//   fetchMetricSeries(runIds, metricKey, {maxPoints, startStep, endStep, signal})
//       -> [{runId, points: [{step, timestamp, value}]}], one entry per distinct run id, in order.
//   createMetricChart(container, options) -> {update(options), destroy(), stats(), options()}
//   chartControls({xAxis, smoothing, logScale}, onChange) -> element (x axis, smoothing, log)
//   smoothValues(values, weight), suggestedMaxPoints(seriesCount, width), colorFor(i)
//
// Histories come from metrics/get-history-bulk-interval, which downsamples on the server keeping
// each bucket's minimum and maximum, so a chart never loads a full history and spikes survive.
// Values may be NaN or +-Infinity (the API sends them as the strings "NaN", "Infinity"): they
// become gaps in the line, never errors.
import uPlot from './vendor/uPlot.esm.js';
import { api } from './api.js';
import { h, formatTime, formatDuration, formatNumber } from './dom.js';

// The server's limits for get-history-bulk-interval.
export const MAX_RUNS_PER_CALL = 100;
export const MAX_POINTS_PER_RUN = 2500;

const PALETTE = ['#1f6feb', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e67700',
                 '#5c7cfa', '#a61e4d', '#364fc7', '#087f5b', '#862e9c'];

// A distinct color for the i-th series (cycles after 12).
export function colorFor(i) {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

// How many points per run to ask for so a chart of `seriesCount` lines `width` pixels wide stays
// quick: about two points per pixel (a bucket's minimum and maximum), fewer when many runs are
// overlaid on a time axis, where their x values do not line up and the aligned table grows as
// (runs x points) x runs.
export function suggestedMaxPoints(seriesCount = 1, width = 600) {
  const perPixel = Math.min(MAX_POINTS_PER_RUN, Math.max(1000, Math.round(2 * width)));
  const n = Math.max(1, seriesCount);
  const budget = Math.floor(4e6 / (2 * n * n));
  return Math.max(100, Math.min(perPixel, budget));
}

// Fetches the downsampled history of `metricKey` for each run: at most `maxPoints` points per
// run, optionally only the steps startStep..endStep (both or neither). More than 100 runs are
// asked for in several calls (the server's limit), at most 4 at a time. Runs without the metric
// get an empty `points` list; a run id the server does not know fails the call. Throws ApiError
// with the server's message.
export async function fetchMetricSeries(runIds, metricKey,
                                        { maxPoints = 1000, startStep, endStep, signal } = {}) {
  const ids = [...new Set(runIds)];
  const byRun = new Map(ids.map((id) => [id, []]));
  const batches = [];
  for (let i = 0; i < ids.length; i += MAX_RUNS_PER_CALL) batches.push(ids.slice(i, i + MAX_RUNS_PER_CALL));
  const maxResults = Math.max(1, Math.min(MAX_POINTS_PER_RUN, Math.round(maxPoints)));
  const range = startStep !== undefined && startStep !== null && endStep !== undefined && endStep !== null
    ? { start_step: Math.floor(startStep), end_step: Math.ceil(endStep) } : {};
  let next = 0;
  async function worker() {
    while (next < batches.length) {
      const batch = batches[next++];
      const answer = await api.get('metrics/get-history-bulk-interval',
                                   { run_ids: batch, metric_key: metricKey, max_results: maxResults, ...range },
                                   { signal });
      for (const m of answer.metrics ?? []) {
        byRun.get(m.run_id)?.push({ step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? 0),
                                    value: Number(m.value) });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(4, batches.length) }, worker));
  return ids.map((runId) => ({ runId, points: byRun.get(runId) }));
}

// Exponential moving average with TensorBoard's debiasing (the first points are not pulled
// toward 0). Non-finite values (null, NaN, +-Infinity) are passed over and stay null in the
// result. weight 0 returns the values unchanged (non-finite ones as null).
export function smoothValues(values, weight) {
  const out = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    if (!(weight > 0)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count += 1;
    out[i] = last / (1 - weight ** count);
  }
  return out;
}

export const X_AXES = [
  { value: 'step', label: 'Step' },
  { value: 'time', label: 'Wall time' },
  { value: 'relative', label: 'Relative time' },
];

// Axis label numbers: short, exponent form only for very large or very small magnitudes.
function axisNumber(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1).replace('.0e', 'e');
  return String(Number(v.toPrecision(6)));
}

// Step ticks: 950, 12.5k, 1.2M.
function stepLabel(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  const trim = (x) => String(Number(x.toFixed(2)));
  if (a >= 1e9) return `${trim(v / 1e9)}B`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return axisNumber(v);
}

// "1h 05m", "2m 30s", "45s" for relative-time ticks (seconds).
function relativeLabel(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.round(seconds);
  const sign = s < 0 ? '-' : '';
  const a = Math.abs(s);
  if (a < 60) return `${sign}${a}s`;
  if (a < 3600) return `${sign}${Math.floor(a / 60)}m${a % 60 ? ` ${String(a % 60).padStart(2, '0')}s` : ''}`;
  const m = Math.floor(a / 60);
  return `${sign}${Math.floor(m / 60)}h${m % 60 ? ` ${String(m % 60).padStart(2, '0')}m` : ''}`;
}
const RELATIVE_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                        43200, 86400, 172800, 604800, 2592000];

// The x value of a point on each axis: steps as they are, wall time in seconds since the epoch
// (uPlot's time unit), relative time in seconds since `start` (ms).
function xOf(point, xAxis, start) {
  if (xAxis === 'time') return point.timestamp / 1000;
  if (xAxis === 'relative') return (point.timestamp - start) / 1000;
  return point.step;
}

function xLabel(xAxis, x) {
  if (x === null || x === undefined) return '';
  if (xAxis === 'time') return formatTime(x * 1000);
  if (xAxis === 'relative') return formatDuration(x * 1000);
  return `step ${x}`;
}

const DEFAULTS = { title: '', series: [], xAxis: 'step', smoothing: 0, logScale: false, height: 260,
                   xRange: null, syncKey: null, onZoom: null };

// Builds the aligned table uPlot draws and the per-series facts (for stats(), legend, notes).
// With smoothing each input series becomes two uPlot series: its raw line drawn faint, then the
// smoothed line; otherwise one. Returns {data, layout: [{label, color, raw, smooth}], notes, stats}.
function buildData(opts) {
  const tables = [];
  const layout = [];
  const stats = [];
  let nonFinite = 0;
  let nonPositive = 0;
  let positive = 0;
  const smoothing = Math.min(0.99, Math.max(0, Number(opts.smoothing) || 0));
  opts.series.forEach((s, i) => {
    const points = s.points ?? [];
    const start = s.startTime ?? points.reduce((m, p) => Math.min(m, p.timestamp), Infinity);
    let pairs = points.map((p) => [xOf(p, opts.xAxis, start), p.value]);
    if (opts.xAxis !== 'step') pairs = pairs.slice().sort((a, b) => a[0] - b[0]);
    const xs = pairs.map((p) => p[0]);
    const values = pairs.map((p) => p[1]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (!Number.isFinite(v)) { nonFinite += 1; continue; }
      if (v < min) min = v;
      if (v > max) max = v;
      if (v > 0) positive += 1; else nonPositive += 1;
    }
    stats.push({ label: s.label, points: values.length, min: min === Infinity ? null : min,
                 max: max === -Infinity ? null : max,
                 lastX: xs.length ? xs[xs.length - 1] : null,
                 last: values.length ? values[values.length - 1] : null });
    const raw = values.map((v) => (Number.isFinite(v) ? v : null));
    const smoothed = smoothing > 0 ? smoothValues(values, smoothing) : null;
    const ys = smoothed ? [raw, smoothed] : [raw];
    if (opts.logScale) {
      for (const y of ys) for (let k = 0; k < y.length; k++) if (y[k] !== null && y[k] <= 0) y[k] = null;
    }
    tables.push([xs, ...ys]);
    layout.push({ label: s.label, key: s.key ?? s.label, color: s.color ?? colorFor(i), smooth: Boolean(smoothed) });
  });
  const notes = [];
  if (nonFinite) notes.push(`${nonFinite} NaN/Infinity value${nonFinite === 1 ? '' : 's'} not drawn`);
  if (opts.logScale && nonPositive) {
    notes.push(positive
      ? `log scale: ${nonPositive} value${nonPositive === 1 ? '' : 's'} ≤ 0 hidden`
      : 'log scale: no positive values, shown linear');
  }
  const data = tables.length ? uPlot.join(tables) : [[]];
  return { data, layout, notes, stats, logUsable: positive > 0 };
}

// Draws `options.series` ([{label, points: [{step, timestamp, value}], color?, startTime?, key?}])
// into `container` (which it empties). `key` names a series across update()s (default: its
// label), so one the user hid in the legend stays hidden. Options:
//   title       heading above the plot
//   xAxis       'step' | 'time' (wall clock) | 'relative' (since the series' startTime, or its
//               first point)
//   smoothing   0..0.99, exponential moving average; the raw line stays drawn faint behind
//   logScale    log10 y axis; values <= 0 are hidden with a note (all of them: linear, noted)
//   height      plot height in pixels (the legend adds to it); width follows the container
//   xRange      [min, max] initial x range (in the axis' units), e.g. to keep a zoom
//   syncKey     charts with the same key share the cursor
//   onZoom      called with {min, max} when the user drags over a range (in x units), and with
//               null when the zoom is reset (double-click or the Reset zoom link); the chart
//               zooms by itself, the owner may refetch the range in detail and update() with
//               xRange
// Returns {update(partialOptions), destroy(), stats(), options(), uplot()}. stats() lists per
// input series {label, points, min, max, last, lastX} over its finite values (tests read the
// chart through it; `container.__chart` holds the same handle).
export function createMetricChart(container, options = {}) {
  let opts = { ...DEFAULTS, ...options };
  let plot = null;
  let built = null;
  let meta = [];
  const hidden = new Set();  // keys of the series the user hid (kept across update())
  const titleEl = h('span', { class: 'mchart-title' });
  const noteEl = h('span', { class: 'mchart-note' });
  const resetEl = h('button', { class: 'link-button mchart-reset', hidden: true, title: 'Show the whole history (or double-click the chart)',
                                onclick: () => resetZoom() }, 'Reset zoom');
  const plotEl = h('div', { class: 'mchart-plot' });
  const root = h('div', { class: 'mchart' }, h('div', { class: 'mchart-head' }, titleEl, h('span', { class: 'mchart-side' }, noteEl, resetEl)), plotEl);
  container.replaceChildren(root);

  function width() {
    return Math.max(200, Math.floor(plotEl.clientWidth || container.clientWidth || 600));
  }

  function build() {
    if (plot) { plot.destroy(); plot = null; }
    plotEl.replaceChildren();
    resetEl.hidden = true;
    titleEl.textContent = opts.title ?? '';
    built = buildData(opts);
    const log = opts.logScale && built.logUsable;
    noteEl.textContent = built.notes.join(' · ');
    root.dataset.series = String(opts.series.length);
    if (!built.stats.some((s) => s.points > 0)) {
      plotEl.append(h('div', { class: 'mchart-empty', style: { height: `${opts.height}px` } }, 'No data'));
      return;
    }
    const series = [{
      label: X_AXES.find((a) => a.value === opts.xAxis)?.label ?? 'Step',
      value: (u, v) => xLabel(opts.xAxis, v),
    }];
    // meta[j]: which input series uPlot series j draws, and whether it is the faint raw line of
    // a smoothed one (such lines have no legend entry or tooltip row of their own).
    meta = [null];
    built.layout.forEach((s, i) => {
      meta.push({ input: i, key: s.key, faint: s.smooth });
      const show = !hidden.has(s.key);
      series.push({ label: s.label, stroke: s.color, width: s.smooth ? 1 : 1.5, alpha: s.smooth ? 0.25 : 1,
                    show, value: (u, v) => (v === null || v === undefined ? '—' : formatNumber(v)) });
      if (s.smooth) {
        const raw = series.length - 1;
        meta.push({ input: i, key: s.key, faint: false });
        series.push({ label: s.label, stroke: s.color, width: 2, show,
                      value: (u, v, si, idx) => {
                        if (v === null || v === undefined) return '—';
                        const r = idx === null ? null : u.data[raw][idx];
                        return r === null || r === undefined ? formatNumber(v) : `${formatNumber(v)} (raw ${formatNumber(r)})`;
                      } });
      }
    });
    const xTime = opts.xAxis === 'time';
    const axes = [
      { stroke: '#5f6b7a', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#d8dee6' },
        ...(opts.xAxis === 'relative' ? { incrs: RELATIVE_INCRS, values: (u, splits) => splits.map(relativeLabel) } : {}),
        ...(opts.xAxis === 'step' ? { values: (u, splits) => splits.map(stepLabel) } : {}) },
      { stroke: '#5f6b7a', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#d8dee6' },
        values: (u, splits) => splits.map(axisNumber),
        size: (u, values) => Math.ceil(22 + 7.5 * Math.max(2, ...(values ?? []).map((v) => String(v).length))) },
    ];
    const uopts = {
      width: width(),
      height: opts.height,
      series,
      axes,
      scales: {
        x: { time: xTime },
        y: log ? { distr: 3, log: 10 } : {},
      },
      legend: { live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, bind: { dblclick: () => null }, points: { size: 6 },
                focus: { prox: 24 }, ...(opts.syncKey ? { sync: { key: opts.syncKey } } : {}) },
      focus: { alpha: 0.35 },
      hooks: {
        setSeries: [(u, idx) => {
          if (idx === null || idx === undefined) return;
          const { show } = u.series[idx];
          const { input, key } = meta[idx];
          if (show) hidden.delete(key); else hidden.add(key);
          // A smoothed series and its raw line show and hide together.
          meta.forEach((m, j) => {
            if (j !== idx && m?.input === input && u.series[j].show !== show) u.setSeries(j, { show }, false);
          });
        }],
        // A drag over the plot zooms in (uPlot's own drag-to-scale is off so that only the
        // user's gestures, never redraws, count as zooms).
        setSelect: [(u) => {
          const { left, width: w } = u.select;
          if (w < 3) return;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          zoomTo(u.posToVal(left, 'x'), u.posToVal(left + w, 'x'));
        }],
        setCursor: [(u) => showTooltip(u)],
      },
    };
    plot = new uPlot(uopts, built.data, plotEl);
    if (opts.xRange) plot.setScale('x', { min: opts.xRange[0], max: opts.xRange[1] });
    resetEl.hidden = !opts.xRange;
    plot.over.addEventListener('dblclick', () => resetZoom());
    // Only one legend entry per input series: the raw line's entry is hidden when it has a
    // smoothed twin.
    plot.root.querySelectorAll('.u-legend .u-series').forEach((row, j) => {
      if (meta[j]?.faint) row.classList.add('mchart-raw-entry');
    });
    tooltip = h('div', { class: 'mchart-tooltip', hidden: true });
    plot.over.append(tooltip);
  }

  function zoomTo(min, max) {
    if (!(max > min)) return;
    plot.setScale('x', { min, max });
    resetEl.hidden = false;
    opts.onZoom?.({ min, max });
  }

  // Back to the whole x range. When the owner had narrowed the data to a range (xRange), it is
  // told (onZoom(null)) and redraws with the whole history; otherwise the plot rescales.
  function resetZoom() {
    resetEl.hidden = true;
    if (!opts.xRange) {
      const xs = plot?.data[0];
      if (xs?.length) plot.setScale('x', { min: xs[0], max: xs[xs.length - 1] });
    }
    opts.onZoom?.(null);
  }

  let tooltip = null;
  // A small box by the cursor with the x value and the nearest (up to 8) series' values.
  function showTooltip(u) {
    if (!tooltip) return;
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left < 0) { tooltip.hidden = true; return; }
    const rows = [];
    for (let j = 1; j < u.series.length; j++) {
      const s = u.series[j];
      if (!s.show || meta[j].faint) continue;  // a smoothed series' raw line: its twin speaks
      const v = u.data[j][idx];
      if (v === null || v === undefined) continue;
      const y = u.valToPos(v, 'y');
      rows.push({ label: s.label, color: s.stroke(u, j), v, d: Math.abs(y - u.cursor.top) });
    }
    if (!rows.length) { tooltip.hidden = true; return; }
    rows.sort((a, b) => a.d - b.d);
    tooltip.replaceChildren(h('div', { class: 'mchart-tooltip-x' }, xLabel(opts.xAxis, u.data[0][idx])),
                            ...rows.slice(0, 8).map((r) => h('div', { class: 'mchart-tooltip-row' },
                              h('span', { class: 'swatch', style: { background: r.color } }),
                              h('span', { class: 'name' }, r.label), h('span', { class: 'val' }, formatNumber(r.v)))));
    tooltip.hidden = false;
    const overWidth = u.over.clientWidth;
    const left = u.cursor.left + 14;
    tooltip.style.left = `${left + tooltip.offsetWidth > overWidth ? Math.max(0, u.cursor.left - 14 - tooltip.offsetWidth) : left}px`;
    tooltip.style.top = `${Math.max(0, Math.min(u.cursor.top + 10, u.over.clientHeight - tooltip.offsetHeight))}px`;
  }

  build();

  let lastWidth = width();
  const observer = new ResizeObserver(() => {
    const w = width();
    if (plot && w !== lastWidth) {
      lastWidth = w;
      plot.setSize({ width: w, height: opts.height });
    }
  });
  observer.observe(plotEl);

  const handle = {
    // Redraws with `partial` merged into the current options.
    update(partial = {}) {
      opts = { ...opts, ...partial };
      build();
      lastWidth = width();
    },
    destroy() {
      observer.disconnect();
      if (plot) plot.destroy();
      plot = null;
      root.remove();
      if (container.__chart === handle) delete container.__chart;
    },
    stats: () => built.stats.map((s) => ({ ...s })),
    options: () => ({ ...opts }),
    uplot: () => plot,
  };
  container.__chart = handle;
  return handle;
}

// The chart settings bar: x axis select, smoothing slider, log-scale checkbox. `onChange` gets
// the whole new state {xAxis, smoothing, logScale} (the slider reports while dragging, at most
// every 150 ms). The element's setState(state) shows a state without calling onChange.
export function chartControls(state, onChange) {
  let current = { xAxis: 'step', smoothing: 0, logScale: false, ...state };
  const emit = () => onChange({ ...current });
  const select = h('select', { class: 'chart-x', 'aria-label': 'X axis',
                               onchange: () => { current.xAxis = select.value; emit(); } },
                   X_AXES.map((a) => h('option', { value: a.value }, a.label)));
  const valueText = h('span', { class: 'chart-smooth-value mono' });
  let timer = null;
  const slider = h('input', {
    type: 'range', min: '0', max: '0.99', step: '0.01', class: 'chart-smooth', 'aria-label': 'Smoothing',
    oninput: () => {
      current.smoothing = Number(slider.value);
      valueText.textContent = current.smoothing.toFixed(2);
      clearTimeout(timer);
      timer = setTimeout(emit, 150);
    },
  });
  const log = h('input', { type: 'checkbox', class: 'chart-log',
                           onchange: () => { current.logScale = log.checked; emit(); } });
  const el = h('div', { class: 'chart-controls' },
               h('label', {}, 'X axis ', select),
               h('label', {}, 'Smoothing ', slider, valueText),
               h('label', {}, log, ' Log scale'));
  el.setState = (next) => {
    current = { ...current, ...next };
    select.value = current.xAxis;
    slider.value = String(current.smoothing);
    valueText.textContent = Number(current.smoothing).toFixed(2);
    log.checked = Boolean(current.logScale);
  };
  el.getState = () => ({ ...current });
  el.setState(current);
  return el;
}
