// The signed-in staff user's own account: their rights, and changing their password.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { alertBox, busy, field, fill, h, words } from './ui.js';

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
  const form = h('form', { class: 'card', novalidate: true }, h('h2', {}, 'Change your password'),
    fields.currentPassword, fields.newPassword, fields.confirm, status, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(fields).forEach((f) => f.showError(null));
    fill(status);
    if (next.value !== again.value) {
      fields.confirm.showError('The two new passwords differ.');
      again.focus();
      return;
    }
    await busy(submit, async () => {
      try {
        await gql('ChangeStaffPassword', { currentPassword: current.value, newPassword: next.value });
        for (const i of [current, next, again]) i.value = '';
        fill(status, alertBox('Your password is changed. Your other sessions have ended.', 'ok'));
      } catch (err) {
        const target = fields[err.extensions.field] || (err.code === 'WEAK_PASSWORD' ? fields.newPassword : err.code === 'INVALID_LOGIN' ? fields.currentPassword : null);
        if (target) target.showError(err.message);
        fill(status, alertBox(err));
      }
    });
  });
  fill(view, h('h1', {}, 'Your account'),
    h('section', { class: 'card' }, h('h2', {}, ctx.viewer.username),
      h('p', {}, 'Your rights: ', ctx.viewer.rights.length ? ctx.viewer.rights.map(words).join(', ') : 'none yet. Ask a staff user with Manage staff.')),
    form);
}
