// Staff users (MANAGE_STAFF): the list, creating one, rights as checkboxes, the address for
// set-password links and sending one, deactivating, reactivating and unlocking.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { Right } from './enums.js';
import { alertBox, busy, confirmDialog, dialog, duration, field, fill, h, handleSubmit, loading, mailNote, notify, strongPassword, when, words } from './ui.js';

// What each right allows, in the console's words; a right the API gains later shows the
// schema's own description until it has one here.
const RIGHT_HINTS = {
  MANAGE_PROFILES: 'Create and edit profiles.',
  MANAGE_PORTAL_CREDENTIALS: 'Set usernames and passwords, unlock and remove credentials.',
  SEND_PASSWORD_RESETS: 'Send Password Reset Email and links for the phone.',
  SEND_MASS_COMMUNICATIONS: 'Use the Mass Communicator.',
  VIEW_PORTAL_PASSWORDS: 'See a password staff assigned, while the member has not chosen their own. Every reveal is audited.',
  MANAGE_STAFF: 'Create staff users and grant rights.',
  VIEW_AUDIT_LOG: 'Read the audit log.',
  IMPERSONATE_MEMBERS: 'View the portal as a member (read-only, 15 minutes, audited).',
  MANAGE_PERSONAL_DATA: 'Export a person’s data, and erase a person, at their request (audited).',
  MANAGE_CONNECTED_SITES: 'Register the association’s sites that sign members in with their portal login.',
};

/** Every right the API has, with what it allows. */
export const RIGHTS = Right.map(([right, about]) => [right, RIGHT_HINTS[right] || about]);

function rightBoxes(prefix, granted) {
  return h('fieldset', { class: 'rights' }, h('legend', {}, 'Rights'),
    RIGHTS.map(([right, what]) => {
      const id = `${prefix}-${right.toLowerCase()}`;
      return h('div', { class: 'field check' },
        h('input', { type: 'checkbox', id, value: right, checked: granted.includes(right) }),
        h('label', { for: id }, words(right), h('span', { class: 'hint block' }, what)));
    }));
}

const checked = (box) => [...box.querySelectorAll('input:checked')].map((i) => i.value);

