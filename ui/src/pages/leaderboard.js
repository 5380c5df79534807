import { h } from '../dom.js';

export async function renderLeaderboard(container, { params }) {
  container.append(h('div', { class: 'page' }, h('h1', {}, `Runs of ${params.ids}`)));
}
