// Previews of one run artifact, for the Artifacts tab. By the file's name:
//   text (txt, log, py, md, yaml, no extension, ...)  the first 1 MB as text (noted if cut)
//   json                                             pretty-printed (raw text if it does not parse)
//   csv, tsv                                         a table of the first 500 rows (RFC 4180 quoting)
//   png, jpg, gif, svg, webp, ...                    the image
//   MLmodel, or a folder holding one                 the model (run_model_view.js)
//   anything else                                    a download link
// Every file gets a download link. Failures (a missing file, a server error) show in the pane
// with the server's message.
import { ApiError, artifactUrl } from './api.js';
import { h, errorBox, formatBytes, loading } from './dom.js';
import { renderModelView } from './run_model_view.js';

export const MAX_TEXT_BYTES = 1024 * 1024;
export const MAX_TABLE_ROWS = 500;

const TEXT_EXT = new Set(['txt', 'log', 'py', 'md', 'markdown', 'rst', 'sh', 'bash', 'r', 'sql', 'cfg', 'ini',
  'toml', 'conf', 'xml', 'html', 'htm', 'css', 'js', 'mjs', 'ts', 'java', 'c', 'cc', 'cpp', 'h', 'hpp',
  'go', 'rs', 'scala', 'kt', 'rb', 'pl', 'swift', 'lua', 'jl', 'tex', 'jsonl', 'ndjson', 'yaml', 'yml',
  'out', 'err', 'properties', 'env', 'gitignore', 'dockerfile', 'diff', 'patch', 'proto', 'graphql']);
const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico', 'avif']);

function extension(name) {
  const at = name.lastIndexOf('.');
  return at <= 0 ? '' : name.slice(at + 1).toLowerCase();
}

// How a file named `name` is previewed: 'model' | 'json' | 'table' | 'image' | 'text' | 'none'.
export function previewKind(name) {
  if (name === 'MLmodel') return 'model';
  const ext = extension(name);
  if (ext === 'json' || ext === 'ipynb' || ext === 'geojson') return 'json';
  if (ext === 'csv' || ext === 'tsv') return 'table';
  if (IMAGE_EXT.has(ext)) return 'image';
  if (TEXT_EXT.has(ext) || ext === '') return 'text';
  return 'none';
}

// Reads at most `maxBytes` of `url` as UTF-8 text without downloading the rest:
// {text, truncated}. A failed answer throws ApiError with the server's message.
export async function readPrefix(url, { maxBytes = MAX_TEXT_BYTES, signal } = {}) {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    const body = await response.text();
    let code = 'HTTP_ERROR';
    let message = `HTTP ${response.status}`;
    try {
      const json = JSON.parse(body);
      code = json.error_code ?? code;
      message = json.message ?? message;
    } catch {
      if (body) message = `${message}: ${body.slice(0, 300)}`;
    }
    throw new ApiError(response.status, code, message);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let chunk = value;
    if (bytes + chunk.length > maxBytes) {
      chunk = chunk.subarray(0, maxBytes - bytes);
      truncated = true;
    }
    bytes += chunk.length;
    text += decoder.decode(chunk, { stream: true });  // a character cut at the end is dropped
    if (truncated) {
      await reader.cancel();
      break;
    }
  }
  if (!truncated) text += decoder.decode();
  return { text, truncated };
}

// Splits delimited text into rows of fields (RFC 4180: fields in double quotes may hold the
// delimiter, newlines and "" for a quote). Stops after `maxRows` rows: {rows, more}, `more`
// telling whether rows were left.
export function parseDelimited(text, delimiter = ',', maxRows = Infinity) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
        i += 1;
        continue;
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === '') { quoted = true; i += 1; continue; }
    if (c === delimiter) { row.push(field); field = ''; i += 1; continue; }
    if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      if (rows.length >= maxRows) return { rows, more: i < n };
      continue;
    }
    field += c;
    i += 1;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return { rows, more: false };
}

function truncatedNote(entry) {
  const size = entry?.file_size ? ` of ${formatBytes(entry.file_size)}` : '';
  return h('div', { class: 'art-note' }, `Showing the first ${formatBytes(MAX_TEXT_BYTES)}${size}; download the file for all of it.`);
}

function textView(text) {
  return h('pre', { class: 'art-text' }, text);
}

async function jsonView(url, entry, signal) {
  const { text, truncated } = await readPrefix(url, { signal });
  if (truncated) return [truncatedNote(entry), textView(text)];
  try {
    return [h('pre', { class: 'art-text art-json' }, JSON.stringify(JSON.parse(text), null, 2))];
  } catch (err) {
    return [h('div', { class: 'art-note' }, `Not valid JSON (${err.message}); shown as text.`), textView(text)];
  }
}