export async function render(view) {
  const list = h('div', { id: 'staff-list' });
  const add = h('button', { type: 'button', class: 'primary', id: 'new-staff' }, 'New staff user');
  add.addEventListener('click', () => create().then((made) => { if (made) load(); }));
  fill(view, h('div', { class: 'screen-head' }, h('h1', {}, 'Staff users'), add), list);

  async function load() {
    fill(list, loading());
    try {
      const data = await gql('StaffUsers');
      fill(list, h('div', { class: 'staff-cards' }, data.staffUsers.map(card)));
    } catch (err) {
      fill(list, alertBox(err));
    }
  }

  function card(user) {
    const prefix = `staff-${user.id}`;
    const boxes = rightBoxes(prefix, user.rights);
    const save = h('button', { type: 'button', class: 'primary', id: `${prefix}-save` }, 'Save rights');
    const status = h('div', { class: 'form-status' });
    save.addEventListener('click', () => busy(save, async () => {
      fill(status);
      try {
        await gql('SetStaffRights', { staffUserId: user.id, rights: checked(boxes) });
        fill(status, alertBox(`Rights saved for ${user.username}.`, 'ok'));
      } catch (err) {
        fill(status, alertBox(err));
      }
    }));
    const self = ctx.viewer && ctx.viewer.id === user.id;
    const toggle = h('button', { type: 'button', id: `${prefix}-active`, class: user.active ? 'danger' : '' }, user.active ? 'Deactivate' : 'Reactivate');
    toggle.addEventListener('click', async () => {
      if (user.active && !(await confirmDialog(`Deactivate ${user.username}`, h('p', {}, 'They are signed out at once and cannot sign in until reactivated.'), 'Deactivate', { danger: true }))) return;
      await busy(toggle, async () => {
        try {
          await gql(user.active ? 'DeactivateStaffUser' : 'ReactivateStaffUser', { staffUserId: user.id });
          notify(user.active ? `${user.username} is deactivated.` : `${user.username} is active again.`);
          load();
        } catch (err) {
          fill(status, alertBox(err));
        }
      });
    });
    const unlock = h('button', { type: 'button', id: `${prefix}-unlock` }, 'Unlock');
    unlock.addEventListener('click', () => busy(unlock, async () => {
      try {
        await gql('UnlockStaffUser', { staffUserId: user.id });
        fill(status, alertBox(`${user.username} can sign in again straight away.`, 'ok'));
      } catch (err) {
        fill(status, alertBox(err));
      }
    }));
    const emailInput = h('input', { id: `${prefix}-email`, type: 'email', autocomplete: 'off', value: user.email || '' });
    const emailField = field('Email for set-password links', emailInput, 'Only an administrator can change it. A link already sent stops working when it changes.');
    const saveEmail = h('button', { type: 'button', id: `${prefix}-save-email` }, 'Save email');
    saveEmail.addEventListener('click', () => busy(saveEmail, async () => {
      emailField.showError(null);
      fill(status);
      try {
        const data = await gql('SetStaffUserEmail', { staffUserId: user.id, email: emailInput.value.trim() || null });
        const saved = data.setStaffUserEmail.staffUser;
        notify(saved.email ? `Set-password links for ${user.username} go to ${saved.email}.` : `${user.username} has no email address now.`);
        load();
      } catch (err) {
        if (err.extensions.field === 'email') emailField.showError(err.message);
        fill(status, alertBox(err));
      }
    }));
    const sendLink = h('button', { type: 'button', id: `${prefix}-send-reset` }, 'Send set-password email');
    const sendReason = !user.email ? 'Record an email address first, then save it.'
      : !user.active ? 'Reactivate this user first.' : null;
    if (sendReason) {
      sendLink.disabled = true;
      sendLink.setAttribute('aria-describedby', `${prefix}-send-reason`);
    }
    sendLink.addEventListener('click', async () => {
      const minutes = ctx.settings ? ctx.settings.staffLinkMinutes : null;
      const lifetime = minutes ? ` It works once, for ${duration(minutes)}.` : ' It works once.';
      if (!(await confirmDialog(`Send ${user.username} a set-password email`, h('p', {},
        `A link to set a new password goes to ${user.email}.${lifetime} Using it signs ${user.username} out everywhere; their second factor is still asked.`), 'Send Email'))) return;
      await busy(sendLink, async () => {
        try {
          const data = await gql('SendStaffPasswordReset', { staffUserId: user.id });
          fill(status, alertBox(mailNote('A set-password email', data.sendStaffPasswordReset.sentTo, ctx.settings.mailIsSent), 'ok'));
        } catch (err) {
          fill(status, alertBox(err));
        }
      });
    });
    let resetFactor = null;
    if (user.secondFactorEnabled && !self) {
      resetFactor = h('button', { type: 'button', id: `${prefix}-reset-factor` }, 'Reset second factor');
      resetFactor.addEventListener('click', async () => {
        if (!(await confirmDialog(`Reset ${user.username}’s second factor`, h('p', {},
          'For a lost or replaced phone: they sign in with their password alone and set up the app again. Their recovery codes stop working.'), 'Reset'))) return;
        await busy(resetFactor, async () => {
          try {
            await gql('ResetStaffSecondFactor', { staffUserId: user.id });
            notify(`${user.username} signs in with the password alone until they set up a second factor again.`);
            load();
          } catch (err) {
            fill(status, alertBox(err));
          }
        });
      });
    }
    let endAll = null;
    if (!self && user.active) {
      endAll = h('button', { type: 'button', id: `${prefix}-end-sessions` }, 'Sign out everywhere');
      endAll.addEventListener('click', async () => {
        if (!(await confirmDialog(`Sign ${user.username} out everywhere`, h('p', {},
          'Every session they have ends now, on every computer. They can sign in again with their password.'), 'Sign out everywhere', { danger: true }))) return;
        await busy(endAll, async () => {
          try {
            const data = await gql('RevokeAllStaffSessions', { staffUserId: user.id });
            const n = data.revokeAllStaffSessions.revokedCount;
            fill(status, alertBox(`${n} session${n === 1 ? '' : 's'} of ${user.username} ended.`, 'ok'));
          } catch (err) {
            fill(status, alertBox(err));
          }
        });
      });
    }
    return h('section', { class: `card staff-card${user.active ? '' : ' inactive'}`, 'aria-labelledby': `${prefix}-name` },
      h('div', { class: 'card-head' },
        h('h2', { id: `${prefix}-name` }, user.username, self ? ' (you)' : ''),
        h('span', { class: `badge ${user.active ? 'status-sent' : 'status-cancelled'}` }, user.active ? 'Active' : 'Deactivated')),
      h('p', { class: 'hint' }, `Since ${when(user.createdAt)} · ${user.secondFactorEnabled ? 'second factor on' : 'password only'}`),
      h('div', { class: 'email-row' }, emailField, saveEmail),
      boxes,
      status,
      h('div', { class: 'actions' }, save, sendLink, unlock, resetFactor, endAll, toggle),
      sendReason ? h('p', { class: 'hint', id: `${prefix}-send-reason` }, `Set-password email: ${sendReason.toLowerCase()}`) : null);
  }

  await load();
}

function create() {
  return dialog('New staff user', (close) => {
    const username = h('input', { id: 'new-staff-username', autocomplete: 'off', autofocus: true });
    const email = h('input', { id: 'new-staff-email', type: 'email', autocomplete: 'off' });
    const password = h('input', { id: 'new-staff-password', type: 'text', autocomplete: 'off', value: strongPassword(20) });
    const boxes = rightBoxes('new-staff', []);
    const status = h('div', { class: 'form-status' });
    const userField = field('Username', username);
    const emailField = field('Email (optional)', email, 'Where a set-password email goes if they ever need one.');
    const passField = field('First password', password, 'Give it to them in person; they can change it under their name at the top.');
    const submit = h('button', { type: 'submit', class: 'primary', id: 'create-staff' }, 'Create');
    const form = h('form', { novalidate: true }, userField, emailField, passField, boxes, status,
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => close(false) }, 'Cancel')));
    handleSubmit(form, submit, {
      fields: { username: userField, email: emailField, password: passField },
      codes: { WEAK_PASSWORD: 'password', USERNAME_TAKEN: 'username' },
      status,
      submit: async () => {
        await gql('CreateStaffUser', { input: { username: username.value.trim(), email: email.value.trim() || null, password: password.value, rights: checked(boxes) } });
        notify(`Created ${username.value.trim()}.`);
        close(true);
      },
    });
    return form;
  }, { wide: true });
}
