// The profile's Web > Portal tab: username and password (blank after Save), the credential's
// state, Show password for staff with the right, Send Password Reset Email, a link for the
// phone, and removing the credentials.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { FormProblem, alertBox, busy, confirmDialog, dialog, duration, field, fill, h, handleSubmit, mailNote, notify, strongPassword, when } from './ui.js';

/**
 * The username and password form. The password is hashed at once and the field is blank
 * after Save. `saved(credential)` runs with the credential as it now stands.
 */
function credentialsForm(profile, credential, canManage, saved) {
  const username = h('input', { id: 'portal-username', autocomplete: 'off', spellcheck: false, value: (credential && credential.username) || '', disabled: !canManage });
  const password = h('input', { id: 'portal-password', type: 'password', autocomplete: 'new-password', value: '', disabled: !canManage });
  const shownOnce = h('p', { class: 'alert alert-info', id: 'generated-note', hidden: true, role: 'status' });
  const generate = h('button', { type: 'button', id: 'generate-password', disabled: !canManage }, 'Generate a strong password');
  const mustChange = h('input', { type: 'checkbox', id: 'portal-must-change', checked: true, disabled: !canManage });
  const usernameField = field('Username', username, 'Letters, digits and . _ - (3 to 64). Members can also sign in with their email.');
  const passwordField = field('Password', password, `Leave blank to keep the current password. At least ${ctx.policy.minLength} characters.`);
  const formStatus = h('div', { class: 'form-status', id: 'portal-status' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-credentials', disabled: !canManage }, 'Save');
  let current = credential;

  generate.addEventListener('click', () => {
    const value = strongPassword(Math.max(16, ctx.policy.minLength));
    password.type = 'text';
    password.value = value;
    mustChange.checked = true;
    fill(shownOnce, 'Generated. Give it to the member now: after Save it is stored hashed and this field is blank.');
    shownOnce.hidden = false;
    password.focus();
    password.select();
  });
  password.addEventListener('input', () => {
    if (password.type === 'text' && !shownOnce.hidden) {
      password.type = 'password';
      shownOnce.hidden = true;
    }
  });

  const form = h('form', { class: 'card', id: 'credentials-form', novalidate: true },
    h('h2', {}, 'Portal credentials'),
    canManage ? null : h('p', { class: 'alert alert-info' }, 'Changing credentials needs the Manage portal credentials right.'),
    usernameField,
    passwordField,
    h('div', { class: 'inline-actions' }, generate),
    shownOnce,
    h('div', { class: 'field check' }, mustChange, h('label', { for: mustChange.id }, 'Must change the password at first sign-in')),
    formStatus,
    h('div', { class: 'actions' }, save));

  handleSubmit(form, save, {
    fields: { username: usernameField, password: passwordField },
    codes: { USERNAME_TAKEN: 'username', WEAK_PASSWORD: 'password' },
    status: formStatus,
    submit: async () => {
      const input = { profileId: profile.id, mustChangePassword: mustChange.checked };
      const name = username.value.trim();
      if (name !== ((current && current.username) || '')) input.username = name || null;
      if (password.value) input.password = password.value;
      if (!('username' in input) && !('password' in input) && current && current.mustChangePassword === mustChange.checked) {
        throw new FormProblem('Nothing to save: change the username or type a password.');
      }
      const data = await gql('SetPortalCredentials', { input });
      current = data.setPortalCredentials.credential;
      // The password is hashed now; the field never shows it again.
      password.value = '';
      password.type = 'password';
      shownOnce.hidden = true;
      username.value = current.username || '';
      const revealable = ctx.has('VIEW_PORTAL_PASSWORDS') && current.passwordIsSet && current.passwordSetBy === 'STAFF';
      fill(formStatus, alertBox(!input.password ? 'Saved.'
        : revealable ? 'Saved. The password is stored hashed; Show password below reveals it to you again, and each reveal is recorded.'
          : 'Saved. The password is stored hashed and is not shown again.', 'ok'));
      saved(current);
    },
  });
  return {
    form,
    /** After a change elsewhere on the tab (removed, locked, switched): what the form shows. */
    show(c) {
      current = c;
      if (!c) username.value = '';
      mustChange.checked = c ? c.mustChangePassword || !c.passwordIsSet : true;
    },
  };
}

/** "Show password" and where it shows, for a staff-assigned password still in force. */
function revealControls(profile) {
  const revealed = h('output', { id: 'revealed-password', class: 'secret', hidden: true });
  const button = h('button', { type: 'button', id: 'show-password', class: 'small' }, 'Show password');
  button.addEventListener('click', () => busy(button, async () => {
    if (!revealed.hidden) {
      revealed.hidden = true;
      revealed.textContent = '';
      return;
    }
    try {
      const data = await gql('RevealPassword', { id: profile.id });
      const value = data.profile.portalCredential && data.profile.portalCredential.password;
      revealed.textContent = value || 'No staff-assigned password is in force any more.';
      revealed.hidden = false;
    } catch (err) {
      notify(err, 'error');
    }
  }).then(() => { button.textContent = revealed.hidden ? 'Show password' : 'Hide password'; }));
  return [' ', button, ' ', revealed, h('span', { class: 'hint block' }, 'Each reveal is recorded in the audit log.')];
}

/**
 * The credential's state, with Unlock and Switch off or on for those who may. `act(button,
 * op, variables, key, done)` runs one of those changes.
 */
function factsOf(profile, c, canManage, act) {
  if (!c) return h('p', { class: 'hint' }, 'This profile has no portal credentials yet. Set a username and password above, or send a link.');
  const setBy = { STAFF: 'Set by staff', MEMBER: 'Chosen by the member', IMPORTED: 'Imported' }[c.passwordSetBy] || 'Set';
  const locked = c.lockedUntil && new Date(c.lockedUntil) > new Date();
  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  const reveal = ctx.has('VIEW_PORTAL_PASSWORDS') && c.passwordIsSet && c.passwordSetBy === 'STAFF';
  // "By whom" comes from the audit log, for those who may read it: "Set by staff" becomes
  // "Set by boss".
  const setByEl = h('span', { id: 'set-by' }, setBy);
  if (c.passwordIsSet && c.passwordSetBy === 'STAFF' && ctx.has('VIEW_AUDIT_LOG')) {
    gql('LastCredentialChange', { profileId: profile.id }).then((data) => {
      const last = data.auditEvents.edges[0];
      if (last && last.node.actorUsername) setByEl.textContent = `Set by ${last.node.actorUsername}`;
    }).catch(() => {});
  }
  return h('dl', { class: 'facts' },
    row('Username', c.username || '— (the member signs in with their email)'),
    row('Password', c.passwordIsSet ? [setByEl, `, ${when(c.passwordChangedAt)}`] : 'Not set yet', reveal ? revealControls(profile) : null),
    row('Must change at sign-in', c.mustChangePassword ? 'Yes' : 'No'),
    row('Last sign-in', c.lastLoginAt ? when(c.lastLoginAt) : 'Never'),
    row('Failed sign-ins', String(c.failedLoginCount)),
    row('Lock', locked ? h('span', { class: 'bad', id: 'lock-state' }, `Locked until ${when(c.lockedUntil)}`) : h('span', { id: 'lock-state' }, 'Not locked'),
      locked && canManage ? [' ', h('button', { type: 'button', class: 'small', id: 'unlock', onclick: (e) => act(e.target, 'UnlockPortalCredentials', { profileId: profile.id }, 'unlockPortalCredentials', 'Unlocked.') }, 'Unlock')] : null),
    row('Sign-in', c.enabled ? 'Switched on' : h('span', { class: 'bad' }, `Switched off ${when(c.disabledAt)}`),
      canManage ? [' ', h('button', {
        type: 'button', class: 'small', id: 'toggle-enabled',
        onclick: (e) => act(e.target, 'SetPortalCredentialsEnabled', { profileId: profile.id, enabled: !c.enabled }, 'setPortalCredentialsEnabled', c.enabled ? 'Switched off: the member cannot sign in.' : 'Switched on.'),
      }, c.enabled ? 'Switch off' : 'Switch on')] : null));
}

/** What staff do to help a member sign in; `removed()` runs once the credentials are gone. */
function helpActions(profile, credential, canManage, removed) {
  const canSend = ctx.has('SEND_PASSWORD_RESETS');
  const reason = !canSend ? 'Needs the Send password resets right.' : !profile.email ? 'This profile has no email address. Add one on the Details tab, or use a link for the phone.' : null;
  const send = h('button', { type: 'button', id: 'send-reset', disabled: Boolean(reason), 'aria-describedby': 'send-reset-why' }, 'Send Password Reset Email');
  send.addEventListener('click', () => sendReset(send, profile, credential));
  const phone = h('button', { type: 'button', id: 'phone-link', disabled: !canSend }, 'Link for the phone');
  phone.addEventListener('click', () => phoneLink(phone, profile));
  const view = ctx.has('IMPERSONATE_MEMBERS') ? h('button', { type: 'button', id: 'view-portal' }, "View Profile's Portal") : null;
  if (view) view.addEventListener('click', () => viewPortal(view, profile));
  const remove = credential && canManage ? h('button', { type: 'button', class: 'danger', id: 'remove-credentials' }, 'Remove credentials') : null;
  if (remove) remove.addEventListener('click', () => removeCredentials(remove, profile, removed));
  return [
    h('h2', {}, 'Help the member sign in'),
    h('div', { class: 'inline-actions' }, send, phone, view),
    h('p', { class: 'hint', id: 'send-reset-why' }, reason || `Sends the standard Forgot Login email to ${profile.email}.`),
    view ? h('p', { class: 'hint' }, "View Profile's Portal opens the member's account page in a new tab, read-only, for 15 minutes. The member sees that you looked.") : null,
    remove ? h('div', { class: 'inline-actions danger-zone' }, remove) : null,
  ];
}

async function sendReset(button, profile, credential) {
  const login = (credential && credential.username) || profile.email;
  const ok = await confirmDialog('Send Password Reset Email', h('div', {},
    h('p', {}, 'The standard Forgot Login email goes to:'),
    h('p', { class: 'big', id: 'reset-address' }, profile.email),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Their login'), h('dd', {}, login),
      h('dt', {}, 'The link works for'), h('dd', {}, duration(ctx.settings.staffLinkMinutes))),
    h('p', { class: 'hint' }, 'Earlier links stop working. The email cannot be edited.')), 'Send Email');
  if (!ok) return;
  await busy(button, async () => {
    try {
      const data = await gql('SendPasswordResetEmail', { profileId: profile.id });
      notify(mailNote('The email', data.sendPasswordResetEmail.sentTo, ctx.settings.mailIsSent));
    } catch (err) {
      notify(err, 'error');
    }
  });
}

async function phoneLink(button, profile) {
  // A new link retires the earlier ones, an emailed one too: ask before that happens.
  const ok = await confirmDialog('Link for the phone', h('div', {},
    h('p', {}, 'This makes a one-time link (and a code to read out) to give the member yourself.'),
    h('p', { class: 'hint' }, 'Earlier links stop working, including one already emailed to the member.')), 'Make the link');
  if (!ok) return;
  let data;
  try {
    data = await busy(button, () => gql('IssueCredentialsLink', { profileId: profile.id }));
  } catch (err) {
    notify(err, 'error');
    return;
  }
  const link = data.issueCredentialsLink;
  await dialog('Link for the phone', (close) => {
    const url = h('input', { id: 'phone-link-url', readonly: true, value: link.url, class: 'mono' });
    const copy = h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await navigator.clipboard.writeText(link.url);
        copy.textContent = 'Copied';
      } catch {
        url.select();
        copy.textContent = 'Press Ctrl+C to copy';
      }
    } }, 'Copy link');
    const qr = h('img', {
      id: 'phone-link-qr', class: 'qr', width: 200, height: 200,
      alt: 'QR code of the link, for the member to scan with their phone',
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qrSvg)}`,
    });
    const page = link.url.split('#')[0];
    return h('div', {},
      h('p', {}, 'Give this one-time link to the member, e.g. by text message, or let them scan the code. Earlier links stop working.'),
      h('div', { class: 'qr-wrap' }, qr),
      field('Link', url, `Works once, until ${when(link.expiresAt)}.`),
      h('div', { class: 'short-code-box' },
        h('p', {}, 'On the phone? Read out this code instead. The member opens ', h('span', { class: 'mono' }, page),
          ' (“I have a code”) and enters it with their login:'),
        h('p', { class: 'short-code', id: 'phone-short-code' }, link.shortCode),
        h('p', { class: 'hint' }, `The code works once, until ${when(link.shortCodeExpiresAt)}, and dies with the link.`)),
      h('div', { class: 'actions' }, copy, h('button', { type: 'button', onclick: () => close() }, 'Done')));
  }, { wide: true });
}

// The member pages keep their session in a cookie, so the view's token is posted to them
// in a new tab rather than put in its address (where history and logs would keep it).
async function viewPortal(button, profile) {
  let data;
  try {
    data = await busy(button, () => gql('StartPortalImpersonation', { profileId: profile.id }));
  } catch (err) {
    notify(err, 'error');
    return;
  }
  const form = h('form', { method: 'post', action: '/portal/view-as', target: '_blank', hidden: true },
    h('input', { type: 'hidden', name: 'token', value: data.startPortalImpersonation.impersonation.token }));
  document.body.append(form);
  form.submit();
  form.remove();
  notify(`The portal opened in a new tab, as the member sees it, until ${when(data.startPortalImpersonation.impersonation.expiresAt)}.`);
}

async function removeCredentials(button, profile, removed) {
  const ok = await confirmDialog('Remove credentials', h('p', {},
    'The username and password are deleted and the member is signed out everywhere. They can get new ones by link later.'), 'Remove', { danger: true });
  if (!ok) return;
  await busy(button, async () => {
    try {
      await gql('RemovePortalCredentials', { profileId: profile.id });
      notify('The credentials are removed.');
      removed();
    } catch (err) {
      notify(err, 'error');
    }
  });
}

export function renderPortal(body, profile) {
  let credential = profile.portalCredential;
  const canManage = ctx.has('MANAGE_PORTAL_CREDENTIALS');
  const facts = h('div', { id: 'credential-facts' });
  const actions = h('div', { class: 'card', id: 'portal-actions' });
  const form = credentialsForm(profile, credential, canManage, (saved) => { credential = saved; redraw(); });

  function redraw() {
    form.show(credential);
    fill(facts, factsOf(profile, credential, canManage, act));
    fill(actions, helpActions(profile, credential, canManage, () => { credential = null; redraw(); }));
  }

  async function act(button, op, variables, key, done) {
    await busy(button, async () => {
      try {
        const data = await gql(op, variables);
        credential = data[key].credential;
        notify(done);
        redraw();
      } catch (err) {
        notify(err, 'error');
      }
    });
  }

  fill(body, form.form, h('section', { class: 'card' }, h('h2', {}, 'State'), facts), actions);
  redraw();
}
