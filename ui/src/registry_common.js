// Pieces shared by the registry pages (pages/registry.js, registry_version.js): links, badges,
// alias chips, and the dialogs that change a model (set alias, delete alias, transition stage,
// edit a description). Every change goes to the server first; the page re-reads what the server
// then holds, so what is shown is never a guess. A refused change keeps its dialog open with the
// server's message in it.
import { api } from './api.js';
import { openDialog } from './dialog.js';
import { h, clear, errorBox } from './dom.js';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'];

export function modelHash(name) {
  return `#/models/${encodeURIComponent(name)}`;
}

export function versionHash(name, version) {
  return `#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
}

// A registry filter's string literal: single quotes, an inner quote doubled (the filter grammar).
export function quoteFilterValue(text) {
  return `'${String(text).replaceAll("'", "''")}'`;
}

// Status badge of a version (READY, PENDING_REGISTRATION, FAILED_REGISTRATION); the message, when
// there is one, in the tooltip.
export function statusBadge(version) {
  const status = version.status || 'READY';
  return h('span', { class: `status ${status}`, title: version.status_message || status },
           status.replaceAll('_', ' '));
}

export function stageBadge(stage) {
  const value = stage || 'None';
  return h('span', { class: `stage stage-${value.toLowerCase()}` }, value);
}

// "@champion" chips; with `onDelete` each chip has a remove button.
export function aliasChips(aliases, { onDelete, versionOf } = {}) {
  if (!aliases?.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'alias-list' }, aliases.map((alias) => {
    const version = versionOf?.(alias);
    return h('span', { class: 'chip alias', dataset: { alias } },
             `@${alias}`, version !== undefined ? h('span', { class: 'alias-version' }, ` → v${version}`) : null,
             onDelete ? h('button', {
               class: 'chip-remove', type: 'button', title: `Delete alias ${alias}`,
               'aria-label': `Delete alias ${alias}`, onclick: () => onDelete(alias),
             }, '×') : null);
  }));
}

// A dialog with one action (dialog.js): `onSubmit` runs on the submit button or Enter; when it
// resolves the dialog closes, when it throws the error is shown in the dialog and it stays open.
function openFormDialog({ title, body, submitLabel = 'Save', danger = false, onSubmit }) {
  return openDialog({
    title, body, className: 'dialog-form',
    actions: [{ label: submitLabel, primary: true, danger, run: async () => { await onSubmit(); } }],
  });
}

// Removes any dialog still open (pages call it when they are left).
export function closeDialogs() {
  document.querySelectorAll('body > .dialog').forEach((el) => el.remove());
}

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
           hint ? h('span', { class: 'field-hint muted' }, hint) : null);
}

// Set (or move) an alias: POST registered-models/alias {name, alias, version}. `versions` are the
// version numbers to choose from, newest first.
export function openAliasDialog({ name, versions, version, onDone }) {
  const aliasInput = h('input', { type: 'text', name: 'alias', placeholder: 'champion', autocomplete: 'off' });
  const versionSelect = h('select', { name: 'version' },
                          versions.map((v) => h('option', { value: v, selected: String(v) === String(version) }, `Version ${v}`)));
  openFormDialog({
    title: `Set an alias on ${name}`,
    body: h('div', { class: 'dialog-body' },
            field('Alias', aliasInput, 'An alias points at one version; setting an existing alias moves it.'),
            field('Version', versionSelect)),
    submitLabel: 'Set alias',
    onSubmit: async () => {
      await api.post('registered-models/alias', { name, alias: aliasInput.value.trim(), version: versionSelect.value });
      await onDone?.();
    },
  });
}

export function openDeleteAliasDialog({ name, alias, version, onDone }) {
  openFormDialog({
    title: `Delete alias @${alias}`,
    body: h('p', { class: 'dialog-body' }, `Remove the alias @${alias} from ${name}`,
            version !== undefined ? ` (now on version ${version})` : '',
            '? Clients loading ', h('code', {}, `models:/${name}@${alias}`), ' will fail until it is set again.'),
    submitLabel: 'Delete alias',
    danger: true,
    onSubmit: async () => {
      await api.delete('registered-models/alias', { name, alias });
      await onDone?.();
    },
  });
}

// Transition a version's stage: POST model-versions/transition-stage.
export function openStageDialog({ name, version, stage, onDone }) {
  const current = stage || 'None';
  const stageSelect = h('select', { name: 'stage' },
                        STAGES.map((s) => h('option', { value: s, selected: s === current }, s)));
  const archive = h('input', { type: 'checkbox', name: 'archive_existing_versions' });
  const archiveRow = h('label', { class: 'field-check' }, archive,
                       h('span', {}, 'Archive the versions now in this stage'));
  const syncArchive = () => {
    const useful = stageSelect.value === 'Staging' || stageSelect.value === 'Production';
    archive.disabled = !useful;
    if (!useful) archive.checked = false;
    archiveRow.classList.toggle('muted', !useful);
  };
  stageSelect.addEventListener('change', syncArchive);
  syncArchive();
  openFormDialog({
    title: `Transition ${name} version ${version}`,
    body: h('div', { class: 'dialog-body' },
            h('p', { class: 'muted' }, 'Current stage: ', stageBadge(current)),
            field('New stage', stageSelect), archiveRow),
    submitLabel: 'Transition',
    onSubmit: async () => {
      await api.post('model-versions/transition-stage', {
        name, version: String(version), stage: stageSelect.value,
        archive_existing_versions: archive.checked,
      });
      await onDone?.();
    },
  });
}

// A description shown as text with an Edit button that turns it into a textarea; `save(text)`
// writes it (its error stays visible under the editor).
export function descriptionEditor(text, save) {
  const box = h('div', { class: 'description' });
  function show(value) {
    clear(box).append(
      value ? h('div', { class: 'description-text' }, value) : h('div', { class: 'muted' }, 'No description.'),
      h('button', { type: 'button', class: 'small', onclick: () => edit(value) }, value ? 'Edit' : 'Add description'));
  }
  function edit(value) {
    const area = h('textarea', { rows: 4, class: 'description-input', 'aria-label': 'Description' });
    area.value = value ?? '';
    const errorSlot = h('div');
    const saveButton = h('button', { type: 'button', class: 'primary small', onclick: async () => {
      saveButton.disabled = true;
      clear(errorSlot);
      try {
        await save(area.value);
        show(area.value);
      } catch (err) {
        errorSlot.append(errorBox(err));
        saveButton.disabled = false;
      }
    } }, 'Save');
    clear(box).append(area, errorSlot, h('div', { class: 'description-actions' }, saveButton,
                      h('button', { type: 'button', class: 'small', onclick: () => show(value) }, 'Cancel')));
    area.focus();
  }
  show(text);
  return box;
}

// key = value chips of tags, or a muted dash.
export function tagChips(tags) {
  if (!tags?.length) return h('span', { class: 'muted' }, '—');
  return tags.map((t) => h('span', { class: 'chip' }, h('b', {}, t.key), t.value !== '' ? ` = ${t.value}` : ''));
}

// A page's "not found" or other failure, naming what was asked for.
export function pageError(container, title, err) {
  clear(container).append(h('div', { class: 'page' },
    h('div', { class: 'breadcrumbs' }, h('a', { href: '#/models' }, 'Models')),
    h('h1', {}, title), errorBox(err)));
}
