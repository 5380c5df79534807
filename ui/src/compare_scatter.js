// The compare page's scatter plot, drawn as SVG: one dot per run at (X, Y) where X and Y are each
// a param or a metric (latest value). Numeric values get a linear axis with round ticks; a param
// whose values are not all numbers is a category axis (its distinct values, evenly spaced).
// Hovering shows the runs under the cursor (several when dots overlap). Runs lacking X or Y are
// counted in a note, not drawn.
import { h, clear, formatNumber } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 320;
const MARGIN = { top: 14, right: 18, bottom: 46, left: 64 };
const s = svgElement;

// An SVG element (h() makes HTML ones); text children become text nodes.
export function svgElement(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// The value of field 'params.<k>' or 'metrics.<k>' for a run (string, number or undefined).
export function fieldValue(run, field) {
  const dot = field.indexOf('.');
  const kind = field.slice(0, dot);
  const key = field.slice(dot + 1);
  if (kind === 'params') return run.data?.params?.find((p) => p.key === key)?.value;
  if (kind === 'metrics') {
    const m = run.data?.metrics?.find((x) => x.key === key);
    return m === undefined ? undefined : Number(m.value);
  }
  return undefined;
}

function asNumber(v) {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.trim() === '') return NaN;
  return Number(v);
}

// Round tick values covering [min, max], about `count` of them.
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw) ?? 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

// Ticks of a log axis over [lmin, lmax] (log10 units): the powers of 10, with 2 and 5 between
// them when the range spans less than two decades.
function logTicks(lmin, lmax) {
  const ticks = [];
  const few = lmax - lmin < 2;
  for (let e = Math.floor(lmin); e <= Math.ceil(lmax); e += 1) {
    for (const f of few ? [1, 2, 5] : [1]) {
      const t = f * 10 ** e;
      const lt = Math.log10(t);
      if (lt >= lmin - 1e-9 && lt <= lmax + 1e-9) ticks.push(Number(t.toPrecision(12)));
    }
  }
  return ticks;
}

