// The app's router. Pages live behind the URL's hash, so every view (filters, sort, columns,
// tabs) is a link that can be reloaded or shared:
//   #/experiments                        experiments list            pages/experiments.js
//   #/experiments/<id>[,<id>...]?...     runs leaderboard            pages/leaderboard.js
//   #/runs/<run id>?tab=...              run page                    pages/run.js
//   #/compare?runs=<id>,<id>...          compare runs                pages/compare.js
//   #/models                             registered models           pages/registry.js
//   #/models/<name>                      a model's versions          pages/registry.js
//   #/models/<name>/versions/<version>   one version                 pages/registry.js
// A page is `async render(container, {params, query, navigate})`; it may return a function
// that the router calls before the next page renders (to stop timers and requests).
import { h, clear, errorBox } from './dom.js';
import { renderExperiments } from './pages/experiments.js';
import { renderLeaderboard } from './pages/leaderboard.js';
import { renderRun } from './pages/run.js';
import { renderCompare } from './pages/compare.js';
import { renderModels, renderModel, renderModelVersion } from './pages/registry.js';

const routes = [
  { pattern: /^\/?$/, page: renderExperiments, nav: 'experiments' },
  { pattern: /^\/experiments$/, page: renderExperiments, nav: 'experiments' },
  { pattern: /^\/experiments\/([^/]+)$/, page: renderLeaderboard, nav: 'experiments', names: ['ids'] },
  { pattern: /^\/runs\/([^/]+)$/, page: renderRun, nav: 'experiments', names: ['runId'] },
  { pattern: /^\/compare$/, page: renderCompare, nav: 'experiments' },
  { pattern: /^\/models$/, page: renderModels, nav: 'models' },
  { pattern: /^\/models\/([^/]+)$/, page: renderModel, nav: 'models', names: ['name'] },
  { pattern: /^\/models\/([^/]+)\/versions\/([^/]+)$/, page: renderModelVersion, nav: 'models',
    names: ['name', 'version'] },
];

// Parses location.hash into {path, query}.
export function currentLocation() {
  const hash = location.hash.replace(/^#/, '');
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  const query = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  return { path, query };
}

// Builds "#/path?query" from a path and an object or URLSearchParams (empty values dropped).
export function hashFor(path, query = {}) {
  const search = new URLSearchParams();
  const entries = query instanceof URLSearchParams ? query.entries() : Object.entries(query);
  for (const [key, value] of entries) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

// Changes the URL; `replace` keeps the history entry (for sort/filter changes typed in place).
// `silent` updates the URL without re-rendering (the page already shows the state).
export function navigate(hash, { replace = false, silent = false } = {}) {
  if (silent) {
    history.replaceState(null, '', hash);
    return;
  }
  if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else {
    location.hash = hash;
  }
}

let cleanup = null;
let generation = 0;

async function route() {
  const { path, query } = currentLocation();
  const app = document.getElementById('app');
  if (cleanup) {
    try { cleanup(); } catch (err) { console.error(err); }
    cleanup = null;
  }
  const mine = ++generation;
  for (const { pattern, page, nav, names = [] } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = {};
    names.forEach((name, i) => { params[name] = decodeURIComponent(match[i + 1]); });
    document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === nav));
    clear(app);
    try {
      const result = await page(app, { params, query, navigate });
      if (typeof result === 'function') {
        if (mine === generation) cleanup = result;
        else result();
      }
    } catch (err) {
      if (mine !== generation || err.name === 'AbortError') return;
      console.error(err);
      app.append(errorBox(err));
    }
    return;
  }
  clear(app).append(h('div', { class: 'page' }, h('h1', {}, 'Page not found'),
                      h('p', {}, `No page at '${path}'. `, h('a', { href: '#/experiments' }, 'Experiments'))));
}

window.addEventListener('hashchange', route);
route();
