// The Mass Communicator: the list of communications, and the compose form with its editor,
// Special Field dropdown, recipients and live preview. One communication's page is
// communication.js; the words both use for statuses, senders and filters are here.

import { gql } from './api.js';
import { MassCommunicationStatus, MassPurpose } from './enums.js';
import { FormProblem, alertBox, choices, field, fill, h, handleSubmit, labelCells, loading, notify, select, when, words } from './ui.js';
import { profilePicker } from './search.js';
import { filterFields } from './filter.js';
import { bodyEditor } from './editor.js';

const PURPOSES = { SERVICE: 'Service: credentials and notices, for every member', NEWS: 'News: members may unsubscribe' };

export function statusBadge(status) {
  return h('span', { class: `badge status-${status.toLowerCase()}` }, words(status));
}

export async function renderList(view) {
  const status = select([['', 'Any status'], ...choices(MassCommunicationStatus)], '', { id: 'mass-filter-status' });
  const term = h('input', { type: 'search', id: 'mass-filter-search', autocomplete: 'off' });
  const table = h('div', { id: 'mass-list' });
  fill(view,
    h('div', { class: 'screen-head' }, h('h1', {}, 'Mass Communicator'), h('a', { href: '#/mass/new', class: 'button primary', id: 'new-communication' }, 'New communication')),
    h('div', { class: 'filters row' }, field('Status', status), field('Subject contains', term)),
    table);
  const load = async () => {
    fill(table, loading());
    try {
      const data = await gql('MassCommunications', { status: status.value || null, search: term.value.trim() || null });
      const rows = data.massCommunications.edges.map(({ node: c }) => h('tr', {},
        h('td', {}, h('a', { href: `#/mass/${encodeURIComponent(c.id)}` }, c.subject || '(no subject)')),
        h('td', {}, c.status === 'DRAFT' && c.sendAt
          ? h('div', {}, statusBadge(c.status), h('span', { class: 'hint block' }, `Scheduled for ${when(c.sendAt)}`))
          : statusBadge(c.status)),
        h('td', { class: 'num' }, String(c.counts.total)),
        h('td', { class: 'num' }, String(c.counts.sent)),
        h('td', { class: 'num' }, String(c.counts.failed)),
        h('td', {}, when(c.queuedAt || c.createdAt))));
      fill(table, rows.length
        ? h('div', { class: 'table-wrap' }, labelCells(h('table', { id: 'mass-table', class: 'stack' },
          h('caption', { class: 'sr-only' }, 'Mass communications'),
          h('thead', {}, h('tr', {}, ['Subject', 'Status', 'Recipients', 'Sent', 'Failed', 'Queued or created'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows))))
        : h('p', { class: 'hint' }, 'No communications yet. Start one with New communication.'));
    } catch (err) {
      fill(table, alertBox(err));
    }
  };
  let timer = null;
  status.addEventListener('change', load);
  term.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  await load();
}

/** The Special Field dropdown and Insert, which puts the field at the editor's cursor. */
function specialFieldPicker(specials, editor) {
  const special = select([['', 'Choose a special field…'], ...specials.map((f) => [f.token, f.label])], '', { id: 'special-field' });
  const about = 'Inserted where the cursor is in the body, as one piece.';
  const hint = h('p', { class: 'hint', id: 'special-field-hint' }, about);
  special.addEventListener('change', () => {
    const f = specials.find((s) => s.token === special.value);
    hint.textContent = f ? f.description : about;
  });
  const insert = h('button', { type: 'button', id: 'insert-field' }, 'Insert');
  insert.addEventListener('click', () => {
    if (!special.value) {
      special.focus();
      return;
    }
    editor.insertField(special.value);
  });
  return [h('div', { class: 'row special' }, field('Special Field', special), h('div', { class: 'field' }, insert)), hint];
}

/** The body as it will be mailed, redrawn a moment after each change of `html`. */
function livePreview(html) {
  const frame = h('iframe', { id: 'live-preview', sandbox: '', title: 'Live preview of the body', class: 'preview' });
  let timer = null;
  html.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { frame.srcdoc = asMailed(html.value); }, 200);
  });
  frame.srcdoc = asMailed(html.value);
  return { frame, stop: () => clearTimeout(timer) };
}

/**
 * Who a draft goes to: chosen profiles, or a filter with a live count. A saved draft shows
 * its own, every condition of a saved filter (a reminder's too) in the form. `value()` is
 * the RecipientsInput; `show()` draws the chosen mode once the form is on screen.
 */
