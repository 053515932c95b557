// The Mass Communicator: the list of communications, the compose form with its Special Field
// dropdown and live preview, and one communication's page with preview-as, test, send, live
// progress and the deliveries table.

import { gql, subscribe } from './api.js';
import { ctx } from './ctx.js';
import { alertBox, busy, choices, confirmDialog, dialog, field, fieldMessage, fill, h, labelCells, loading, mailNote, notify, select, when, words, zonedInstant, zonedParts, zoneName } from './ui.js';
import { profilePicker } from './search.js';
import { filterFields } from './filter.js';
import { bodyEditor } from './editor.js';

import { DeliveryStatus, LinkState, MassCommunicationStatus, MassPurpose } from './enums.js';

const PURPOSES = { SERVICE: 'Service: credentials and notices, for every member', NEWS: 'News: members may unsubscribe' };

function statusBadge(status) {
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
  const specials = fieldsData.specialFields;
  const special = select([['', 'Choose a special field…'], ...specials.map((f) => [f.token, f.label])], '', { id: 'special-field' });
  const specialHint = h('p', { class: 'hint', id: 'special-field-hint' }, 'Inserted where the cursor is in the body, as one piece.');
  special.addEventListener('change', () => {
    const f = specials.find((s) => s.token === special.value);
    specialHint.textContent = f ? f.description : 'Inserted where the cursor is in the body, as one piece.';
  });
  const insert = h('button', { type: 'button', id: 'insert-field' }, 'Insert');
  insert.addEventListener('click', () => {
    if (!special.value) {
      special.focus();
      return;
    }
    editor.insertField(special.value);
  });
  const preview = h('iframe', { id: 'live-preview', sandbox: '', title: 'Live preview of the body', class: 'preview' });
  let previewTimer = null;
  const refreshPreview = () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => { preview.srcdoc = asMailed(html.value); }, 200);
  };
  html.addEventListener('input', refreshPreview);
  preview.srcdoc = asMailed(html.value);

  // Recipients: chosen profiles, or a filter with a live count. A saved draft shows its
  // own, every condition of a saved filter (a reminder's too) in the form.
  const saved = existing ? existing.recipients : null;
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
  const syncMode = () => {
    const m = modes.querySelector('input:checked').value;
    chosenPanel.hidden = m !== 'chosen';
    filterPanel.hidden = m !== 'filter';
    if (m === 'filter') count();
  };
  modes.addEventListener('change', syncMode);

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
      h('div', { class: 'row special' }, field('Special Field', special), h('div', { class: 'field' }, insert)),
      specialHint,
      fields.html,
      modes, chosenPanel, filterPanel,
      fields.linkValidity,
      status,
      h('div', { class: 'actions' }, save, h('a', { class: 'button', href: existing ? `#/mass/${encodeURIComponent(id)}` : '#/mass' }, 'Cancel'))),
    h('div', { class: 'compose-preview card' }, h('h2', {}, 'Live preview'), h('p', { class: 'hint' }, 'Special fields show as typed; use Preview as on the next page to see them filled in.'), preview));
  fill(view, h('p', { class: 'crumbs' }, h('a', { href: '#/mass' }, '← Mass Communicator')), h('h1', {}, existing ? 'Edit draft' : 'New communication'), form);
  syncMode();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(fields).forEach((f) => f && f.showError(null));
    fill(status);
    const m = modes.querySelector('input:checked').value;
    let recipients;
    if (m === 'chosen') {
      if (!chosen.size) {
        fill(status, alertBox('Add at least one recipient, or choose a filter.', 'info'));
        return;
      }
      recipients = { profileIds: [...chosen.keys()] };
    } else if (m === 'filter') {
      recipients = { filter: recipientFilter.value() };
    }
    const input = { subject: subject.value, html: html.value, linkValidity: Number(validity.value), purpose: purpose.value, sender: sender.value };
    if (recipients) input.recipients = recipients;
    await busy(save, async () => {
      try {
        const data = existing
          ? await gql('UpdateMassCommunication', { input: { id, ...input } })
          : await gql('CreateMassCommunication', { input });
        const saved = (data.createMassCommunication || data.updateMassCommunication).massCommunication;
        notify('Draft saved.', 'ok', { carry: true });
        location.hash = `#/mass/${encodeURIComponent(saved.id)}`;
      } catch (err) {
        const key = (err.extensions.field || '').split('.').pop();
        // Shown once: beside its field when it has one, else above the form.
        if (fields[key]) {
          fields[key].showError(fieldMessage(err));
          // The field may be far above the button: bring it, and its error, into view.
          fields[key].control.focus();
          fields[key].scrollIntoView({ block: 'center' });
        } else fill(status, alertBox(err));
      }
    });
  });
  subject.focus();
  return () => { clearTimeout(previewTimer); stopCounting(); };
}