async function tableView(url, entry, name, signal) {
  const { text, truncated } = await readPrefix(url, { signal });
  const delimiter = extension(name) === 'tsv' ? '\t' : ',';
  const { rows, more } = parseDelimited(text, delimiter, MAX_TABLE_ROWS + 1);
  if (truncated && !more && rows.length > 1) rows.pop();  // the last row may be cut off
  if (!rows.length) return [h('div', { class: 'empty' }, 'Empty file.')];
  const [head, ...body] = rows;
  const width = Math.max(...rows.map((r) => r.length));
  const notes = [];
  if (more || truncated) notes.push(h('div', { class: 'art-note' }, `Showing the first ${body.length} rows; download the file for all of them.`));
  return [...notes, h('div', { class: 'art-table-box' }, h('table', { class: 'grid art-table' },
    h('thead', {}, h('tr', {}, h('th', { class: 'num muted' }, '#'),
                     Array.from({ length: width }, (_, i) => h('th', {}, head[i] ?? '')))),
    h('tbody', {}, body.map((r, k) => h('tr', {}, h('td', { class: 'num muted' }, String(k + 1)),
                                        Array.from({ length: width }, (_, i) => h('td', { title: r[i] ?? '' }, r[i] ?? '')))))))];
}

function imageView(url, signal) {
  const info = h('div', { class: 'art-note' });
  const box = h('div', { class: 'art-image-box' });
  const img = h('img', { class: 'art-image', src: url, alt: '' });
  img.addEventListener('load', () => { info.textContent = `${img.naturalWidth} × ${img.naturalHeight} px`; });
  img.addEventListener('error', async () => {
    // The element cannot say why; ask the server for its message.
    try {
      await readPrefix(url, { maxBytes: 1, signal });
      box.replaceChildren(errorBox('The image cannot be displayed (unknown or damaged format).'));
    } catch (err) {
      if (err.name !== 'AbortError') box.replaceChildren(errorBox(err, 'Cannot load the image'));
    }
  });
  box.append(img);
  return [info, box];
}

function folderView(path, listing, onSelect) {
  const entries = listing ?? [];
  if (!entries.length) return [h('div', { class: 'empty' }, 'Empty folder.')];
  return [h('table', { class: 'grid art-folder' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'num' }, 'Size'))),
    h('tbody', {}, entries.map((e) => h('tr', {},
      h('td', {}, h('a', { href: '#', onclick: (event) => { event.preventDefault(); onSelect(e.path); } },
                    e.path.slice(path.length + 1) + (e.is_dir ? '/' : ''))),
      h('td', { class: 'num' }, e.is_dir ? '' : formatBytes(e.file_size ?? 0))))))];
}

// Fills `pane` with the preview of the artifact `path` of run `runId`. `entry` is its listing
// entry ({path, is_dir, file_size}) when known, `listing` a folder's entries; onSelect(path)
// selects another artifact (links in a folder's table).
export async function renderArtifactPreview(pane, { runId, path, entry, listing, signal, onSelect }) {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const isDir = Boolean(entry?.is_dir);
  const url = artifactUrl(runId, path);
  const actions = isDir ? [] : [h('a', { class: 'button art-download', href: url, download: name }, 'Download')];
  const head = h('div', { class: 'art-preview-head' },
    h('div', { class: 'art-path' }, h('code', {}, path + (isDir ? '/' : '')),
      entry && !isDir ? h('span', { class: 'muted art-path-size' }, formatBytes(entry.file_size ?? 0)) : null),
    h('div', { class: 'art-actions' }, actions));
  const body = h('div', { class: 'art-preview-body' }, loading());
  pane.replaceChildren(head, body);
  pane.dataset.path = path;
  pane.dataset.state = 'loading';
  try {
    let content;
    const hasModel = isDir && (listing ?? []).some((e) => e.path === `${path}/MLmodel`);
    if (isDir && hasModel) {
      content = await renderModelView({ runId, folder: path, signal });
      content.push(h('h3', {}, 'Files'), ...folderView(path, listing, onSelect));
    } else if (isDir) {
      content = folderView(path, listing, onSelect);
    } else {
      const kind = previewKind(name);
      if (kind === 'model') content = await renderModelView({ runId, folder: path.slice(0, Math.max(0, path.lastIndexOf('/'))), signal, rawUrl: url });
      else if (kind === 'json') content = await jsonView(url, entry, signal);
      else if (kind === 'table') content = await tableView(url, entry, name, signal);
      else if (kind === 'image') content = imageView(url, signal);
      else if (kind === 'text') {
        const { text, truncated } = await readPrefix(url, { signal });
        content = truncated ? [truncatedNote(entry), textView(text)] : [textView(text)];
      } else {
        // Make sure the file is there before offering it.
        await readPrefix(url, { maxBytes: 1, signal });
        content = [h('div', { class: 'empty' }, `No preview for this file type. `, h('a', { href: url, download: name }, `Download ${name}`))];
      }
    }
    if (signal.aborted) return;
    body.replaceChildren(...content);
    pane.dataset.state = 'ready';
  } catch (err) {
    if (err.name === 'AbortError' || signal.aborted) return;
    body.replaceChildren(errorBox(err, `Cannot load '${path}'`));
    for (const link of actions) link.remove();
    pane.dataset.state = 'error';
  }
}
