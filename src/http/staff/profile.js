// A profile: its details and relations, the create and edit forms, and its tabs (Web > Portal
// and the audit trail).

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { FormProblem, busy, dialog, field, fill, h, handleSubmit, loading, notify, select, when } from './ui.js';
import { STATUSES, kindBadge, profilePicker, statusLabel } from './search.js';
import { renderPortal } from './portal.js';
import { eventsTable } from './audit.js';

/** The screen for one profile; `tab` is details, portal or audit. */
export async function render(view, id, tab) {
  fill(view, loading());
  const data = await gql('Profile', { id });
  const p = data.profile;
  const tabs = [
    ['details', 'Details', `#/profiles/${encodeURIComponent(id)}`],
    ['portal', 'Web > Portal', `#/profiles/${encodeURIComponent(id)}/portal`],
    ['audit', 'Audit trail', `#/profiles/${encodeURIComponent(id)}/audit`],
  ];
  const body = h('div', { class: 'tab-body' });
  fill(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/search' }, '← Quick Search')),
    h('div', { class: 'screen-head' }, h('h1', {}, p.displayName, ' ', kindBadge(p.kind))),
    h('nav', { class: 'tabs', 'aria-label': 'Profile sections' },
      tabs.map(([key, label, href]) => h('a', { href, 'aria-current': key === tab ? 'page' : null, id: `tab-${key}` }, label))),
    body);
  if (tab === 'portal') return renderPortal(body, p);
  if (tab === 'audit') return renderAudit(body, p);
  return renderDetails(body, p);
}

function renderDetails(body, p) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '—' : value)];
  const related = p.relatedProfiles.edges.map(({ node }) => h('li', {},
    h('a', { href: `#/profiles/${encodeURIComponent(node.id)}` }, node.displayName), ' ', h('span', { class: 'hint' }, node.email || 'no email')));
  fill(body,
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Details'),
        ctx.has('MANAGE_PROFILES') ? h('button', { type: 'button', id: 'edit-profile', onclick: () => editForm(body, p) }, 'Edit') : null),
      h('dl', { class: 'facts' },
        row('Kind', p.kind === 'ORGANIZATION' ? 'Organisation' : 'Person'),
        p.kind === 'INDIVIDUAL' ? [row('First name', p.firstName), row('Last name', p.lastName)] : row('Organisation name', p.organizationName),
        row('Email', p.email),
        row('Membership status', statusLabel(p.memberStatus)),
        row('News mail', optOutText(p)),
        p.kind === 'INDIVIDUAL' ? row('Organisation', p.parent ? h('a', { href: `#/profiles/${encodeURIComponent(p.parent.id)}` }, p.parent.displayName) : null) : null,
        row('Portal username', p.portalCredential && p.portalCredential.username),
        row('Created', when(p.createdAt)),
        row('Last changed', when(p.updatedAt)))),
    h('section', { class: 'card' },
      h('h2', {}, p.kind === 'ORGANIZATION' ? 'People' : 'Related profiles', ` (${p.relatedProfiles.totalCount})`),
      related.length ? h('ul', { class: 'plain' }, related) : h('p', { class: 'hint' }, 'None yet.'),
      p.kind === 'ORGANIZATION' && ctx.has('MANAGE_PROFILES')
        ? h('a', { class: 'button', href: `#/profiles/new?parent=${encodeURIComponent(p.id)}` }, 'Add a person') : null),
    ctx.has('MANAGE_PERSONAL_DATA') ? personalData(p) : null);
}

const OPT_OUT_VIA = {
  ONE_CLICK: 'one click in their mail program',
  UNSUBSCRIBE_PAGE: 'the unsubscribe page',
  COMPLAINT: 'a spam complaint',
  STAFF: 'staff',
};

/** Whether the member gets news, and when and how they left it. Service mail always comes. */
function optOutText(p) {
  if (!p.emailOptOut) return 'Receives news';
  const how = p.emailOptOutVia ? ` by ${OPT_OUT_VIA[p.emailOptOutVia] || p.emailOptOutVia}` : '';
  const at = p.emailOptOutAt ? ` on ${when(p.emailOptOutAt)}` : '';
  return `Unsubscribed${at}${how} (service mail still comes; Edit to sign them up again at their request)`;
}

