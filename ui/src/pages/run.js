import { h } from '../dom.js';

export async function renderRun(container, { params }) {
  container.append(h('div', { class: 'page' }, h('h1', {}, `Run ${params.runId}`)));
}
