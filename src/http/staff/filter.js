// The recipient filter's fields as staff set them (kind, membership status, a quick-search
// term, the people related to each organisation), shared by the Mass Communicator and
// Create Portal Logins. Its value is a RecipientFilterInput.

import { field, h, select } from './ui.js';
import { STATUSES } from './search.js';

export function filterFields(saved, { status = 'ACTIVE' } = {}) {
  const kind = select([['', 'Organisations and people'], ['ORGANIZATION', 'Organisations'], ['INDIVIDUAL', 'People']], (saved && saved.kind) || '', { id: 'recipient-kind' });
  const memberStatus = select([['', 'Any status'], ...STATUSES], saved ? saved.memberStatus || '' : status, { id: 'recipient-status' });
  const search = h('input', { type: 'search', id: 'recipient-search', autocomplete: 'off', value: (saved && saved.search) || '' });
  const related = h('input', { type: 'checkbox', id: 'recipient-related', checked: Boolean(saved && saved.includeRelatedProfiles) });
  const element = [
    h('div', { class: 'row' }, field('Kind', kind), field('Membership status', memberStatus), field('Quick search term', search)),
    h('div', { class: 'field check' }, related, h('label', { for: related.id }, 'Also the people related to each organisation')),
  ];
  return {
    element,
    controls: { kind, memberStatus, search, related },
    /** The filter as the API takes it. */
    value() {
      const filter = { includeRelatedProfiles: related.checked };
      if (kind.value) filter.kind = kind.value;
      if (memberStatus.value) filter.memberStatus = memberStatus.value;
      if (search.value.trim()) filter.search = search.value.trim();
      return filter;
    },
    /** Calls `fn` (debounced) whenever a field changes; returns what cancels a pending call. */
    onChange(fn) {
      let timer = null;
      for (const el of [kind, memberStatus, search, related]) {
        el.addEventListener(el === search ? 'input' : 'change', () => { clearTimeout(timer); timer = setTimeout(fn, 250); });
      }
      return () => clearTimeout(timer);
    },
  };
}
