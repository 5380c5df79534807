import { h } from '../dom.js';

export async function renderModels(container) {
  container.append(h('div', { class: 'page' }, h('h1', {}, 'Registered models')));
}
export async function renderModel(container, { params }) {
  container.append(h('div', { class: 'page' }, h('h1', {}, params.name)));
}
export async function renderModelVersion(container, { params }) {
  container.append(h('div', { class: 'page' }, h('h1', {}, `${params.name} version ${params.version}`)));
}
