// A staff user opened the set-password link an administrator emailed them
// (`/staff/#set-password=<token>`): a new password twice, then sign-in with it.

import { ApiError, gql } from './api.js';
import { ctx } from './ctx.js';
import { FormProblem, alertBox, field, fill, h, handleSubmit } from './ui.js';

const PREFIX = '#set-password=';

/**
 * The token of a set-password link in the address, or null. It is taken out of the address
 * and the history at once, so it is not left in the browser for the next person.
 */
export function takeToken() {
  if (!location.hash.startsWith(PREFIX)) return null;
  const value = decodeURIComponent(location.hash.slice(PREFIX.length));
  history.replaceState(null, '', '#/search');
  return value || null;
}

/**
 * The form. `onDone(username)` runs once the password is set, and `onDone(null)` when the
 * person leaves a link that no longer works for the sign-in form.
 */
export function render(view, tokenValue, onDone) {
  const next = h('input', { type: 'password', id: 'link-new-password', autocomplete: 'new-password', autofocus: true });
  const again = h('input', { type: 'password', id: 'link-confirm-password', autocomplete: 'new-password' });
  const fields = {
    newPassword: field('New password', next, `At least ${ctx.policy.minLength} characters. Not your username or the association's name.`),
    confirm: field('New password again', again),
  };
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'link-set-password' }, 'Set password');
  const form = h('form', { novalidate: true, id: 'link-form' }, fields.newPassword, fields.confirm, status,
    h('div', { class: 'actions' }, submit));
  // A used or expired link: nothing this form can do, so say so and what to do next.
  const linkGone = (err) => {
    form.hidden = true;
    const why = err.code === 'TOKEN_EXPIRED' ? 'This link has expired.' : 'This link was already used or replaced by a newer one.';
    const leave = h('button', { type: 'button', id: 'link-to-sign-in', onclick: () => onDone(null) }, 'Go to sign-in');
    view.querySelector('section').append(
      alertBox(new ApiError(`${why} Ask an administrator to send you a new set-password email.`, { code: err.code })),
      h('div', { class: 'actions' }, leave));
    leave.focus();
  };
  handleSubmit(form, submit, {
    fields,
    codes: { WEAK_PASSWORD: 'newPassword' },
    status,
    submit: async () => {
      if (!next.value) throw new FormProblem('Enter a new password.', 'newPassword');
      if (next.value !== again.value) throw new FormProblem('The two passwords differ.', 'confirm');
      let data;
      try {
        data = await gql('SetStaffPasswordWithToken', { token: tokenValue, newPassword: next.value }, { retried: true });
      } catch (err) {
        if (err.code !== 'INVALID_TOKEN' && err.code !== 'TOKEN_EXPIRED') throw err;
        linkGone(err);
        return;
      }
      next.value = '';
      again.value = '';
      onDone(data.setStaffPasswordWithToken.username);
    },
  });
  fill(view, h('section', { class: 'card narrow' },
    h('h1', {}, 'Set your password'),
    h('p', { class: 'hint' }, `Choose a new password for the ${ctx.settings.associationName} staff console. Every session of yours ends when it is set.`),
    form));
  next.focus();
}