function recipientsPicker(saved) {
  const savedFilter = saved && saved.filter;
  const initial = savedFilter ? 'filter' : 'chosen';
  const mode = (value, label) => h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'recipients-mode', value, checked: value === initial }), ` ${label}`);
  const modes = h('fieldset', { class: 'modes' }, h('legend', {}, 'Recipients'),
    mode('chosen', 'Chosen profiles'),
    mode('filter', 'Everyone matching a filter'));
  const chosen = new Map(((saved && saved.profiles) || []).map((p) => [p.id, p]));
  const chips = h('ul', { class: 'chips', id: 'chosen-recipients', 'aria-label': 'Chosen recipients' });
  const drawChips = () => fill(chips, [...chosen.values()].map((p) => h('li', {}, p.displayName,
    h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${p.displayName}`, onclick: () => { chosen.delete(p.id); drawChips(); } }, '×'))));
  const chosenPanel = h('div', { class: 'panel', id: 'chosen-panel' },
    profilePicker('Add a recipient', {}, (p) => { chosen.set(p.id, p); drawChips(); }), chips);
  drawChips();
  const recipientFilter = filterFields(savedFilter);
  const liveCount = h('p', { class: 'hint', id: 'recipient-count', role: 'status' });
  const filterPanel = h('div', { class: 'panel', id: 'filter-panel' }, recipientFilter.element, liveCount);
  // Counts whom the filter selects right now; answers that arrive out of order are dropped.
  let asked = 0;
  const count = async () => {
    const filter = recipientFilter.value();
    asked += 1;
    const mine = asked;
    try {
      const n = (await gql('CountRecipients', { filter })).countRecipients;
      if (mine !== asked) return;
      liveCount.textContent = `${n} profile${n === 1 ? '' : 's'} match. Those without an email address or opted out are skipped when sending.`;
    } catch (err) {
      if (mine === asked) fill(liveCount, alertBox(err));
    }
  };
  const stopCounting = recipientFilter.onChange(count);
  const current = () => modes.querySelector('input:checked').value;
  const show = () => {
    chosenPanel.hidden = current() !== 'chosen';
    filterPanel.hidden = current() !== 'filter';
    if (current() === 'filter') count();
  };
  modes.addEventListener('change', show);
  return {
    element: [modes, chosenPanel, filterPanel],
    show,
    value() {
      if (current() === 'filter') return { filter: recipientFilter.value() };
      if (!chosen.size) throw new FormProblem('Add at least one recipient, or choose a filter.');
      return { profileIds: [...chosen.keys()] };
    },
    stop: stopCounting,
  };
}

/** The compose form, for a new communication (`id` null) or a draft. */
export async function renderCompose(view, id) {
  fill(view, loading());
  const [fieldsData, existing] = await Promise.all([
    gql('ComposeChoices'),
    id ? gql('MassCommunication', { id }).then((d) => d.massCommunication) : null,
  ]);
  if (existing && existing.status !== 'DRAFT') {
    location.replace(`#/mass/${encodeURIComponent(id)}`);
    return;
  }
  const subject = h('input', { id: 'mass-subject', autocomplete: 'off', value: existing ? existing.subject : '' });
  const html = h('textarea', { id: 'mass-html', rows: 14, spellcheck: true, class: 'mono' });
  html.value = existing ? existing.html : '<p>Dear {{full_name}},</p>\n<p></p>';
  const editor = bodyEditor(html);
  const preview = livePreview(html);
  const recipients = recipientsPicker(existing ? existing.recipients : null);
  const validity = h('input', { id: 'link-validity', type: 'number', min: 1, max: 2160, value: String(existing ? existing.linkValidity : 168) });
  const purpose = select(choices(MassPurpose, PURPOSES), existing ? existing.purpose : 'SERVICE', { id: 'mass-purpose' });
  // The From line: only the senders the settings allow; hidden when there is just one.
  const senders = fieldsData.mailSenders;
  const sender = select(senders.map((s) => [s.id, senderWords(s)]), existing ? existing.sender.id : senders[0].id, { id: 'mass-sender' });
  const status = h('div', { class: 'form-status' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-draft' }, existing ? 'Save draft' : 'Create draft');
  const fields = {
    subject: field('Subject', subject),
    html: field('Body', editor.element, 'Ctrl+B bold, Ctrl+I italic, Ctrl+K link. Scripts and event handlers are removed when saved.'),
    linkValidity: field('Link validity (hours)', validity, 'How long each recipient’s set-password link works: 1 to 2160 hours.'),
    sender: senders.length > 1 ? field('From', sender, 'The name recipients see, and where their replies go. The settings (MEMBERKEY_MAIL_SENDERS) list who mail may come from.') : null,
    purpose: field('Purpose', purpose, 'News must contain the Unsubscribe Link and skips members who unsubscribed; service mail (credentials, notices) reaches everyone and has no unsubscribe link.'),
  };
  const form = h('form', { class: 'compose', novalidate: true },
    h('div', { class: 'compose-main card' },
      fields.sender,
      fields.purpose,
      fields.subject,
      specialFieldPicker(fieldsData.specialFields, editor),
      fields.html,
      recipients.element,
      fields.linkValidity,
      status,
      h('div', { class: 'actions' }, save, h('a', { class: 'button', href: existing ? `#/mass/${encodeURIComponent(id)}` : '#/mass' }, 'Cancel'))),
    h('div', { class: 'compose-preview card' }, h('h2', {}, 'Live preview'), h('p', { class: 'hint' }, 'Special fields show as typed; use Preview as on the next page to see them filled in.'), preview.frame));
  fill(view, h('p', { class: 'crumbs' }, h('a', { href: '#/mass' }, '← Mass Communicator')), h('h1', {}, existing ? 'Edit draft' : 'New communication'), form);
  recipients.show();

  handleSubmit(form, save, {
    fields,
    status,
    submit: async () => {
      const input = { subject: subject.value, html: html.value, linkValidity: Number(validity.value), purpose: purpose.value, sender: sender.value, recipients: recipients.value() };
      const data = existing
        ? await gql('UpdateMassCommunication', { input: { id, ...input } })
        : await gql('CreateMassCommunication', { input });
      const saved = (data.createMassCommunication || data.updateMassCommunication).massCommunication;
      notify('Draft saved.', 'ok', { carry: true });
      location.hash = `#/mass/${encodeURIComponent(saved.id)}`;
    },
  });
  subject.focus();
  return () => { preview.stop(); recipients.stop(); };
}

/** The body in the page every mail is sent in (mail::mass::BODY_STYLE; the console's CSP
 * allows exactly this inline style), so the live preview shows the mail's font. */
const MAIL_BODY_STYLE = 'font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 36em;';
function asMailed(body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="${MAIL_BODY_STYLE}">${body}</body></html>`;
}

/** Recipients a send skips, in words: "1 has no email address", "2 left news". */
export function skippedWords({ reason, count }) {
  const one = count === 1;
  const what = {
    NO_EMAIL_ADDRESS: one ? 'has no email address' : 'have no email address',
    OPTED_OUT: 'left news',
    SUPPRESSED: one ? 'is on the suppression list (bounced or complained)' : 'are on the suppression list (bounced or complained)',
    DUPLICATE_ADDRESS: one ? 'shares an address with another recipient' : 'share an address with another recipient',
  }[reason] || words(reason);
  return `${count} ${what}`;
}

/** A sender as staff read it: "Harbour Chamber Events (replies to events@chamber.example)". */
export function senderWords(s) {
  return s.replyTo ? `${s.name} (replies to ${s.replyTo})` : s.name;
}

/** A recipient filter in words, e.g. "People, with status Active, without a password." */
export function describeFilter(f) {
  const parts = [f.kind === 'ORGANIZATION' ? 'organisations' : f.kind === 'INDIVIDUAL' ? 'people' : 'organisations and people'];
  const statuses = f.memberStatus ? [f.memberStatus] : f.memberStatuses || [];
  if (statuses.length) parts.push(`with status ${statuses.map(words).join(' or ')}`);
  if (f.search) parts.push(`found by “${f.search}”`);
  if (f.hasCredentials !== null && f.hasCredentials !== undefined) parts.push(f.hasCredentials ? 'with portal credentials' : 'without portal credentials');
  if (f.hasPassword !== null && f.hasPassword !== undefined) parts.push(f.hasPassword ? 'with a password' : 'without a password');
  if (f.signedIn !== null && f.signedIn !== undefined) parts.push(f.signedIn ? 'who have signed in' : 'who have never signed in');
  if (f.signedInSince) parts.push(`who signed in since ${when(f.signedInSince)}`);
  if (f.fromCommunication) {
    const c = f.fromCommunication;
    const also = [c.linkStates.length ? `whose link is ${c.linkStates.map(words).join(' or ').toLowerCase()}` : null,
      c.deliveryStatuses.length ? `whose delivery is ${c.deliveryStatuses.map(words).join(' or ').toLowerCase()}` : null].filter(Boolean);
    parts.push(['among the recipients of an earlier communication', ...also].join(' '));
  }
  const text = parts.join(', ') + (f.includeRelatedProfiles ? ', and the people related to each organisation' : '');
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}
