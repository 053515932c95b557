// The signed-in staff user's own account: their rights, and changing their password.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { FormProblem, alertBox, busy, confirmDialog, field, fill, h, handleSubmit, labelCells, loading, notify, when, words } from './ui.js';

export async function render(view) {
  const current = h('input', { type: 'password', id: 'current-password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', id: 'new-password', autocomplete: 'new-password' });
  const again = h('input', { type: 'password', id: 'confirm-password', autocomplete: 'new-password' });
  const fields = {
    currentPassword: field('Current password', current),
    newPassword: field('New password', next, `At least ${ctx.policy.minLength} characters.`),
    confirm: field('New password again', again),
  };
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'change-password' }, 'Change password');
  // Held until a required second factor is set up: only enrolment works.
  const form = h('form', { class: 'card', novalidate: true, hidden: ctx.setupRequired }, h('h2', {}, 'Change your password'),
    fields.currentPassword, fields.newPassword, fields.confirm, status, h('div', { class: 'actions' }, submit));
  handleSubmit(form, submit, {
    fields,
    codes: { WEAK_PASSWORD: 'newPassword', INVALID_LOGIN: 'currentPassword' },
    status,
    submit: async () => {
      if (next.value !== again.value) throw new FormProblem('The two new passwords differ.', 'confirm');
      await gql('ChangeStaffPassword', { currentPassword: current.value, newPassword: next.value });
      for (const i of [current, next, again]) i.value = '';
      fill(status, alertBox('Your password is changed. Your other sessions have ended.', 'ok'));
    },
  });
  const factor = h('section', { class: 'card', id: 'second-factor' });
  drawFactor(factor);
  const sessions = h('section', { class: 'card', id: 'sessions', hidden: ctx.setupRequired });
  if (!ctx.setupRequired) drawSessions(sessions);
  fill(view, h('h1', {}, 'Your account'),
    ctx.setupRequired ? h('div', { class: 'alert alert-info', role: 'alert', id: 'setup-required' },
      'Your association requires a second factor for staff. Set one up below to use the console.') : null,
    h('section', { class: 'card' }, h('h2', {}, ctx.viewer.username),
      h('p', {}, 'Your rights: ', ctx.viewer.rights.length ? ctx.viewer.rights.map(words).join(', ') : 'none yet. Ask a staff user with Manage staff.')),
    factor,
    sessions,
    form);
}