// An axis over `values` (one per run, undefined when missing), `length` pixels long:
// {kind: 'numeric'|'log'|'category', pos(value) -> px (NaN when it cannot be placed),
// ticks: [{at, label}]}. `log` asks for a log10 axis; it applies to numbers when some are
// positive (the others cannot be placed).
export function makeAxis(values, length, { log = false } = {}) {
  const present = values.filter((v) => v !== undefined);
  const numeric = present.length > 0 && present.every((v) => Number.isFinite(asNumber(v)));
  const positive = numeric ? present.map(asNumber).filter((v) => v > 0) : [];
  if (log && positive.length) {
    let lmin = Math.log10(Math.min(...positive));
    let lmax = Math.log10(Math.max(...positive));
    const pad = lmax > lmin ? (lmax - lmin) * 0.06 : 0.5;
    lmin -= pad;
    lmax += pad;
    const pos = (v) => {
      const n = asNumber(v);
      return n > 0 ? ((Math.log10(n) - lmin) / (lmax - lmin)) * length : NaN;
    };
    return { kind: 'log', pos, ticks: logTicks(lmin, lmax).map((t) => ({ at: pos(t), label: formatNumber(t) })) };
  }
  if (numeric) {
    const nums = present.map(asNumber);
    let min = Math.min(...nums);
    let max = Math.max(...nums);
    if (min === max) {
      const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
      min -= pad;
      max += pad;
    } else {
      const pad = (max - min) * 0.06;
      min -= pad;
      max += pad;
    }
    const pos = (v) => ((asNumber(v) - min) / (max - min)) * length;
    const ticks = niceTicks(min, max, Math.max(2, Math.round(length / 90)))
      .map((t) => ({ at: pos(t), label: formatNumber(t) }));
    return { kind: 'numeric', pos, ticks };
  }
  const categories = [...new Set(present.map(String))]
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const band = length / Math.max(1, categories.length);
  const index = new Map(categories.map((c, i) => [c, i]));
  const pos = (v) => (index.get(String(v)) + 0.5) * band;
  return { kind: 'category', pos, categories,
           ticks: categories.map((c, i) => ({ at: (i + 0.5) * band, label: c })) };
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function fieldLabel(field) {
  return field.startsWith('params.') ? `${field.slice(7)} (param)` : field.slice(8);
}

// The scatter view: `element` (plot and note) and `controls` (the axis pickers, for the
// caller to place). `fields` = {params: [keys], metrics: [keys]}; `labels` parallel to `runs`
// ([{name, color}]); `state` {x, y, logX, logY} (field ids, log axes) and `onState(partial)` keep
// the choice in the URL.
// Returns {element, controls, draw(), destroy()}.
export function compareScatter(runs, labels, fields, state, onState) {
  const options = [
    ['Parameters', fields.params.map((k) => `params.${k}`)],
    ['Metrics', fields.metrics.map((k) => `metrics.${k}`)],
  ];
  const all = options.flatMap(([, list]) => list);
  const pickDefault = (wanted, fallback) => (all.includes(wanted) ? wanted : fallback);
  let x = pickDefault(state.x, defaultX(runs, fields));
  let y = pickDefault(state.y, fields.metrics.length ? `metrics.${fields.metrics[0]}` : all[0]);
  let logX = Boolean(state.logX);
  let logY = Boolean(state.logY);

  const select = (value, label, cls) => h('select', { class: cls, 'aria-label': label },
    options.filter(([, list]) => list.length).map(([group, list]) => h('optgroup', { label: group },
      list.map((f) => h('option', { value: f, selected: f === value }, fieldLabel(f))))));
  const xSelect = select(x, 'Scatter X', 'scatter-x');
  const ySelect = select(y, 'Scatter Y', 'scatter-y');
  const plotHost = h('div', { class: 'scatter-host' });
  const note = h('div', { class: 'scatter-note muted' });
  const tooltip = h('div', { class: 'scatter-tooltip', hidden: true });
  const wrap = h('div', { class: 'scatter-wrap' }, plotHost, tooltip);

  const logXBox = h('input', { type: 'checkbox', class: 'scatter-log-x', checked: logX, 'aria-label': 'Log X' });
  const logYBox = h('input', { type: 'checkbox', class: 'scatter-log-y', checked: logY, 'aria-label': 'Log Y' });
  xSelect.addEventListener('change', () => { x = xSelect.value; onState({ x }); draw(); });
  ySelect.addEventListener('change', () => { y = ySelect.value; onState({ y }); draw(); });
  logXBox.addEventListener('change', () => { logX = logXBox.checked; onState({ logX }); draw(); });
  logYBox.addEventListener('change', () => { logY = logYBox.checked; onState({ logY }); draw(); });

  let points = [];
  function draw() {
    clear(plotHost);
    tooltip.hidden = true;
    if (!all.length) {
      plotHost.append(h('div', { class: 'empty' }, 'These runs have no params or metrics to plot.'));
      return;
    }
    const width = Math.max(280, plotHost.clientWidth || 520);
    const innerW = width - MARGIN.left - MARGIN.right;
    const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const xs = runs.map((r) => fieldValue(r, x));
    const ys = runs.map((r) => fieldValue(r, y));
    const xAxis = makeAxis(xs, innerW, { log: logX });
    const yAxis = makeAxis(ys, innerH, { log: logY });
    // Text values have no log scale.
    logXBox.disabled = xAxis.kind === 'category';
    logYBox.disabled = yAxis.kind === 'category';
    const py = (v) => innerH - yAxis.pos(v);
    const grid = s('g', { class: 'scatter-grid' });
    const axes = s('g', { class: 'scatter-axes' });
    for (const t of yAxis.ticks) {
      const at = innerH - t.at;
      grid.append(s('line', { x1: 0, x2: innerW, y1: at, y2: at }));
      axes.append(s('text', { x: -8, y: at, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        s('title', {}, t.label), shorten(t.label, 9)));
    }
    const maxLabel = Math.max(4, Math.floor(innerW / Math.max(1, xAxis.ticks.length) / 7));
    for (const t of xAxis.ticks) {
      grid.append(s('line', { x1: t.at, x2: t.at, y1: 0, y2: innerH }));
      axes.append(s('text', { x: t.at, y: innerH + 16, 'text-anchor': 'middle' },
        s('title', {}, t.label), shorten(t.label, maxLabel)));
    }
    axes.append(s('line', { class: 'axis-line', x1: 0, x2: innerW, y1: innerH, y2: innerH }),
                s('line', { class: 'axis-line', x1: 0, x2: 0, y1: 0, y2: innerH }));
    axes.append(s('text', { class: 'axis-title', x: innerW / 2, y: innerH + 38, 'text-anchor': 'middle' }, fieldLabel(x)));
    axes.append(s('text', { class: 'axis-title', transform: `translate(${-MARGIN.left + 14} ${innerH / 2}) rotate(-90)`,
                            'text-anchor': 'middle' }, fieldLabel(y)));
    points = [];
    const dots = s('g', { class: 'scatter-points' });
    runs.forEach((run, i) => {
      if (xs[i] === undefined || ys[i] === undefined) return;
      const cx = xAxis.pos(xs[i]);
      const cy = py(ys[i]);
      if (!Number.isFinite(cx) || !Number.isFinite(cy)) return;
      points.push({ i, cx, cy });
      dots.append(s('circle', { class: 'scatter-point', cx, cy, r: 6, fill: labels[i].color,
                                'data-run-id': run.info.run_id }));
    });
    const svg = s('svg', { class: 'scatter-svg', width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`,
                           role: 'img', 'aria-label': `${fieldLabel(y)} against ${fieldLabel(x)}` },
      s('g', { transform: `translate(${MARGIN.left} ${MARGIN.top})` }, grid, axes, dots));
    svg.addEventListener('mousemove', (event) => hover(svg, event));
    svg.addEventListener('mouseleave', () => { tooltip.hidden = true; markHover(svg, []); });
    plotHost.append(svg);
    const missing = runs.length - points.length;
    note.textContent = missing
      ? `${missing} run${missing === 1 ? '' : 's'} not shown: no ${fieldLabel(x)} or ${fieldLabel(y)}` +
        `${logX || logY ? ', or a value ≤ 0 on a log axis' : ''}.` : '';
    plotHost.dataset.points = String(points.length);

    function hover(svgEl, event) {
      const box = svgEl.getBoundingClientRect();
      const mx = event.clientX - box.left - MARGIN.left;
      const my = event.clientY - box.top - MARGIN.top;
      const near = points.map((p) => ({ ...p, d: Math.hypot(p.cx - mx, p.cy - my) }))
        .filter((p) => p.d <= 10).sort((a, b) => a.d - b.d);
      markHover(svgEl, near);
      if (!near.length) { tooltip.hidden = true; return; }
      tooltip.replaceChildren(...near.slice(0, 6).map((p) => h('div', { class: 'scatter-tooltip-run' },
        h('div', {}, h('span', { class: 'swatch', style: { background: labels[p.i].color } }),
          h('b', {}, labels[p.i].name)),
        h('div', { class: 'muted' }, `${fieldLabel(x)}: ${display(xs[p.i])}`),
        h('div', { class: 'muted' }, `${fieldLabel(y)}: ${display(ys[p.i])}`))),
        ...(near.length > 6 ? [h('div', { class: 'muted' }, `and ${near.length - 6} more`)] : []));
      tooltip.hidden = false;
      const left = MARGIN.left + near[0].cx + 12;
      const hostWidth = plotHost.clientWidth;
      tooltip.style.left = `${left + tooltip.offsetWidth > hostWidth ? Math.max(0, left - 24 - tooltip.offsetWidth) : left}px`;
      tooltip.style.top = `${Math.max(0, MARGIN.top + near[0].cy - 10)}px`;
    }
  }

  function markHover(svgEl, near) {
    const ids = new Set(near.map((p) => runs[p.i].info.run_id));
    svgEl.querySelectorAll('.scatter-point').forEach((c) => c.classList.toggle('hover', ids.has(c.dataset.runId)));
  }

  const controls = h('div', { class: 'scatter-controls' },
    h('label', {}, 'X ', xSelect), h('label', { class: 'log', title: 'Log scale X' }, logXBox, 'log'),
    h('label', {}, 'Y ', ySelect), h('label', { class: 'log', title: 'Log scale Y' }, logYBox, 'log'));
  const element = h('div', { class: 'compare-scatter' }, wrap, note);

  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    const w = plotHost.clientWidth;
    if (w && w !== lastWidth) {
      lastWidth = w;
      draw();
    }
  });
  observer.observe(plotHost);
  return { element, controls, destroy: () => observer.disconnect(), draw };
}

function display(v) {
  return typeof v === 'number' ? formatNumber(v) : String(v);
}

// The first param whose values differ across the runs (numeric ones first), else the first
// metric.
function defaultX(runs, fields) {
  const varying = fields.params.filter((k) => new Set(runs.map((r) => fieldValue(r, `params.${k}`))).size > 1);
  const numeric = varying.find((k) => runs.every((r) => {
    const v = fieldValue(r, `params.${k}`);
    return v === undefined || Number.isFinite(asNumber(v));
  }));
  const pick = numeric ?? varying[0] ?? fields.params[0];
  if (pick !== undefined) return `params.${pick}`;
  return fields.metrics.length ? `metrics.${fields.metrics[0]}` : '';
}