/** "Export personal data": the person's data as a JSON file, for their request to see it. */
function personalData(p) {
  const button = h('button', { type: 'button', id: 'export-data' }, 'Export personal data');
  button.addEventListener('click', () => busy(button, async () => {
    try {
      const data = await gql('ExportProfileData', { profileId: p.id });
      const blob = new Blob([data.exportProfileData.document], { type: 'application/json' });
      const link = h('a', { href: URL.createObjectURL(blob), download: `profile-${p.id}-data.json`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      notify(`The data of ${p.displayName} is downloaded as profile-${p.id}-data.json. The export is recorded in the audit trail.`);
    } catch (err) {
      notify(err, 'error');
    }
  }));
  const erase = h('button', { type: 'button', class: 'danger', id: 'erase-profile', onclick: () => eraseDialog(p) }, 'Erase this profile');
  return h('section', { class: 'card', id: 'personal-data' },
    h('h2', {}, 'Personal data'),
    h('p', { class: 'hint' }, 'Everything memberkey holds about this person, in one file: for their request to see their data. Passwords and links are never in it.'),
    h('div', { class: 'inline-actions' }, button),
    h('p', { class: 'hint' }, 'At their request, erase the person for good: the profile, its portal login, sessions and links go, and the records that stay (messages sent, the audit trail) no longer name them.'),
    h('div', { class: 'inline-actions' }, erase));
}

/** "Erase this profile": asks for the profile's name typed out, then erases it for good. */
function eraseDialog(p) {
  const people = p.kind === 'ORGANIZATION' ? p.relatedProfiles.totalCount : 0;
  return dialog(`Erase ${p.displayName}?`, (close) => {
    const typed = h('input', { id: 'erase-confirm-name', autocomplete: 'off', spellcheck: false, autofocus: true });
    const typedField = field(`Type the name “${p.displayName}” to confirm`, typed);
    const withPeople = h('input', { type: 'checkbox', id: 'erase-include-people' });
    const status = h('div', { class: 'form-status' });
    const submit = h('button', { type: 'submit', class: 'danger', id: 'erase-confirm' }, 'Erase for good');
    const form = h('form', { novalidate: true },
      h('div', { class: 'dialog-body' },
        h('p', {}, 'This cannot be undone. The profile, its portal login, sessions, links and connected sites’ access are deleted, and this person can never sign in again. Messages sent keep their status but lose the address; the audit trail keeps what happened, without the name, username or address.'),
        people ? h('div', { class: 'field check' }, withPeople, h('label', { for: withPeople.id }, `Also erase its ${people} ${people === 1 ? 'person' : 'people'}`)) : null,
        typedField, status),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => close(false) }, 'Cancel')));
    handleSubmit(form, submit, {
      fields: { typed: typedField },
      status,
      submit: async () => {
        if (typed.value.trim() !== p.displayName) throw new FormProblem(`Type the name exactly as shown: ${p.displayName}`, 'typed');
        const data = await gql('EraseProfile', { profileId: p.id, includePeople: withPeople.checked });
        const also = data.eraseProfile.erasedPeopleIds.length;
        close(true);
        notify(`${p.displayName} was erased${also ? `, with ${also} related ${also === 1 ? 'person' : 'people'}` : ''}. The erasure is recorded in the audit trail without their data.`, 'ok', { carry: true });
        location.hash = '#/search';
      },
    });
    return form;
  });
}

/** The create form, on its own screen. */
export async function renderNew(view) {
  const parentId = new URLSearchParams(location.hash.split('?')[1] || '').get('parent');
  let parent = null;
  if (parentId) parent = (await gql('Profile', { id: parentId })).profile;
  fill(view, h('p', { class: 'crumbs' }, h('a', { href: '#/search' }, '← Quick Search')), h('h1', {}, 'New profile'));
  const holder = h('div');
  view.append(holder);
  profileForm(holder, parent ? { kind: 'INDIVIDUAL', parent, memberStatus: parent.memberStatus } : null, async (input) => {
    const data = await gql('CreateProfile', { input });
    notify(`Created ${data.createProfile.profile.displayName}.`);
    location.hash = `#/profiles/${encodeURIComponent(data.createProfile.profile.id)}`;
  }, () => history.back());
}

