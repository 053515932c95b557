// One communication's page: what it is and where it stands, its actions (send, schedule,
// cancel, resume, retry, duplicate, remind), live progress while it sends, the message and
// its recipients, Preview as and Send test for a draft, and its deliveries.

import { gql, subscribe } from './api.js';
import { ctx } from './ctx.js';
import { DeliveryStatus, LinkState } from './enums.js';
import { FormProblem, alertBox, busy, choices, confirmDialog, dialog, field, fill, h, handleSubmit, labelCells, loading, mailNote, notify, select, when, words, zonedInstant, zonedParts, zoneName } from './ui.js';
import { profilePicker } from './search.js';
import { describeFilter, senderWords, skippedWords, statusBadge } from './mass.js';

/** The heading, what kind of mail it is, and any schedule, scheduling problem or pause. */
function headOf(comm) {
  const draft = comm.status === 'DRAFT';
  return [
    h('h1', {}, comm.subject || '(no subject)', ' ', statusBadge(comm.status)),
    h('p', { class: 'hint' }, `From ${senderWords(comm.sender)} · `, comm.purpose === 'NEWS' ? 'News (members may unsubscribe) · ' : 'Service (reaches every member) · ', `Created ${when(comm.createdAt)}`, comm.queuedAt ? ` · sent ${when(comm.queuedAt)}` : '', comm.finishedAt ? ` · finished ${when(comm.finishedAt)}` : '',
      comm.sendAt && !draft ? ` · scheduled for ${when(comm.sendAt)}` : '',
      ` · links work ${comm.linkValidity} hours`),
    draft && comm.sendAt ? h('p', { class: 'alert alert-info', id: 'schedule-note', role: 'status' },
      `Scheduled: it sends by itself on ${when(comm.sendAt)}. Until then it can be edited, rescheduled or unscheduled.`) : null,
    draft && comm.scheduleProblem ? h('div', { id: 'schedule-problem' },
      alertBox(`It was not sent at its scheduled time: ${comm.scheduleProblem}.`, 'error')) : null,
    comm.pauseReason ? alertBox(`Paused: ${comm.pauseReason}. Resume once the cause is fixed, or cancel.`, 'info') : null,
  ];
}

/** How far sending has come; nothing for a draft. */
function progressCard(counts, status) {
  if (status === 'DRAFT') return null;
  const done = counts.total - counts.pending;
  const pct = counts.total ? Math.round((done / counts.total) * 100) : 100;
  return h('section', { class: 'card' },
    h('h2', { id: 'progress-label' }, 'Progress'),
    h('progress', { max: String(counts.total || 1), value: String(done), 'aria-labelledby': 'progress-label', id: 'progress-bar' }),
    h('p', { id: 'progress-text', role: 'status' }, `${pct}% · ${counts.sent} sent · ${counts.pending} waiting · ${counts.failed} failed · ${counts.skipped} skipped`
      + (counts.cancelled ? ` · ${counts.cancelled} cancelled` : '') + (counts.bounced ? ` · ${counts.bounced} bounced` : '')),
    h('p', { class: 'hint' }, `Links: ${counts.linkUsed} used, ${counts.linkUnused} unused, ${counts.linkExpired} expired.`));
}

/** A button that runs `run` (after `confirm`, if given), busy meanwhile; a failure is a notice. */
function actionButton(label, run, { id, cls, confirm } = {}) {
  const b = h('button', { type: 'button', id, class: cls }, label);
  b.addEventListener('click', async () => {
    if (confirm && !(await confirm())) return;
    await busy(b, async () => {
      try {
        await run();
      } catch (err) {
        notify(err, 'error');
      }
    });
  });
  return b;
}

