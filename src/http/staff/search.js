// Quick Search and the Profile Selector: type-ahead over `profiles(search:)`, with a filter
// panel for kind and membership status. Arrow keys move through the results; Enter opens one.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { alertBox, choices, field, fill, h, select, words } from './ui.js';
import { MemberStatus, ProfileKind } from './enums.js';

/** Both kinds, or one, as lists filter them. */
export const KINDS = [['', 'Organisations and people'], ...choices(ProfileKind, { ORGANIZATION: 'Organisations', INDIVIDUAL: 'People' })];
export const STATUSES = choices(MemberStatus, { ACTIVE: 'Active member', NON_MEMBER: 'Non-member' });

/** A profile's kind as a short badge. */
export function kindBadge(kind) {
  return h('span', { class: `badge kind-${kind.toLowerCase()}` }, kind === 'ORGANIZATION' ? 'Organisation' : 'Person');
}

export function statusLabel(status) {
  const found = STATUSES.find(([v]) => v === status);
  return found ? found[1] : words(status);
}

export async function render(view) {
  const remembered = JSON.parse(sessionStorage.getItem('memberkey.staff.search') || '{}');
  const input = h('input', {
    type: 'search', id: 'quick-search', role: 'combobox', autocomplete: 'off', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': 'results', value: remembered.search || '',
    placeholder: 'Name, organisation, email or username',
  });
  const kind = select(KINDS, remembered.kind || '', { id: 'filter-kind' });
  const status = select([['', 'Any status'], ...STATUSES], remembered.status || '', { id: 'filter-status' });
  const list = h('ul', { id: 'results', role: 'listbox', class: 'results', 'aria-label': 'Profiles found' });
  const summary = h('p', { class: 'hint', id: 'results-summary', role: 'status' });
  const more = h('button', { type: 'button', hidden: true, id: 'more-results' }, 'Show more');

  fill(view,
    h('div', { class: 'screen-head' },
      h('h1', {}, 'Quick Search'),
      ctx.has('MANAGE_PROFILES') ? h('a', { href: '#/profiles/new', class: 'button' }, 'New profile') : null),
    h('div', { class: 'search-bar' }, field('Find a profile', input, 'Type at least two letters; ↓ and ↑ move, Enter opens.')),
    h('details', { class: 'filter-panel', open: matchMedia('(min-width: 48rem)').matches || Boolean(kind.value || status.value) },
      h('summary', {}, 'Filters'),
      h('div', { class: 'filters' }, field('Kind', kind), field('Membership status', status))),
    summary, list, more);

  let active = -1;
  let items = [];
  let after = null;
  let seq = 0;

  const setActive = (i) => {
    active = i;
    items.forEach((li, n) => li.setAttribute('aria-selected', n === i ? 'true' : 'false'));
    if (i >= 0 && items[i]) {
      input.setAttribute('aria-activedescendant', items[i].id);
      items[i].scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const open = (id) => {
    location.hash = `#/profiles/${encodeURIComponent(id)}`;
  };

  async function run(append = false) {
    const term = input.value.trim();
    sessionStorage.setItem('memberkey.staff.search', JSON.stringify({ search: input.value, kind: kind.value, status: status.value }));
    const filter = {};
    if (kind.value) filter.kind = kind.value;
    if (status.value) filter.memberStatus = status.value;
    const mine = ++seq;
    if (!append) after = null;
    let data;
    try {
      data = await gql('SearchProfiles', { search: term.length >= 2 ? term : null, filter, first: 20, after });
    } catch (err) {
      if (mine === seq) fill(list, h('li', { class: 'error-item' }, alertBox(err)));
      return;
    }
    if (mine !== seq) return; // a later keystroke already asked again
    const conn = data.profiles;
    after = conn.pageInfo.endCursor;
    if (!append) {
      list.replaceChildren();
      items = [];
    }
    for (const { node } of conn.edges) {
      const li = h('li', { role: 'option', id: `result-${node.id}`, class: 'result', 'aria-selected': 'false', dataset: { id: node.id }, onclick: () => open(node.id) },
        kindBadge(node.kind),
        h('span', { class: 'result-name' }, node.displayName),
        h('span', { class: 'result-org' }, node.kind === 'INDIVIDUAL' && node.parent ? node.parent.displayName : ''),
        h('span', { class: 'result-email' }, node.email || 'no email'),
        h('span', { class: 'result-user' }, node.portalCredential && node.portalCredential.username ? `@${node.portalCredential.username}` : ''));
      list.append(li);
      items.push(li);
    }
    more.hidden = !conn.pageInfo.hasNextPage;
    input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
    summary.textContent = conn.totalCount === 0
      ? (term ? `Nothing matches “${term}”. Check the spelling, or clear the filters.` : 'No profiles yet.')
      : `${conn.totalCount} profile${conn.totalCount === 1 ? '' : 's'}${term.length >= 2 ? ` match “${term}”` : ''}. Showing ${items.length}.`;
    if (!append) setActive(items.length && term.length >= 2 ? 0 : -1);
  }

  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(), 180);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive(Math.min(active + 1, items.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive(Math.max(active - 1, 0));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (active >= 0 && items[active]) open(items[active].dataset.id);
      else run();
    } else if (event.key === 'Escape') {
      setActive(-1);
    }
  });
  kind.addEventListener('change', () => run());
  status.addEventListener('change', () => run());
  more.addEventListener('click', () => run(true));
  await run();
  input.focus();
  return () => clearTimeout(timer);
}

/**
 * A small search-and-pick control: type, then choose one of the profiles found. Calls
 * `onPick(profile)`; used for a person's organisation and for chosen recipients.
 */
export function profilePicker(label, filter, onPick) {
  const id = `picker-${label.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  const input = h('input', { type: 'search', id, autocomplete: 'off', placeholder: 'Type a name to search' });
  const found = h('ul', { class: 'picker-results', id: `${id}-results`, role: 'list' });
  let timer = null;
  let seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const term = input.value.trim();
      const mine = ++seq;
      if (term.length < 2) {
        found.replaceChildren();
        return;
      }
      try {
        const data = await gql('SearchProfiles', { search: term, filter, first: 8 });
        if (mine !== seq) return;
        fill(found, data.profiles.edges.length
          ? data.profiles.edges.map(({ node }) => h('li', {}, h('button', {
            type: 'button', class: 'pick', dataset: { id: node.id },
            onclick: () => { onPick(node); input.value = ''; found.replaceChildren(); input.focus(); },
          }, kindBadge(node.kind), ' ', node.displayName, node.email ? ` · ${node.email}` : '')))
          : h('li', { class: 'hint' }, `Nothing matches “${term}”.`));
      } catch (err) {
        fill(found, h('li', {}, alertBox(err)));
      }
    }, 180);
  });
  return h('div', { class: 'picker' }, field(label, input, 'Type two letters or more, then choose.'), found);
}
