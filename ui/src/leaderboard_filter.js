// The leaderboard's search box: the full runs/search filter grammar (AND, OR, parentheses,
// LIKE/ILIKE, IN, IS NULL), applied on Enter. A filter the server refuses is shown inline under
// the box: the server's message, and the filter with a caret under the character at the
// position the message names. The box is marked invalid until the next accepted filter.
import { h } from './dom.js';

export const TOP_LEVEL_FILTER = 'tags.mlflow.parentRunId IS NULL';

// True when the parentheses of `text` (outside quoted strings and back-ticked keys) balance and
// never close more than they opened, so that wrapping it as `(<text>) AND ...` cannot change
// what it means.
export function parenthesesBalance(text) {
  let depth = 0;
  let quote = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '\'' || ch === '"' || ch === '`') {
      quote = ch;
    } else if (ch === '(') {
      depth += 1;
    } else if (ch === ')') {
      depth -= 1;
      if (depth < 0) return false;
    }
  }
  return depth === 0 && quote === null;
}

// The filter sent to runs/search: the user's filter, restricted to top-level runs when nested
// runs are grouped under their parents. A filter whose parentheses do not balance is sent alone,
// so the server's error names the problem in the text the user typed.
export function effectiveFilter(userFilter, nested) {
  const user = userFilter.trim();
  if (!nested) return user || undefined;
  if (!user) return TOP_LEVEL_FILTER;
  if (!parenthesesBalance(user)) return user;
  return `(${user}) AND ${TOP_LEVEL_FILTER}`;
}

// True when `err` (an ApiError) is the server refusing a filter expression.
export function isFilterError(err) {
  return err?.status === 400 && /^Invalid filter\b/.test(err.message ?? '');
}

// The filter text and 0-based character index a filter error names, from a message like
// "Invalid filter 'metrics.rmse <': expected ... at position 15" (positions count from 1).
export function errorPosition(message, typed) {
  const quoted = /^Invalid filter '([\s\S]*)': /.exec(message);
  const at = /\bat position (\d+)/.exec(message);
  const text = quoted ? quoted[1] : typed;
  if (!at) return { text, index: null };
  return { text, index: Math.max(0, Math.min(Number(at[1]) - 1, text.length)) };
}

// Builds the box. `onApply(text)` runs on Enter / the Search button.
export function createFilterBox({ value, onApply }) {
  const input = h('input', {
    type: 'text', class: 'filter-input mono', value, spellcheck: 'false', autocomplete: 'off',
    'aria-label': 'Filter runs',
    placeholder: "metrics.rmse < 0.8 AND (params.model = 'als' OR tags.team ILIKE '%rec%')",
    onkeydown: (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        onApply(input.value);
      } else if (event.key === 'Escape' && input.value) {
        input.value = '';
      }
    },
  });
  const errorSlot = h('div', { class: 'filter-error-slot' });
  const apply = h('button', { type: 'button', class: 'filter-apply', onclick: () => onApply(input.value) }, 'Search');
  const help = h('details', { class: 'filter-help' }, h('summary', {}, 'Syntax'),
    h('div', { class: 'panel filter-help-panel' },
      h('p', {}, 'Compare ', h('code', {}, 'metrics.<key>'), ', ', h('code', {}, 'params.<key>'), ', ',
        h('code', {}, 'tags.<key>'), ' and ', h('code', {}, 'attributes.<name>'),
        ' (run_name, status, start_time, end_time, duration, user_id, run_id). Combine with AND, OR and parentheses.'),
      h('ul', {},
        ['metrics.rmse < 0.8', "params.model = 'als' AND metrics.acc >= 0.9",
         "(params.depth = '3' OR params.depth = '5') AND attributes.status = 'FINISHED'",
         "attributes.run_name ILIKE '%sweep%'", "tags.`mlflow.source.git.commit` LIKE 'a1b2%'",
         "params.lr IN ('0.1', '0.01')", 'tags.team IS NULL']
          .map((example) => h('li', {}, h('code', {}, example)))),
      h('p', { class: 'muted' }, 'Parameter and tag values are quoted strings; keys with dots or spaces go in back-ticks.')));
  // The syntax panel closes on a click anywhere outside it.
  const closeHelp = (event) => {
    if (!help.contains(event.target)) help.open = false;
  };
  help.addEventListener('toggle', () => {
    if (help.open) document.addEventListener('mousedown', closeHelp, true);
    else document.removeEventListener('mousedown', closeHelp, true);
  });
  const el = h('div', { class: 'filter-box' },
    h('div', { class: 'filter-row' }, input, apply, help), errorSlot);

  return {
    el,
    input,
    // Marks the box invalid and shows the server's message with the caret.
    showError(err, typed) {
      const { text, index } = errorPosition(err.message ?? String(err), typed);
      input.classList.add('invalid');
      input.setAttribute('aria-invalid', 'true');
      const lines = [];
      if (index !== null) {
        const shown = text.replace(/[\r\n\t]/g, ' ');
        lines.push(h('pre', { class: 'filter-caret', 'aria-hidden': 'true' },
          shown.slice(0, index), h('mark', {}, shown.slice(index, index + 1) || ' '), shown.slice(index + 1),
          '\n', ' '.repeat(index), '^'));
      }
      errorSlot.replaceChildren(h('div', { class: 'filter-error', role: 'alert' }, lines,
        h('div', { class: 'filter-message' }, err.message ?? String(err))));
    },
    clearError() {
      input.classList.remove('invalid');
      input.removeAttribute('aria-invalid');
      errorSlot.replaceChildren();
    },
  };
}
