import { h } from '../dom.js';

export async function renderExperiments(container) {
  container.append(h('div', { class: 'page' }, h('h1', {}, 'Experiments')));
}
