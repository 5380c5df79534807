// The run page's Artifacts tab: the run's artifact tree (folders list lazily through
// artifacts/list as they are opened, file sizes shown) beside a preview of the selected file or
// folder (run_artifact_preview.js). The selection lives in the URL as path=<artifact path>; on
// load the folders leading to it are opened.
import { api } from './api.js';
import { h, errorBox, formatBytes, loading } from './dom.js';
import { renderArtifactPreview } from './run_artifact_preview.js';

function baseName(path) {
  return path.slice(path.lastIndexOf('/') + 1);
}

function parentOf(path) {
  const at = path.lastIndexOf('/');
  return at < 0 ? '' : path.slice(0, at);
}

// Folders first, then files, each by name.
function order(a, b) {
  if (a.is_dir !== b.is_dir) return a.is_dir ? -1 : 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export async function renderArtifactsTab(el, ctx) {
  const { runId, run, signal } = ctx;
  const listings = new Map();  // folder path ('' = root) -> Promise of its sorted entries
  const nodes = new Map();     // artifact path -> {li, row, children, entry, open}
  let selected = null;
  let previewController = null;

  const tree = h('ul', { class: 'art-tree', role: 'tree' });
  const treeBox = h('div', { class: 'art-tree-box' }, loading('Listing artifacts…'));
  const pane = h('div', { class: 'art-preview' });
  el.append(h('div', { class: 'run-artifacts' },
    h('section', { class: 'panel art-tree-panel' },
      h('div', { class: 'art-root muted', title: run.info.artifact_uri }, 'Root ', h('code', {}, run.info.artifact_uri ?? '')),
      treeBox),
    h('section', { class: 'panel art-preview-panel' }, pane)));

  function list(path) {
    if (!listings.has(path)) {
      const promise = api.get('artifacts/list', { run_id: runId, path: path || undefined }, { signal })
        .then((answer) => (answer.files ?? []).slice().sort(order));
      promise.catch(() => listings.delete(path));  // a failed listing is retried when reopened
      listings.set(path, promise);
    }
    return listings.get(path);
  }

  function nodeFor(entry, depth) {
    const caret = h('span', { class: 'art-caret' }, entry.is_dir ? '▸' : '');
    const row = h('button', {
      class: `art-row ${entry.is_dir ? 'dir' : 'file'}`, role: 'treeitem', type: 'button',
      style: { paddingLeft: `${8 + depth * 16}px` }, dataset: { path: entry.path },
      onclick: () => {
        if (entry.is_dir) toggle(entry.path);
        select(entry.path);
      },
    }, caret, h('span', { class: `art-icon ${entry.is_dir ? 'dir' : 'file'}` }),
    h('span', { class: 'art-name' }, baseName(entry.path)),
    h('span', { class: 'art-size' }, entry.is_dir ? '' : formatBytes(entry.file_size ?? 0)));
    const children = h('ul', { class: 'art-children', role: 'group', hidden: true });
    const li = h('li', { class: 'art-node' }, row, children);
    nodes.set(entry.path, { li, row, caret, children, entry, depth, open: false, loaded: false });
    return li;
  }

  // Opens (or closes) a folder, listing it the first time.
  async function toggle(path, open) {
    const node = nodes.get(path);
    if (!node) return;
    node.open = open ?? !node.open;
    node.caret.textContent = node.open ? '▾' : '▸';
    node.row.setAttribute('aria-expanded', String(node.open));
    node.children.hidden = !node.open;
    if (!node.open || node.loaded) return;
    node.loaded = true;
    node.children.replaceChildren(h('li', { class: 'muted art-pending', style: { paddingLeft: `${28 + node.depth * 16}px` } }, 'Loading…'));
    try {
      const entries = await list(path);
      node.children.replaceChildren(...(entries.length ? entries.map((e) => nodeFor(e, node.depth + 1))
        : [h('li', { class: 'muted art-pending', style: { paddingLeft: `${28 + node.depth * 16}px` } }, 'Empty folder')]));
    } catch (err) {
      if (err.name === 'AbortError') return;
      node.loaded = false;
      node.children.replaceChildren(h('li', {}, errorBox(err, `Cannot list '${path}'`)));
    }
  }

  // Shows `path` in the preview pane and records it in the URL.
  async function select(path) {
    if (selected) nodes.get(selected)?.row.classList.remove('selected');
    selected = path;
    const node = nodes.get(path);
    node?.row.classList.add('selected');
    ctx.setQuery({ path });
    previewController?.abort();
    previewController = new AbortController();
    const localSignal = previewController.signal;
    let entry = node?.entry ?? null;
    let listing = null;
    try {
      if (!entry) {
        const siblings = await list(parentOf(path));
        entry = siblings.find((e) => e.path === path) ?? null;
      }
      if (entry?.is_dir) listing = await list(path);
    } catch (err) {
      if (err.name === 'AbortError') return;
      // The preview fetch below reports the problem with the server's own words.
    }
    if (localSignal.aborted) return;
    await renderArtifactPreview(pane, { runId, path, entry, listing, signal: localSignal,
                                         onSelect: (p) => reveal(p) });
  }

  // Opens the folders leading to `path`, then selects it.
  async function reveal(path) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (!nodes.has(folder)) break;
      await toggle(folder, true);
    }
    const node = nodes.get(parts.join('/'));
    node?.row.scrollIntoView({ block: 'nearest' });
    if (node?.entry.is_dir) toggle(node.entry.path, true);
    await select(parts.join('/'));
  }

  try {
    const entries = await list('');
    tree.replaceChildren(...entries.map((e) => nodeFor(e, 0)));
    treeBox.replaceChildren(entries.length ? tree : h('div', { class: 'empty' }, 'This run has no artifacts.'));
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    treeBox.replaceChildren(errorBox(err, 'Cannot list the artifacts'));
  }

  const initial = (ctx.query.get('path') ?? '').replace(/^\/+|\/+$/g, '');
  if (initial) await reveal(initial);
  else pane.replaceChildren(h('div', { class: 'empty art-hint' }, 'Select a file to preview it.'));

  return {
    destroy() {
      previewController?.abort();
    },
  };
}