/** The body in the page every mail is sent in (mail::mass::BODY_STYLE; the console's CSP
 * allows exactly this inline style), so the live preview shows the mail's font. */
const MAIL_BODY_STYLE = 'font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 36em;';
function asMailed(body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="${MAIL_BODY_STYLE}">${body}</body></html>`;
}

/** Recipients a send skips, in words: "1 has no email address", "2 left news". */
function skippedWords({ reason, count }) {
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
function senderWords(s) {
  return s.replyTo ? `${s.name} (replies to ${s.replyTo})` : s.name;
}

/** A recipient filter in words, e.g. "People, with status Active, without a password." */
function describeFilter(f) {
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

/** One communication: its state, actions, live progress and deliveries. */
export async function renderOne(view, id) {
  fill(view, loading());
  let stop = null;
  const filters = { status: select([['', 'Any status'], ...choices(DeliveryStatus)], '', { id: 'delivery-status' }),
    linkState: select([['', 'Any link state'], ...choices(LinkState)], '', { id: 'delivery-link' }) };
  const head = h('div');
  const progress = h('div', { id: 'progress' });
  const actions = h('div', { class: 'inline-actions', id: 'mass-actions' });
  const tools = h('div', { id: 'mass-tools' });
  const deliveries = h('div', { id: 'deliveries' });
  let comm = null;

  const load = async () => {
    const data = await gql('MassCommunication', { id, status: filters.status.value || null, linkState: filters.linkState.value || null });
    comm = data.massCommunication;
    drawHead();
    drawProgress(comm.counts, comm.status);
    drawActions();
    drawDeliveries(comm.deliveries);
    follow();
  };

  function drawHead() {
    fill(head,
      h('h1', {}, comm.subject || '(no subject)', ' ', statusBadge(comm.status)),
      h('p', { class: 'hint' }, `From ${senderWords(comm.sender)} · `, comm.purpose === 'NEWS' ? 'News (members may unsubscribe) · ' : 'Service (reaches every member) · ', `Created ${when(comm.createdAt)}`, comm.queuedAt ? ` · sent ${when(comm.queuedAt)}` : '', comm.finishedAt ? ` · finished ${when(comm.finishedAt)}` : '',
        comm.sendAt && comm.status !== 'DRAFT' ? ` · scheduled for ${when(comm.sendAt)}` : '',
        ` · links work ${comm.linkValidity} hours`),
      comm.status === 'DRAFT' && comm.sendAt ? h('p', { class: 'alert alert-info', id: 'schedule-note', role: 'status' },
        `Scheduled: it sends by itself on ${when(comm.sendAt)}. Until then it can be edited, rescheduled or unscheduled.`) : null,
      comm.status === 'DRAFT' && comm.scheduleProblem ? h('div', { id: 'schedule-problem' },
        alertBox(`It was not sent at its scheduled time: ${comm.scheduleProblem}.`, 'error')) : null,
      comm.pauseReason ? alertBox(`Paused: ${comm.pauseReason}. Resume once the cause is fixed, or cancel.`, 'info') : null);
  }

  function drawProgress(counts, status) {
    if (status === 'DRAFT') {
      fill(progress);
      return;
    }
    const done = counts.total - counts.pending;
    const pct = counts.total ? Math.round((done / counts.total) * 100) : 100;
    fill(progress, h('section', { class: 'card' },
      h('h2', { id: 'progress-label' }, 'Progress'),
      h('progress', { max: String(counts.total || 1), value: String(done), 'aria-labelledby': 'progress-label', id: 'progress-bar' }),
      h('p', { id: 'progress-text', role: 'status' }, `${pct}% · ${counts.sent} sent · ${counts.pending} waiting · ${counts.failed} failed · ${counts.skipped} skipped`
        + (counts.cancelled ? ` · ${counts.cancelled} cancelled` : '') + (counts.bounced ? ` · ${counts.bounced} bounced` : '')),
      h('p', { class: 'hint' }, `Links: ${counts.linkUsed} used, ${counts.linkUnused} unused, ${counts.linkExpired} expired.`)));
  }

  // Live progress while it sends: the subscription ends when the communication does.
  function follow() {
    if (stop || !['QUEUED', 'SENDING'].includes(comm.status)) return;
    stop = subscribe('MassCommunicationProgress', { id }, (data) => {
      const p = data.massCommunicationProgress;
      drawProgress(p.counts, p.status);
      if (p.status !== comm.status) {
        comm.status = p.status;
        comm.counts = p.counts;
        drawHead();
        drawActions();
      }
    }, (err) => {
      stop = null;
      if (err) notify(err, 'error');
      // The final state, and the deliveries as they ended.
      if (view.isConnected) load().catch((e) => notify(e, 'error'));
    });
  }

  function action(label, op, key, confirm, extra = {}) {
    const b = h('button', { type: 'button', id: extra.id, class: extra.class }, label);
    b.addEventListener('click', async () => {
      if (confirm && !(await confirm())) return;
      await busy(b, async () => {
        try {
          const data = await gql(op, extra.vars || { id });
          if (key === 'deleteMassCommunication') {
            notify('Draft deleted.', 'ok', { carry: true });
            location.hash = '#/mass';
            return;
          }
          const c = data[key].massCommunication;
          if (key === 'duplicateMassCommunication') {
            notify('Copied into a new draft.', 'ok', { carry: true });
            location.hash = `#/mass/${encodeURIComponent(c.id)}/edit`;
            return;
          }
          notify(extra.done || 'Done.');
          await load();
        } catch (err) {
          notify(err, 'error');
        }
      });
    });
    return b;
  }

  function drawActions() {
    const s = comm.status;
    const list = [];
    if (s === 'DRAFT') {
      list.push(h('a', { class: 'button', href: `#/mass/${encodeURIComponent(id)}/edit`, id: 'edit-draft' }, 'Edit'));
      list.push(action('Send…', 'SendMassCommunication', 'sendMassCommunication', confirmSend, { id: 'send', class: 'primary', done: 'Sending has started.' }));
      list.push(scheduleButton());
      if (comm.sendAt) {
        list.push(action('Unschedule', 'ScheduleMassCommunication', 'scheduleMassCommunication', null,
          { id: 'unschedule', done: 'No longer scheduled; it stays a draft.', vars: { input: { id, sendAt: null } } }));
      }
      list.push(action('Delete draft', 'DeleteMassCommunication', 'deleteMassCommunication',
        () => confirmDialog('Delete draft', h('p', {}, 'The draft is deleted for good.'), 'Delete', { danger: true }), { id: 'delete', class: 'danger' }));
    }
    if (['QUEUED', 'SENDING', 'PAUSED'].includes(s)) {
      list.push(action('Cancel sending', 'CancelMassCommunication', 'cancelMassCommunication',
        () => confirmDialog('Cancel sending', h('p', {}, 'Messages not yet handed to the mail provider are cancelled. Those already sent stay sent.'), 'Cancel sending', { danger: true }),
        { id: 'cancel', class: 'danger', done: 'Cancelled.' }));
    }
    if (s === 'PAUSED') list.push(action('Resume', 'ResumeMassCommunication', 'resumeMassCommunication', null, { id: 'resume', class: 'primary', done: 'Resumed.' }));
    if (['SENT', 'FAILED', 'CANCELLED', 'PAUSED'].includes(s) && comm.counts.failed > 0) {
      list.push(action(`Retry ${comm.counts.failed} failed`, 'RetryFailedDeliveries', 'retryFailedDeliveries', null, { id: 'retry', done: 'The failed deliveries are queued again.' }));
    }
    list.push(action('Duplicate', 'DuplicateMassCommunication', 'duplicateMassCommunication', null, { id: 'duplicate' }));
    // A follow-up for a credentials mail: only those it went to who still have no password,
    // so nobody who already set one is reminded.
    if (s !== 'DRAFT' && comm.html.includes('portal_login_credentials_link')) list.push(remindButton());
    fill(actions, list);
    drawTools();
  }

  function remindButton() {
    const b = h('button', { type: 'button', id: 'remind' }, 'Remind those who have not set a password');
    b.addEventListener('click', () => busy(b, async () => {
      try {
        const input = {
          subject: `Reminder: ${comm.subject}`,
          html: comm.html,
          purpose: comm.purpose,
          sender: comm.sender.id,
          linkValidity: comm.linkValidity,
          recipients: { filter: { fromCommunication: { id }, hasPassword: false } },
        };
        const data = await gql('CreateMassCommunication', { input });
        notify('Reminder draft saved: it goes to those this communication reached who have no password yet. Review it, then send.', 'ok', { carry: true });
        location.hash = `#/mass/${encodeURIComponent(data.createMassCommunication.massCommunication.id)}`;
      } catch (err) {
        notify(err, 'error');
      }
    }));
    return b;
  }

  // A day and time in the association's time zone; the server sends it then, on the
  // caller's behalf.
  function scheduleButton() {
    const b = h('button', { type: 'button', id: 'schedule' }, comm.sendAt ? 'Change schedule…' : 'Schedule…');
    b.addEventListener('click', async () => {
      const saved = await dialog('Schedule sending', scheduleForm);
      if (!saved) return;
      notify(`Scheduled for ${when(saved.sendAt)}.`);
      await load();
    });
    return b;
  }

  function scheduleForm(close) {
    const start = zonedParts(comm.sendAt || new Date(Date.now() + 3600 * 1000).toISOString());
    const day = h('input', { type: 'date', id: 'schedule-day', required: true, value: start.day });
    const time = h('input', { type: 'time', id: 'schedule-time', required: true, value: start.time });
    const dayField = field('Day', day);
    const timeField = field('Time', time, `In the association's time zone, ${zoneName()}.`);
    const status = h('div', { class: 'form-status' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'schedule-save' }, 'Schedule');
    const form = h('form', { id: 'schedule-form', novalidate: true },
      h('p', {}, `“${comm.subject}” is sent by itself at this time, on your behalf, to everyone its recipients select then. Until then it stays a draft.`),
      h('div', { class: 'row' }, dayField, timeField),
      status,
      h('div', { class: 'actions' }, save, h('button', { type: 'button', onclick: () => close(null) }, 'Cancel')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      dayField.showError(day.value ? null : 'Choose a day.');
      timeField.showError(time.value ? null : 'Choose a time.');
      if (!day.value || !time.value) return;
      busy(save, async () => {
        try {
          const data = await gql('ScheduleMassCommunication', { input: { id, sendAt: zonedInstant(day.value, time.value) } });
          close(data.scheduleMassCommunication.massCommunication);
        } catch (err) {
          if ((err.extensions.field || '').endsWith('sendAt')) timeField.showError(fieldMessage(err));
          else fill(status, alertBox(err));
        }
      });
    });
    return form;
  }

  async function confirmSend() {
    const plan = await sendPlan();
    const n = plan && plan.reach;
    const skipped = plan ? plan.skipped.map(skippedWords) : [];
    return confirmDialog('Send this communication', h('div', {},
      h('p', { class: 'big', id: 'send-count' }, plan === null ? 'The recipients are counted when it is sent.' : `${n} recipient${n === 1 ? '' : 's'}`),
      skipped.length ? h('p', { id: 'send-skipped' }, `Skipped: ${skipped.join('; ')}.`) : null,
      h('p', {}, `“${comm.subject}” goes to every recipient with an email address who has not opted out. This cannot be undone, only cancelled while it sends.`)),
    plan === null ? 'Send' : `Send to ${n}`);
  }

  async function sendPlan() {
    try {
      const data = await gql('SendPlan', { id });
      return data.massCommunication.sendPlan;
    } catch {
      return null;
    }
  }

  function drawTools() {
    if (comm.status !== 'DRAFT') {
      // A sent communication shows what went out (with sample values) and to whom.
      const frame = h('iframe', { id: 'sent-message', sandbox: '', title: 'The message, with sample values', class: 'preview' });
      const subjectLine = h('p', { class: 'preview-subject' });
      fill(tools, h('div', { class: 'two-col' },
        h('section', { class: 'card' }, h('h2', {}, 'Message'), h('p', { class: 'hint' }, 'As sent, with sample values in the special fields.'), subjectLine, frame),
        recipientsCard()));
      gql('PreviewMassCommunication', { id, profileId: null }).then((data) => {
        subjectLine.textContent = `Subject: ${data.previewMassCommunication.subject}`;
        frame.srcdoc = data.previewMassCommunication.html;
      }).catch((err) => fill(subjectLine, alertBox(err)));
      return;
    }
    let previewId = null;
    const frame = h('iframe', { id: 'recipient-preview', sandbox: '', title: 'Preview for the chosen recipient', class: 'preview' });
    const previewSubject = h('p', { class: 'preview-subject', id: 'preview-subject' });
    const previewFor = h('p', { class: 'hint', id: 'preview-for' }, 'A sample recipient.');
    const showPreview = async () => {
      try {
        const data = await gql('PreviewMassCommunication', { id, profileId: previewId });
        previewSubject.textContent = `Subject: ${data.previewMassCommunication.subject}`;
        frame.srcdoc = data.previewMassCommunication.html;
      } catch (err) {
        fill(previewSubject, alertBox(err));
      }
    };
    const picker = profilePicker('Recipient', {}, (p) => {
      previewId = p.id;
      previewFor.textContent = `As ${p.displayName}${p.email ? ` <${p.email}>` : ''}.`;
      showPreview();
    });
    const testTo = h('input', { id: 'test-address', type: 'email', autocomplete: 'email', value: '' });
    const testField = field('Send a test copy to', testTo, 'Filled in as the recipient chosen under Preview as, or as a sample.');
    const testButton = h('button', { type: 'button', id: 'send-test' }, 'Send test');
    testButton.addEventListener('click', () => busy(testButton, async () => {
      testField.showError(null);
      try {
        const data = await gql('SendTestMassCommunication', { id, email: testTo.value.trim(), profileId: previewId });
        notify(mailNote('A test copy', data.sendTestMassCommunication.sentTo, ctx.settings.mailIsSent));
      } catch (err) {
        testField.showError(err.message);
        notify(err, 'error');
      }
    }));
    fill(tools, recipientsCard(), h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h2', {}, 'Preview as'), picker, previewFor, previewSubject, frame),
      h('section', { class: 'card' }, h('h2', {}, 'Send test'), testField, h('div', { class: 'actions' }, testButton))));
    showPreview();
  }

  /** Who it goes to: the chosen profiles by name, or the filter in words. */
  function recipientsCard() {
    const chosen = comm.recipients.profiles;
    const shown = chosen.slice(0, 20);
    const body = comm.recipients.filter
      ? h('p', { id: 'recipients-summary' }, `Everyone matching: ${describeFilter(comm.recipients.filter)}`)
      : [h('ul', { class: 'plain', id: 'recipients-summary' }, shown.map((p) => h('li', {},
        h('a', { href: `#/profiles/${encodeURIComponent(p.id)}` }, p.displayName), p.email ? ` <${p.email}>` : h('span', { class: 'hint' }, ' (no email address: skipped)')))),
      chosen.length > shown.length ? h('p', { class: 'hint' }, `And ${chosen.length - shown.length} more.`) : null];
    return h('section', { class: 'card' }, h('h2', {}, 'Recipients'), body);
  }

  const deliveryRow = (d) => h('tr', {},
    h('td', {}, d.profileId ? h('a', { href: `#/profiles/${encodeURIComponent(d.profileId)}` }, d.recipientName || d.profileId) : (d.recipientName || '—')),
    h('td', {}, d.email || '—'),
    h('td', {}, statusBadge(d.status), d.possibleDuplicate ? h('span', { class: 'hint' }, ' (may have gone twice)') : null),
    h('td', {}, d.linkState ? words(d.linkState) : '—'),
    h('td', {}, d.error || (d.skipReason ? words(d.skipReason) : '')),
    h('td', {}, when(d.sentAt)));

  function drawDeliveries(conn) {
    if (comm.status === 'DRAFT') {
      fill(deliveries);
      return;
    }
    const body = h('tbody', {}, conn.edges.map(({ node }) => deliveryRow(node)));
    const shown = h('p', { class: 'hint', id: 'deliveries-shown', role: 'status' });
    const more = h('button', { type: 'button', id: 'more-deliveries' }, 'Show more');
    let after = conn.pageInfo.endCursor;
    const sync = (hasNext) => {
      more.hidden = !hasNext;
      shown.textContent = `Showing ${body.rows.length} of ${comm.counts.total}${filters.status.value || filters.linkState.value ? ' (filtered)' : ''}.`;
    };
    more.addEventListener('click', () => busy(more, async () => {
      try {
        const data = await gql('MassCommunication', {
          id, status: filters.status.value || null, linkState: filters.linkState.value || null, after,
        });
        const page = data.massCommunication.deliveries;
        for (const { node } of page.edges) body.append(deliveryRow(node));
        labelCells(body.closest('table'));
        after = page.pageInfo.endCursor;
        sync(page.pageInfo.hasNextPage);
      } catch (err) {
        notify(err, 'error');
      }
    }));
    fill(deliveries, h('section', { class: 'card' },
      h('h2', {}, 'Deliveries'),
      h('div', { class: 'filters row' }, field('Status', filters.status), field('Link', filters.linkState)),
      conn.edges.length
        ? h('div', { class: 'table-wrap' }, labelCells(h('table', { id: 'deliveries-table', class: 'stack' },
          h('caption', { class: 'sr-only' }, 'Deliveries'),
          h('thead', {}, h('tr', {}, ['Recipient', 'Address', 'Status', 'Link', 'Error or reason', 'Sent'].map((t) => h('th', { scope: 'col' }, t)))),
          body)))
        : h('p', { class: 'hint' }, 'No deliveries match.'),
      conn.edges.length ? shown : null,
      more));
    sync(conn.pageInfo.hasNextPage);
  }

  for (const s of Object.values(filters)) s.addEventListener('change', () => load().catch((e) => notify(e, 'error')));
  fill(view, h('p', { class: 'crumbs' }, h('a', { href: '#/mass' }, '← Mass Communicator')), head, actions, progress, tools, deliveries);
  await load();
  return () => { if (stop) stop(); };
}
