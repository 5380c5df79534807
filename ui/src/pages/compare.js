import { h } from '../dom.js';

export async function renderCompare(container) {
  container.append(h('div', { class: 'page' }, h('h1', {}, 'Compare runs')));
}
