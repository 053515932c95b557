// Create Portal Logins: every profile a filter selects that has no credentials gets a
// username made from its name. A look first (the dry run) shows what would happen; then the
// run; then the Portal Login Credentials Link campaign to the same people, as a draft.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { alertBox, busy, confirmDialog, fill, h, labelCells, notify } from './ui.js';
import { filterFields } from './filter.js';

const LETTER = '<p>Dear {{first_name}},</p>\n<p>You now have a login for our Members Only portal. Use the link below to choose your password:</p>\n<p>{{portal_login_credentials_link}}</p>';

export async function render(view) {
  const filter = filterFields(null, { status: '' });
  const look = h('button', { type: 'button', class: 'primary', id: 'logins-look' }, 'Look first');
  const result = h('div', { id: 'logins-result', 'aria-live': 'polite' });
  // The filter the last look was for: the run uses exactly that one.
  let looked = null;

  // A changed filter voids the look at once (not debounced: a look answered meanwhile would
  // otherwise be wiped a moment later).
  for (const el of filter.controls) {
    el.addEventListener(el.type === 'search' ? 'input' : 'change', () => { looked = null; fill(result); });
  }
  look.addEventListener('click', () => busy(look, async () => {
    const value = filter.value();
    try {
      const data = await gql('CreatePortalLogins', { input: { filter: value, dryRun: true } });
      looked = value;
      show(data.createPortalLogins);
    } catch (err) {
      fill(result, alertBox(err));
    }
  }));

  function examples(outcome) {
    if (!outcome.examples.length) return null;
    const more = outcome.created - outcome.examples.length;
    return [
      h('div', { class: 'table-wrap' }, labelCells(h('table', { id: 'logins-examples', class: 'stack' },
        h('caption', { class: 'sr-only' }, 'Usernames'),
        h('thead', {}, h('tr', {}, ['Profile', 'Username'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, outcome.examples.map((e) => h('tr', {},
          h('td', {}, h('a', { href: `#/profiles/${encodeURIComponent(e.profile.id)}/portal` }, e.profile.displayName)),
          h('td', { class: 'mono' }, e.username))))))),
      more > 0 ? h('p', { class: 'hint' }, `And ${more} more.`) : null,
    ];
  }

  function show(outcome) {
    const n = outcome.created;
    const kept = `${outcome.skipped} already ${outcome.skipped === 1 ? 'has' : 'have'} a username or password and ${outcome.skipped === 1 ? 'is' : 'are'} left as ${outcome.skipped === 1 ? 'it is' : 'they are'}.`;
    if (outcome.dryRun) {
      const run = h('button', { type: 'button', class: 'primary', id: 'logins-run', disabled: n === 0 }, `Create ${n} portal login${n === 1 ? '' : 's'}`);
      run.addEventListener('click', () => create(run, n));
      fill(result, h('section', { class: 'card' },
        h('h2', {}, 'What would happen'),
        h('p', { id: 'logins-summary' }, `${n} profile${n === 1 ? '' : 's'} would get a username and no password. ${kept}`),
        examples(outcome),
        h('div', { class: 'actions' }, run)));
      return;
    }
    const send = ctx.has('SEND_MASS_COMMUNICATIONS')
      ? h('button', { type: 'button', class: 'primary', id: 'logins-campaign' }, 'Send them the Portal Login Credentials Link')
      : null;
    if (send) send.addEventListener('click', () => campaign(send));
    fill(result, h('section', { class: 'card' },
      h('h2', {}, 'Done'),
      h('p', { id: 'logins-summary', role: 'status' }, `${n} profile${n === 1 ? '' : 's'} got a username. ${kept}`),
      examples(outcome),
      h('p', { class: 'hint' }, 'Each member chooses a password with their own link. The draft goes to everyone this filter selects who has no password yet; review it before sending.'),
      send ? h('div', { class: 'actions' }, send) : h('p', { class: 'hint' }, 'Sending the link needs the Send mass communications right.')));
  }

  async function create(button, n) {
    const ok = await confirmDialog('Create Portal Logins', h('p', {},
      `${n} profile${n === 1 ? '' : 's'} get${n === 1 ? 's' : ''} a username made from the name, and no password. Each is recorded in the profile's audit trail.`), 'Create');
    if (!ok) return;
    await busy(button, async () => {
      try {
        const data = await gql('CreatePortalLogins', { input: { filter: looked, dryRun: false } });
        const outcome = data.createPortalLogins;
        notify(`Created ${outcome.created} portal login${outcome.created === 1 ? '' : 's'}.`);
        show(outcome);
      } catch (err) {
        fill(result, alertBox(err));
      }
    });
  }

  async function campaign(button) {
    await busy(button, async () => {
      try {
        const input = {
          subject: 'Your login for the Members Only portal',
          html: LETTER,
          recipients: { filter: { ...looked, hasPassword: false } },
        };
        const data = await gql('CreateMassCommunication', { input });
        notify('Draft saved.', 'ok', { carry: true });
        location.hash = `#/mass/${encodeURIComponent(data.createMassCommunication.massCommunication.id)}`;
      } catch (err) {
        notify(err, 'error');
      }
    });
  }

  fill(view,
    h('h1', {}, 'Create Portal Logins'),
    h('p', { class: 'lead' }, 'Give every profile without credentials a username made from its name (maria.jensen, a number added when taken). Members then set their password with the Portal Login Credentials Link.'),
    h('section', { class: 'card' }, h('h2', {}, 'Which profiles'), filter.element, h('div', { class: 'actions' }, look)),
    result);
}