/** What staff can do with it now; `reload` draws the page again after a change. */
function actionsFor(comm, reload) {
  const { id } = comm;
  const s = comm.status;
  const mutate = (op, variables, done) => async () => {
    await gql(op, variables);
    notify(done);
    await reload();
  };
  const list = [];
  if (s === 'DRAFT') {
    list.push(h('a', { class: 'button', href: `#/mass/${encodeURIComponent(id)}/edit`, id: 'edit-draft' }, 'Edit'));
    list.push(actionButton('Send…', mutate('SendMassCommunication', { id }, 'Sending has started.'), { id: 'send', cls: 'primary', confirm: () => confirmSend(comm) }));
    list.push(scheduleButton(comm, reload));
    if (comm.sendAt) list.push(actionButton('Unschedule', mutate('ScheduleMassCommunication', { input: { id, sendAt: null } }, 'No longer scheduled; it stays a draft.'), { id: 'unschedule' }));
    list.push(actionButton('Delete draft', async () => {
      await gql('DeleteMassCommunication', { id });
      notify('Draft deleted.', 'ok', { carry: true });
      location.hash = '#/mass';
    }, { id: 'delete', cls: 'danger', confirm: () => confirmDialog('Delete draft', h('p', {}, 'The draft is deleted for good.'), 'Delete', { danger: true }) }));
  }
  if (['QUEUED', 'SENDING', 'PAUSED'].includes(s)) {
    list.push(actionButton('Cancel sending', mutate('CancelMassCommunication', { id }, 'Cancelled.'), {
      id: 'cancel',
      cls: 'danger',
      confirm: () => confirmDialog('Cancel sending', h('p', {}, 'Messages not yet handed to the mail provider are cancelled. Those already sent stay sent.'), 'Cancel sending', { danger: true }),
    }));
  }
  if (s === 'PAUSED') list.push(actionButton('Resume', mutate('ResumeMassCommunication', { id }, 'Resumed.'), { id: 'resume', cls: 'primary' }));
  if (['SENT', 'FAILED', 'CANCELLED', 'PAUSED'].includes(s) && comm.counts.failed > 0) {
    list.push(actionButton(`Retry ${comm.counts.failed} failed`, mutate('RetryFailedDeliveries', { id }, 'The failed deliveries are queued again.'), { id: 'retry' }));
  }
  list.push(actionButton('Duplicate', async () => {
    const data = await gql('DuplicateMassCommunication', { id });
    notify('Copied into a new draft.', 'ok', { carry: true });
    location.hash = `#/mass/${encodeURIComponent(data.duplicateMassCommunication.massCommunication.id)}/edit`;
  }, { id: 'duplicate' }));
  // A follow-up for a credentials mail: only those it went to who still have no password,
  // so nobody who already set one is reminded.
  if (s !== 'DRAFT' && comm.html.includes('portal_login_credentials_link')) list.push(remindButton(comm));
  return list;
}

function remindButton(comm) {
  return actionButton('Remind those who have not set a password', async () => {
    const input = {
      subject: `Reminder: ${comm.subject}`,
      html: comm.html,
      purpose: comm.purpose,
      sender: comm.sender.id,
      linkValidity: comm.linkValidity,
      recipients: { filter: { fromCommunication: { id: comm.id }, hasPassword: false } },
    };
    const data = await gql('CreateMassCommunication', { input });
    notify('Reminder draft saved: it goes to those this communication reached who have no password yet. Review it, then send.', 'ok', { carry: true });
    location.hash = `#/mass/${encodeURIComponent(data.createMassCommunication.massCommunication.id)}`;
  }, { id: 'remind' });
}

// A day and time in the association's time zone; the server sends it then, on the
// caller's behalf.
function scheduleButton(comm, reload) {
  const b = h('button', { type: 'button', id: 'schedule' }, comm.sendAt ? 'Change schedule…' : 'Schedule…');
  b.addEventListener('click', async () => {
    const saved = await dialog('Schedule sending', (close) => scheduleForm(comm, close));
    if (!saved) return;
    notify(`Scheduled for ${when(saved.sendAt)}.`);
    await reload();
  });
  return b;
}

function scheduleForm(comm, close) {
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
  handleSubmit(form, save, {
    // The API names the instant; staff set it as a day and a time.
    fields: { day: dayField, sendAt: timeField },
    status,
    submit: async () => {
      if (!day.value) throw new FormProblem('Choose a day.', 'day');
      if (!time.value) throw new FormProblem('Choose a time.', 'sendAt');
      const data = await gql('ScheduleMassCommunication', { input: { id: comm.id, sendAt: zonedInstant(day.value, time.value) } });
      close(data.scheduleMassCommunication.massCommunication);
    },
  });
  return form;
}

