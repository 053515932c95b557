// The audit log (VIEW_AUDIT_LOG): filter by profile, action and date; also a profile's trail.

import { gql } from './api.js';
import { alertBox, field, fill, h, labelCells, loading, select, when, words } from './ui.js';
import { profilePicker } from './search.js';

/** One event's detail as short "key: value" text instead of raw JSON. */
function detail(text) {
  if (!text) return '';
  try {
    const obj = JSON.parse(text);
    return Object.entries(obj).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
  } catch {
    return text;
  }
}

function actor(e) {
  if (e.actorKind === 'STAFF') return e.actorUsername ? `Staff: ${e.actorUsername}` : `Staff user ${e.actorStaffId}`;
  return words(e.actorKind);
}

/** The profile an event is about, by name; one removed since shows its former ID. */
function profileCell(e) {
  if (!e.profileId) return '—';
  if (!e.profile) return `Profile ${e.profileId} (removed)`;
  return h('a', { href: `#/profiles/${encodeURIComponent(e.profileId)}` }, e.profile.displayName);
}

/** A table of events matching `filter`, with a "Show older" button; resolves once drawn. */
export async function eventsTable(filter) {
  const wrap = h('div', { class: 'table-wrap' });
  const body = h('tbody');
  const more = h('button', { type: 'button', id: 'older-events', hidden: true }, 'Show older');
  const summary = h('p', { class: 'hint', role: 'status' });
  let after = null;
  const page = async () => {
    const data = await gql('AuditEvents', { ...filter, first: 50, after });
    const conn = data.auditEvents;
    for (const { node: e } of conn.edges) {
      body.append(h('tr', {},
        h('td', {}, when(e.occurredAt)),
        h('td', { title: e.action }, words(e.action)),
        h('td', {}, actor(e)),
        h('td', {}, profileCell(e)),
        h('td', { class: 'detail' }, detail(e.detail)),
        h('td', {}, e.clientIp || '')));
    }
    after = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
    summary.textContent = `${conn.totalCount} event${conn.totalCount === 1 ? '' : 's'}.`;
  };
  const table = h('table', { id: 'audit-table', class: 'stack' },
    h('caption', { class: 'sr-only' }, 'Audit events, newest first'),
    h('thead', {}, h('tr', {}, ['When', 'Action', 'By', 'Profile', 'Detail', 'IP'].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  more.addEventListener('click', () => page().then(() => labelCells(table)).catch((err) => wrap.append(alertBox(err))));
  await page();
  fill(wrap, summary, labelCells(table), more);
  return wrap;
}

export async function render(view) {
  const actions = (await gql('AuditActions')).auditActions;
  const action = select([['', 'Any action'], ...actions.map((a) => [a, words(a)])], '', { id: 'audit-action' });
  const since = h('input', { type: 'date', id: 'audit-since' });
  const until = h('input', { type: 'date', id: 'audit-until' });
  let profile = null;
  const picked = h('p', { class: 'hint', id: 'audit-profile' }, 'All profiles.');
  const results = h('div', { id: 'audit-results' });
  const load = async () => {
    fill(results, loading());
    const filter = {};
    if (profile) filter.profileId = profile.id;
    if (action.value) filter.action = action.value;
    // Whole days in the browser's local time: from the start of `since` to the end of `until`.
    if (since.value) filter.since = new Date(`${since.value}T00:00:00`).toISOString();
    if (until.value) filter.until = new Date(new Date(`${until.value}T00:00:00`).getTime() + 86400000).toISOString();
    try {
      fill(results, await eventsTable(filter));
    } catch (err) {
      fill(results, alertBox(err));
    }
  };
  const picker = profilePicker('Profile', {}, (p) => {
    profile = p;
    fill(picked, `Only ${p.displayName}. `, h('button', { type: 'button', class: 'link', onclick: () => { profile = null; fill(picked, 'All profiles.'); load(); } }, 'Show all'));
    load();
  });
  for (const el of [action, since, until]) el.addEventListener('change', load);
  fill(view, h('h1', {}, 'Audit log'),
    h('div', { class: 'filters row' }, picker, field('Action', action), field('From', since), field('To', until)),
    picked, results);
  await load();
}
