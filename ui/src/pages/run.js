// The run page, #/runs/<run id>?tab=overview|metrics|artifacts[&...tab state]: a header (name,
// status, breadcrumbs to the experiment's leaderboard, parent run) and three tabs, each in its
// own module:
//   overview   run_overview.js   details, description (editable), params, metrics, tags
//   metrics    run_metrics.js    charts; state in metrics=a,b&x=step&smooth=0.6&log=1&overlay=1
//   artifacts  artifacts.js      tree and preview; state in path=<artifact path>
// Switching tabs is a navigation (back returns to the previous tab); changes inside a tab only
// rewrite the URL in place. While the run is RUNNING the page polls runs/get every 3 s and hands
// the fresh run to the tab, until the run ends or the page is left.
import { api } from '../api.js';
import { hashFor, currentLocation } from '../main.js';
import { h, errorBox, loading, tagValue } from '../dom.js';
import { renderOverview } from '../run_overview.js';
import { renderMetricsTab } from '../run_metrics.js';
import { renderArtifactsTab } from '../artifacts.js';

const TABS = [
  { id: 'overview', label: 'Overview', render: renderOverview },
  { id: 'metrics', label: 'Metrics', render: renderMetricsTab },
  { id: 'artifacts', label: 'Artifacts', render: renderArtifactsTab },
];
const LIVE_INTERVAL_MS = 3000;

export function runName(run) {
  return run?.info?.run_name || tagValue(run, 'mlflow.runName') || run?.info?.run_id || '';
}

export async function renderRun(container, { params, query, navigate }) {
  const runId = params.runId;
  const controller = new AbortController();
  const { signal } = controller;
  const page = h('div', { class: 'page run-page' }, loading('Loading run…'));
  container.append(page);
  let timer = null;
  let tab = null;
  const cleanup = () => {
    controller.abort();
    clearTimeout(timer);
    tab?.destroy?.();
  };

  let run;
  try {
    run = (await api.get('runs/get', { run_id: runId }, { signal })).run;
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    page.replaceChildren(
      h('div', { class: 'breadcrumbs' }, h('a', { href: '#/experiments' }, 'Experiments')),
      h('h1', {}, 'Run not found'),
      errorBox(err, `Cannot load run '${runId}'`));
    return cleanup;
  }

  const tabId = TABS.some((t) => t.id === query.get('tab')) ? query.get('tab') : 'overview';
  const path = `/runs/${encodeURIComponent(runId)}`;
  // Rewrites the URL's query in place (no new history entry, no re-render): `changes` values of
  // null/undefined/'' remove a key.
  const setQuery = (changes) => {
    const next = currentLocation().query;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === undefined || value === '') next.delete(key);
      else next.set(key, String(value));
    }
    navigate(hashFor(path, next), { silent: true });
  };

  // The experiment's name for the breadcrumbs (its id stands in if it cannot be read).
  const experiment = await api.get('experiments/get', { experiment_id: run.info.experiment_id }, { signal })
    .then((answer) => answer.experiment, (err) => { if (err.name === 'AbortError') throw err; return null; });
  const experimentLink = h('a', { href: `#/experiments/${encodeURIComponent(run.info.experiment_id)}` },
                           experiment?.name ?? `Experiment ${run.info.experiment_id}`);

  const status = h('span', { class: `status ${run.info.status}` }, run.info.status);
  const title = h('span', {}, runName(run));
  const meta = h('div', { class: 'run-meta muted' });
  const header = h('div', { class: 'run-header' },
    h('div', { class: 'breadcrumbs' }, h('a', { href: '#/experiments' }, 'Experiments'), ' › ', experimentLink,
      ' › ', h('span', {}, runName(run))),
    h('h1', { class: 'run-title' }, title, ' ', status),
    meta);
  function renderMeta() {
    const parentId = tagValue(run, 'mlflow.parentRunId');
    const parts = [h('span', {}, 'Run ID ', h('code', { class: 'run-id' }, run.info.run_id))];
    if (parentId) {
      const parentLink = h('a', { href: `#/runs/${encodeURIComponent(parentId)}`, class: 'parent-run' }, parentId);
      parts.push(h('span', {}, 'Parent run ', parentLink));
      api.get('runs/get', { run_id: parentId }, { signal })
        .then(({ run: parent }) => { parentLink.textContent = runName(parent); })
        .catch(() => {});
    }
    meta.replaceChildren(...parts);
  }
  renderMeta();

  const tabBar = h('nav', { class: 'tabs' }, TABS.map((t) => h('a', {
    href: hashFor(path, { tab: t.id }),
    class: t.id === tabId ? 'active' : '',
    dataset: { tab: t.id },
    onclick: (event) => {
      // Keep the other tabs' state (e.g. the chosen metrics) in the link the user follows.
      event.preventDefault();
      const next = currentLocation().query;
      next.set('tab', t.id);
      navigate(hashFor(path, next));
    },
  }, t.id === 'metrics' ? `${t.label} (${run.data?.metrics?.length ?? 0})` : t.label)));
  const body = h('div', { class: 'run-tab' });
  page.replaceChildren(header, tabBar, body);

  const ctx = { runId, run, experiment, query, signal, setQuery, navigate, path };
  tab = (await TABS.find((t) => t.id === tabId).render(body, ctx)) ?? {};

  // Live updates while the run is running; the last poll that sees it ended refreshes once more.
  async function poll() {
    try {
      const fresh = (await api.get('runs/get', { run_id: runId }, { signal })).run;
      run = fresh;
      ctx.run = fresh;
      title.textContent = runName(fresh);
      status.className = `status ${fresh.info.status}`;
      status.textContent = fresh.info.status;
      tabBar.querySelector('[data-tab=metrics]').textContent = `Metrics (${fresh.data?.metrics?.length ?? 0})`;
      await tab.refresh?.(fresh);
    } catch (err) {
      if (err.name === 'AbortError') return;
      console.warn('run refresh failed', err);
    }
    if (!signal.aborted && run.info.status === 'RUNNING') timer = setTimeout(poll, LIVE_INTERVAL_MS);
  }
  if (run.info.status === 'RUNNING') timer = setTimeout(poll, LIVE_INTERVAL_MS);
  return cleanup;
}