/** Asks before sending, with whom it reaches and whom it skips and why. */
async function confirmSend(comm) {
  const plan = await gql('SendPlan', { id: comm.id }).then((d) => d.massCommunication.sendPlan).catch(() => null);
  const n = plan && plan.reach;
  const skipped = plan ? plan.skipped.map(skippedWords) : [];
  return confirmDialog('Send this communication', h('div', {},
    h('p', { class: 'big', id: 'send-count' }, plan === null ? 'The recipients are counted when it is sent.' : `${n} recipient${n === 1 ? '' : 's'}`),
    skipped.length ? h('p', { id: 'send-skipped' }, `Skipped: ${skipped.join('; ')}.`) : null,
    h('p', {}, `“${comm.subject}” goes to every recipient with an email address who has not opted out. This cannot be undone, only cancelled while it sends.`)),
  plan === null ? 'Send' : `Send to ${n}`);
}

/** Who it goes to: the chosen profiles by name, or the filter in words. */
function recipientsCard(comm) {
  const chosen = comm.recipients.profiles;
  const shown = chosen.slice(0, 20);
  const body = comm.recipients.filter
    ? h('p', { id: 'recipients-summary' }, `Everyone matching: ${describeFilter(comm.recipients.filter)}`)
    : [h('ul', { class: 'plain', id: 'recipients-summary' }, shown.map((p) => h('li', {},
      h('a', { href: `#/profiles/${encodeURIComponent(p.id)}` }, p.displayName), p.email ? ` <${p.email}>` : h('span', { class: 'hint' }, ' (no email address: skipped)')))),
    chosen.length > shown.length ? h('p', { class: 'hint' }, `And ${chosen.length - shown.length} more.`) : null];
  return h('section', { class: 'card' }, h('h2', {}, 'Recipients'), body);
}

/** A sent communication: what went out (with sample values) and to whom. */
function sentTools(comm) {
  const frame = h('iframe', { id: 'sent-message', sandbox: '', title: 'The message, with sample values', class: 'preview' });
  const subjectLine = h('p', { class: 'preview-subject' });
  gql('PreviewMassCommunication', { id: comm.id, profileId: null }).then((data) => {
    subjectLine.textContent = `Subject: ${data.previewMassCommunication.subject}`;
    frame.srcdoc = data.previewMassCommunication.html;
  }).catch((err) => fill(subjectLine, alertBox(err)));
  return h('div', { class: 'two-col' },
    h('section', { class: 'card' }, h('h2', {}, 'Message'), h('p', { class: 'hint' }, 'As sent, with sample values in the special fields.'), subjectLine, frame),
    recipientsCard(comm));
}

/** A draft: its recipients, Preview as one of them, and Send test. */
function draftTools(comm) {
  let previewId = null;
  const frame = h('iframe', { id: 'recipient-preview', sandbox: '', title: 'Preview for the chosen recipient', class: 'preview' });
  const previewSubject = h('p', { class: 'preview-subject', id: 'preview-subject' });
  const previewFor = h('p', { class: 'hint', id: 'preview-for' }, 'A sample recipient.');
  const showPreview = async () => {
    try {
      const data = await gql('PreviewMassCommunication', { id: comm.id, profileId: previewId });
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
      const data = await gql('SendTestMassCommunication', { id: comm.id, email: testTo.value.trim(), profileId: previewId });
      notify(mailNote('A test copy', data.sendTestMassCommunication.sentTo, ctx.settings.mailIsSent));
    } catch (err) {
      testField.showError(err.message);
      notify(err, 'error');
    }
  }));
  showPreview();
  return [recipientsCard(comm), h('div', { class: 'two-col' },
    h('section', { class: 'card' }, h('h2', {}, 'Preview as'), picker, previewFor, previewSubject, frame),
    h('section', { class: 'card' }, h('h2', {}, 'Send test'), testField, h('div', { class: 'actions' }, testButton)))];
}

