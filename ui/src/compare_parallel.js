// The compare page's parallel coordinates, drawn as SVG: one vertical axis per param or metric,
// one line per run crossing each axis at its value (numbers on a linear axis, text values as
// evenly spaced categories; see makeAxis). The axes are picked from the runs: the params whose
// values differ, then the metrics (the charted one first), at most MAX_AXES. A run lacking a
// value has a gap in its line there.
import { h, clear, formatNumber } from './dom.js';
import { fieldLabel, fieldValue, makeAxis, svgElement as s } from './compare_scatter.js';

const HEIGHT = 320;
const MARGIN = { top: 34, right: 44, bottom: 20, left: 44 };
const MAX_AXES = 8;

// The fields to draw: varying params (at most MAX_AXES - 2 of them), then metrics, `first`
// (a metric key) leading them.
export function parallelFields(runs, fields, first) {
  const varies = (field) => new Set(runs.map((r) => {
    const v = fieldValue(r, field);
    return v === undefined ? '\u0000missing' : String(v);
  })).size > 1;
  const params = fields.params.map((k) => `params.${k}`).filter(varies).slice(0, MAX_AXES - 2);
  const metrics = fields.metrics.map((k) => `metrics.${k}`)
    .sort((a, b) => (b === `metrics.${first}`) - (a === `metrics.${first}`));
  return [...params, ...metrics].slice(0, MAX_AXES);
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Returns {element, draw(), destroy()}; draw() redraws at the host's current width.
export function compareParallel(runs, labels, fields, { metric }) {
  const chosen = parallelFields(runs, fields, metric);
  const host = h('div', { class: 'parallel-host' });
  const tooltip = h('div', { class: 'scatter-tooltip', hidden: true });
  const note = h('div', { class: 'scatter-note muted' });
  const element = h('div', { class: 'compare-parallel' }, h('div', { class: 'parallel-wrap' }, host, tooltip), note);

  function draw() {
    clear(host);
    tooltip.hidden = true;
    if (chosen.length < 2) {
      host.append(h('div', { class: 'empty' }, 'Parallel coordinates need two params or metrics that differ between the runs.'));
      return;
    }
    const width = Math.max(320, host.clientWidth || 520);
    const innerW = width - MARGIN.left - MARGIN.right;
    const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const step = innerW / (chosen.length - 1);
    const axes = chosen.map((field, k) => {
      const values = runs.map((r) => fieldValue(r, field));
      return { field, values, x: k * step, axis: makeAxis(values, innerH) };
    });
    const axisGroup = s('g', { class: 'parallel-axes' });
    const maxTitle = Math.max(5, Math.floor(step / 7.5));
    // Axis titles are the bare keys (params in italics); the full label is in their tooltip.
    const keyOf = (field) => field.slice(field.indexOf('.') + 1);
    for (const a of axes) {
      const g = s('g', { transform: `translate(${a.x} 0)` });
      g.append(s('line', { class: 'axis-line', x1: 0, x2: 0, y1: 0, y2: innerH }));
      const ticks = a.axis.kind === 'category' ? a.axis.ticks : thin(a.axis.ticks, 5);
      for (const t of ticks) {
        const y = innerH - t.at;
        g.append(s('line', { class: 'tick', x1: -3, x2: 3, y1: y, y2: y }),
                 s('text', { x: -5, y, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
                   s('title', {}, t.label), shorten(t.label, 8)));
      }
      g.append(s('text', { class: `axis-title${a.field.startsWith('params.') ? ' param' : ''}`, x: 0, y: -14,
                           'text-anchor': 'middle' },
                 s('title', {}, fieldLabel(a.field)), shorten(keyOf(a.field), maxTitle)));
      axisGroup.append(g);
    }
    const lines = s('g', { class: 'parallel-lines' });
    let partial = 0;
    runs.forEach((run, i) => {
      let d = '';
      let pen = false;
      let gaps = false;
      for (const a of axes) {
        const v = a.values[i];
        const y = v === undefined ? NaN : innerH - a.axis.pos(v);
        if (!Number.isFinite(y)) { pen = false; gaps = true; continue; }
        d += `${pen ? 'L' : 'M'}${a.x.toFixed(1)} ${y.toFixed(1)} `;
        pen = true;
      }
      if (gaps) partial += 1;
      if (!d) return;
      // A wide transparent twin of the line takes the pointer, so a thin line is easy to hover.
      const line = s('path', { class: 'parallel-line', d: d.trim(), stroke: labels[i].color,
                               'data-run-id': run.info.run_id });
      const hit = s('path', { class: 'parallel-hit', d: d.trim() });
      const group = s('g', { class: 'parallel-run' }, line, hit);
      group.addEventListener('mouseenter', (event) => { group.classList.add('hover'); showRun(i, event); });
      group.addEventListener('mousemove', (event) => place(event));
      group.addEventListener('mouseleave', () => { group.classList.remove('hover'); tooltip.hidden = true; });
      lines.append(group);
    });
    const svg = s('svg', { class: 'scatter-svg parallel-svg', width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`,
                           role: 'img', 'aria-label': `Parallel coordinates of ${chosen.map(fieldLabel).join(', ')}` },
      s('g', { transform: `translate(${MARGIN.left} ${MARGIN.top})` }, lines, axisGroup));
    host.append(svg);
    host.dataset.lines = String(lines.childElementCount);
    const skipped = fields.params.length + fields.metrics.length - chosen.length;
    note.textContent = [
      skipped ? `${skipped} key${skipped === 1 ? '' : 's'} not shown (same in every run, or over ${MAX_AXES} axes).` : '',
      partial ? `${partial} run${partial === 1 ? '' : 's'} lack some values (gaps).` : '',
    ].filter(Boolean).join(' ');

    function showRun(i, event) {
      tooltip.replaceChildren(
        h('div', {}, h('span', { class: 'swatch', style: { background: labels[i].color } }), h('b', {}, labels[i].name)),
        ...axes.map((a) => h('div', { class: 'muted' }, `${fieldLabel(a.field)}: ${display(a.values[i])}`)));
      tooltip.hidden = false;
      place(event);
    }
    function place(event) {
      const box = host.getBoundingClientRect();
      const left = event.clientX - box.left + 14;
      tooltip.style.left = `${left + tooltip.offsetWidth > box.width ? Math.max(0, left - 28 - tooltip.offsetWidth) : left}px`;
      tooltip.style.top = `${Math.max(0, event.clientY - box.top - 10)}px`;
    }
  }

  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    const w = host.clientWidth;
    if (w && w !== lastWidth) {
      lastWidth = w;
      draw();
    }
  });
  observer.observe(host);
  return { element, draw, destroy: () => observer.disconnect() };
}

// At most `n` of the ticks, evenly picked, always keeping the first and the last.
function thin(ticks, n) {
  if (ticks.length <= n) return ticks;
  const out = [];
  for (let k = 0; k < n; k += 1) out.push(ticks[Math.round((k * (ticks.length - 1)) / (n - 1))]);
  return out;
}

function display(v) {
  if (v === undefined) return '—';
  return typeof v === 'number' ? formatNumber(v) : String(v);
}
