// The app's modal dialogs and pop-over panels.
// Contract of openDialog: the dialog is appended to <body>, focuses its first input, closes on
// Escape, on a click on the backdrop and on Cancel; Enter in a text field runs the primary action.
// An action is {label, run, primary?, danger?}: its `run` may be async and may return false to
// keep the dialog open (or throw: the error is shown inside the dialog, which stays open, so a
// refused name shows the server's message next to the field that caused it). The primary button
// is a submit button. Dialogs and pop-overs live on <body>, outside the page, so they also close
// when the route changes.
import { h } from './dom.js';

export function openDialog({ title, body = [], actions = [], className = '' }) {
  const errorSlot = h('div', { class: 'dialog-error' });
  const buttons = actions.map((action) => h('button', {
    type: action.primary ? 'submit' : 'button',
    class: [action.primary ? 'primary' : '', action.danger ? (action.primary ? 'danger-fill' : 'danger') : '']
      .filter(Boolean).join(' '),
    dataset: { action: action.label },
    onclick: () => runAction(action),
  }, action.label));
  const panel = h('div', { class: `panel dialog-panel ${className}`, role: 'dialog', 'aria-modal': 'true',
                           'aria-label': title },
                  h('h2', { class: 'dialog-title' }, title),
                  h('div', { class: 'dialog-body' }, body),
                  errorSlot,
                  h('div', { class: 'dialog-actions' }, h('button', { type: 'button', onclick: () => close() }, 'Cancel'),
                    buttons));
  const backdrop = h('div', { class: 'dialog', onmousedown: (event) => { if (event.target === backdrop) close(); } }, panel);
  let busy = false;
  let closed = false;

  async function runAction(action) {
    if (busy) return;
    busy = true;
    errorSlot.replaceChildren();
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const keep = await action.run?.();
      if (keep !== false) close();
    } catch (err) {
      errorSlot.replaceChildren(h('div', { class: 'error', role: 'alert' }, err?.message ?? String(err)));
    } finally {
      busy = false;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function onKey(event) {
    if (event.key === 'Escape') close();
    if (event.key === 'Enter' && event.target instanceof HTMLInputElement && event.target.type !== 'checkbox') {
      const primary = actions.find((a) => a.primary);
      if (primary) {
        event.preventDefault();
        runAction(primary);
      }
    }
  }

  function close() {
    if (closed) return;
    closed = true;
    document.removeEventListener('keydown', onKey, true);
    window.removeEventListener('hashchange', close);
    backdrop.remove();
  }

  document.addEventListener('keydown', onKey, true);
  window.addEventListener('hashchange', close);
  document.body.append(backdrop);
  const first = panel.querySelector('input, select, textarea');
  (first ?? buttons[0])?.focus();
  if (first instanceof HTMLInputElement) first.select();
  return { close, panel };
}

// A panel anchored under `anchor` that closes on Escape or a click outside both. Returns
// {panel, close}; `onClose` runs once when it closes.
export function openPopover(anchor, content, { onClose, className = '' } = {}) {
  const panel = h('div', { class: `panel popover ${className}` }, content);
  const rect = anchor.getBoundingClientRect();
  panel.style.top = `${rect.bottom + window.scrollY + 4}px`;
  document.body.append(panel);
  // Right-align with the anchor when the panel would run off the window's right edge.
  const width = panel.offsetWidth;
  const left = Math.max(8, Math.min(rect.left + window.scrollX, window.innerWidth - width - 16));
  panel.style.left = `${left}px`;
  let closed = false;
  function onDown(event) {
    if (!panel.contains(event.target) && !anchor.contains(event.target)) close();
  }
  function onKey(event) {
    if (event.key === 'Escape') close();
  }
  function close() {
    if (closed) return;
    closed = true;
    document.removeEventListener('mousedown', onDown, true);
    document.removeEventListener('keydown', onKey, true);
    window.removeEventListener('hashchange', close);
    panel.remove();
    onClose?.();
  }
  window.addEventListener('hashchange', close);
  document.addEventListener('mousedown', onDown, true);
  document.addEventListener('keydown', onKey, true);
  return { panel, close };
}