const deliveryRow = (d) => h('tr', {},
  h('td', {}, d.profileId ? h('a', { href: `#/profiles/${encodeURIComponent(d.profileId)}` }, d.recipientName || d.profileId) : (d.recipientName || '—')),
  h('td', {}, d.email || '—'),
  h('td', {}, statusBadge(d.status), d.possibleDuplicate ? h('span', { class: 'hint' }, ' (may have gone twice)') : null),
  h('td', {}, d.linkState ? words(d.linkState) : '—'),
  h('td', {}, d.error || (d.skipReason ? words(d.skipReason) : '')),
  h('td', {}, when(d.sentAt)));

/** The deliveries, as `filters` narrow them, a page at a time; nothing for a draft. */
function deliveriesCard(comm, filters) {
  if (comm.status === 'DRAFT') return null;
  const conn = comm.deliveries;
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
        id: comm.id, status: filters.status.value || null, linkState: filters.linkState.value || null, after,
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
  sync(conn.pageInfo.hasNextPage);
  return h('section', { class: 'card' },
    h('h2', {}, 'Deliveries'),
    h('div', { class: 'filters row' }, field('Status', filters.status), field('Link', filters.linkState)),
    conn.edges.length
      ? h('div', { class: 'table-wrap' }, labelCells(h('table', { id: 'deliveries-table', class: 'stack' },
        h('caption', { class: 'sr-only' }, 'Deliveries'),
        h('thead', {}, h('tr', {}, ['Recipient', 'Address', 'Status', 'Link', 'Error or reason', 'Sent'].map((t) => h('th', { scope: 'col' }, t)))),
        body)))
      : h('p', { class: 'hint' }, 'No deliveries match.'),
    conn.edges.length ? shown : null,
    more);
}

/** One communication: its state, actions, live progress and deliveries. */
export async function renderOne(view, id) {
  fill(view, loading());
  let stop = null;
  let comm = null;
  const filters = {
    status: select([['', 'Any status'], ...choices(DeliveryStatus)], '', { id: 'delivery-status' }),
    linkState: select([['', 'Any link state'], ...choices(LinkState)], '', { id: 'delivery-link' }),
  };
  const head = h('div');
  const progress = h('div', { id: 'progress' });
  const actions = h('div', { class: 'inline-actions', id: 'mass-actions' });
  const tools = h('div', { id: 'mass-tools' });
  const deliveries = h('div', { id: 'deliveries' });

  const drawState = () => {
    fill(head, headOf(comm));
    fill(actions, actionsFor(comm, load));
    fill(tools, comm.status === 'DRAFT' ? draftTools(comm) : sentTools(comm));
  };
  async function load() {
    const data = await gql('MassCommunication', { id, status: filters.status.value || null, linkState: filters.linkState.value || null });
    comm = data.massCommunication;
    drawState();
    fill(progress, progressCard(comm.counts, comm.status));
    fill(deliveries, deliveriesCard(comm, filters));
    follow();
  }
  // Live progress while it sends: the subscription ends when the communication does.
  function follow() {
    if (stop || !['QUEUED', 'SENDING'].includes(comm.status)) return;
    stop = subscribe('MassCommunicationProgress', { id }, (data) => {
      const p = data.massCommunicationProgress;
      fill(progress, progressCard(p.counts, p.status));
      if (p.status !== comm.status) {
        comm.status = p.status;
        comm.counts = p.counts;
        drawState();
      }
    }, (err) => {
      stop = null;
      if (err) notify(err, 'error');
      // The final state, and the deliveries as they ended.
      if (view.isConnected) load().catch((e) => notify(e, 'error'));
    });
  }

  for (const s of Object.values(filters)) s.addEventListener('change', () => load().catch((e) => notify(e, 'error')));
  fill(view, h('p', { class: 'crumbs' }, h('a', { href: '#/mass' }, '← Mass Communicator')), head, actions, progress, tools, deliveries);
  await load();
  return () => { if (stop) stop(); };
}