/** Where the user is signed in, with a way to end a session they do not recognise. */
async function drawSessions(card) {
  fill(card, h('h2', {}, 'Where you are signed in'), loading());
  let list;
  try {
    list = (await gql('StaffSessions')).staffSessions;
  } catch (err) {
    fill(card, h('h2', {}, 'Where you are signed in'), alertBox(err));
    return;
  }
  const rows = list.map((s) => {
    const end = s.current ? h('span', { class: 'badge status-sent' }, 'This session')
      : h('button', { type: 'button', class: 'small', id: `end-session-${s.id}` }, 'Sign out');
    if (!s.current) {
      end.addEventListener('click', () => busy(end, async () => {
        try {
          await gql('RevokeStaffSession', { id: s.id });
          notify('That session is signed out.');
          drawSessions(card);
        } catch (err) {
          notify(err, 'error');
        }
      }));
    }
    return h('tr', {},
      h('td', {}, s.userAgent || 'Unknown client'),
      h('td', {}, s.clientIp || '—'),
      h('td', {}, when(s.createdAt)),
      h('td', {}, when(s.lastUsedAt)),
      h('td', {}, end));
  });
  fill(card, h('h2', {}, 'Where you are signed in'),
    h('div', { class: 'table-wrap' }, labelCells(h('table', { id: 'sessions-table', class: 'stack' },
      h('caption', { class: 'sr-only' }, 'Your sessions'),
      h('thead', {}, h('tr', {}, ['Browser or tool', 'IP address', 'Signed in', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)))),
    h('p', { class: 'hint' }, 'Sign out any session you do not recognise, then change your password.'));
}

/** The second-factor card: its state, and enrolment with QR code, confirmation and the recovery codes. */
function drawFactor(card) {
  const on = ctx.viewer.secondFactorEnabled;
  const start = h('button', { type: 'button', class: on ? '' : 'primary', id: 'enroll-second-factor' }, on ? 'Set up a new phone' : 'Set up a second factor');
  start.addEventListener('click', async () => {
    if (on && !(await confirmDialog('Set up a new phone', h('p', {}, 'Your current app keeps working until the new one is confirmed; then its codes and your old recovery codes stop working.'), 'Continue'))) return;
    await busy(start, async () => {
      try {
        const data = await gql('EnrollStaffSecondFactor');
        enrolStep(card, data.enrollStaffSecondFactor.enrollment);
      } catch (err) {
        fill(card, h('h2', {}, 'Second factor'), alertBox(err));
      }
    });
  });
  fill(card, h('h2', {}, 'Second factor'),
    h('p', { id: 'second-factor-state' }, on
      ? 'On: signing in asks for a code from your authenticator app.'
      : 'Off: signing in needs only your password. An authenticator app (such as one on your phone) protects the members’ accounts if your password leaks.'),
    h('div', { class: 'actions' }, start, on ? h('button', { type: 'button', id: 'new-recovery-codes', onclick: () => regenerateStep(card) }, 'New recovery codes') : null));
}

/** New recovery codes; the old ones stop working. The step-up asks for the app's code. */
function regenerateStep(card) {
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'regenerate-recovery-codes' }, 'Make new codes');
  const form = h('form', { novalidate: true },
    h('p', {}, 'Your old recovery codes, used or not, stop working as soon as the new ones are made. You confirm with your password and a code from your app.'),
    status,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => drawFactor(card) }, 'Cancel')));
  handleSubmit(form, submit, {
    status,
    submit: async () => {
      const data = await gql('RegenerateStaffRecoveryCodes');
      showRecoveryCodes(card, data.regenerateStaffRecoveryCodes.recoveryCodes, 'New recovery codes are ready; the old ones no longer work.');
    },
  });
  fill(card, h('h2', {}, 'New recovery codes'), form);
  submit.focus();
}

function enrolStep(card, enrollment) {
  const code = h('input', { id: 'enroll-code', autocomplete: 'one-time-code', inputmode: 'numeric', spellcheck: false });
  const codeField = field('The 6-digit code the app shows', code);
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'confirm-second-factor' }, 'Confirm');
  const form = h('form', { novalidate: true },
    h('ol', { class: 'steps' },
      h('li', {}, 'Open your authenticator app and add an account by scanning this code.'),
      h('li', {}, 'Type the code it shows, then Confirm.')),
    h('div', { class: 'qr-wrap' }, h('img', {
      id: 'enroll-qr', class: 'qr', width: 200, height: 200, alt: 'QR code to scan with an authenticator app',
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qrSvg)}`,
    })),
    h('p', { class: 'hint' }, 'Cannot scan? Enter this key in the app instead: ', h('code', { id: 'enroll-secret' }, enrollment.secret)),
    codeField, status,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => drawFactor(card) }, 'Cancel')));
  handleSubmit(form, submit, {
    fields: { code: codeField },
    status,
    submit: async () => {
      const data = await gql('ConfirmStaffSecondFactor', { code: code.value.trim() });
      ctx.viewer = data.confirmStaffSecondFactor.staffUser;
      ctx.setupRequired = false;
      showRecoveryCodes(card, data.confirmStaffSecondFactor.recoveryCodes, 'The second factor is on.');
    },
  });
  fill(card, h('h2', {}, 'Set up a second factor'), form);
  code.focus();
}

function showRecoveryCodes(card, codes, notice) {
  const done = h('button', { type: 'button', class: 'primary', id: 'recovery-codes-saved' }, 'I have saved them');
  done.addEventListener('click', () => {
    const view = card.closest('.screen');
    if (view) render(view);
    else drawFactor(card);
  });
  fill(card, h('h2', {}, 'Your recovery codes'),
    h('div', { class: 'alert alert-ok', role: 'status' }, notice),
    h('p', {}, 'Each code signs you in once without your phone. Keep them somewhere safe, away from the phone: they are shown only now.'),
    h('ul', { class: 'recovery-codes', id: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' }, done));
  done.focus();
}