function editForm(body, p) {
  profileForm(body, p, async (input) => {
    const data = await gql('UpdateProfile', { id: p.id, input });
    notify('Saved.');
    renderDetails(body, data.updateProfile.profile);
  }, () => renderDetails(body, p));
}

/** The organisation-or-person form; `p` is the profile being edited, or null for a new one. */
function profileForm(holder, p, save, cancel) {
  const editing = Boolean(p && p.id);
  const kind = select([['INDIVIDUAL', 'Person'], ['ORGANIZATION', 'Organisation']], (p && p.kind) || 'INDIVIDUAL', { id: 'profile-kind' });
  const first = h('input', { id: 'profile-first', autocomplete: 'off', value: (p && p.firstName) || '' });
  const last = h('input', { id: 'profile-last', autocomplete: 'off', value: (p && p.lastName) || '' });
  const org = h('input', { id: 'profile-org', autocomplete: 'off', value: (p && p.organizationName) || '' });
  const email = h('input', { id: 'profile-email', type: 'email', autocomplete: 'off', value: (p && p.email) || '' });
  const status = select(STATUSES, (p && p.memberStatus) || 'ACTIVE', { id: 'profile-status' });
  const optOut = h('input', { type: 'checkbox', id: 'profile-optout', checked: Boolean(p && p.emailOptOut) });
  let parent = (p && p.parent) || null;
  const parentName = h('span', { class: 'picked', id: 'profile-parent-name' });
  const showParent = () => fill(parentName, parent ? parent.displayName : 'None',
    parent ? h('button', { type: 'button', class: 'link', onclick: () => { parent = null; showParent(); } }, 'Remove') : null);
  showParent();
  const picker = profilePicker('Organisation', { kind: 'ORGANIZATION' }, (node) => { parent = node; showParent(); });
  const fields = {
    firstName: field('First name', first), lastName: field('Last name', last),
    organizationName: field('Organisation name', org), email: field('Email', email, 'Used for Forgot Login and mass mail.'),
    memberStatus: field('Membership status', status),
  };
  const personOnly = h('div', {}, fields.firstName, fields.lastName, h('div', { class: 'field' }, h('span', { class: 'label' }, 'Related organisation: '), parentName), picker);
  const orgOnly = h('div', {}, fields.organizationName);
  const sync = () => {
    personOnly.hidden = kind.value !== 'INDIVIDUAL';
    orgOnly.hidden = kind.value !== 'ORGANIZATION';
  };
  kind.addEventListener('change', sync);
  const status_ = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'save-profile' }, editing ? 'Save' : 'Create profile');
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, editing ? 'Edit details' : 'Details'),
    field('Kind', kind), personOnly, orgOnly, fields.email, fields.memberStatus,
    h('div', { class: 'field check' }, optOut, h('label', { for: optOut.id }, 'Unsubscribed from news')),
    status_,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: cancel }, 'Cancel')));
  sync();
  handleSubmit(form, submit, {
    fields,
    status: status_,
    submit: () => {
      const person = kind.value === 'INDIVIDUAL';
      return save({
        kind: kind.value,
        firstName: person ? first.value.trim() || null : null,
        lastName: person ? last.value.trim() || null : null,
        organizationName: person ? null : org.value.trim() || null,
        email: email.value.trim() || null,
        memberStatus: status.value,
        parentId: person && parent ? parent.id : null,
        emailOptOut: optOut.checked,
      });
    },
  });
  fill(holder, form);
  (editing ? (kind.value === 'INDIVIDUAL' ? first : org) : kind).focus();
}

async function renderAudit(body, p) {
  if (!ctx.has('VIEW_AUDIT_LOG')) {
    fill(body, h('p', { class: 'alert alert-info' }, 'The audit trail needs the View audit log right.'));
    return;
  }
  fill(body, loading());
  const table = await eventsTable({ profileId: p.id });
  fill(body, h('section', { class: 'card' }, h('h2', {}, 'Audit trail'), table));
}
