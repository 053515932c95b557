// Connected sites (MANAGE_CONNECTED_SITES): the association's website, forum or course
// platform signing members in with their portal login through memberkey (OpenID Connect).
// The screen gives what a site's plugin asks for: the discovery URL, the client ID and,
// once, the client secret.

import { gql } from './api.js';
import { STATUSES } from './search.js';
import { alertBox, busy, confirmDialog, field, fill, h, handleSubmit, loading, notify, when, words } from './ui.js';

/** A read-only value with a Copy button; the text is selected on focus for copying by hand. */
function copyable(label, value, id) {
  const input = h('input', { id, readOnly: true, value, class: 'copy-value', onfocus: (e) => e.target.select() });
  const copy = h('button', { type: 'button', 'aria-label': `Copy the ${label.toLowerCase()}` }, 'Copy');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
      copy.textContent = 'Copied';
    } catch {
      // No clipboard outside a secure context: the text is selected, Ctrl+C copies it.
      copy.textContent = 'Selected: press Ctrl+C';
    }
  });
  const wrap = field(label, input);
  wrap.append(copy);
  wrap.classList.add('copy-field');
  return wrap;
}

function statusLabel(value) {
  const known = STATUSES.find(([s]) => s === value);
  return known ? known[1] : words(value);
}

function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The client ID and secret of a site just made or given a new secret. */
function secretCard(site, secret) {
  return h('section', { class: 'card', id: 'site-secret', role: 'status' },
    h('h2', {}, `${site.name}: enter these in the site's settings`),
    copyable('Discovery URL', site.discoveryUrl, 'site-discovery'),
    copyable('Client ID', site.clientId, 'site-client-id'),
    secret
      ? [copyable('Client secret', secret, 'site-secret-value'),
        h('p', { class: 'hint' }, 'The secret is shown only now: memberkey keeps only a digest of it. If it is lost, give the site a new secret.')]
      : h('p', { class: 'hint' }, 'A public site has no secret: it proves itself with PKCE (S256), which its library must use.'));
}

export async function render(view) {
  const list = h('div', { id: 'sites-list' }, loading());
  const shown = h('div', { id: 'sites-shown', 'aria-live': 'polite' });

  const name = field('Site name', h('input', { maxlength: 100, required: true }), 'Members see it when they sign in: "to continue to …".');
  const redirects = field('Sign-in return addresses', h('textarea', { rows: 2, required: true, class: 'short' }),
    'The redirect URI (or callback URL) the site\'s plugin shows, one per line, exactly as written there. https only.');
  const logouts = field('Sign-out return addresses', h('textarea', { rows: 2, class: 'short' }), 'Optional: where the site may send members after signing out, one per line.');
  const publicBox = h('input', { type: 'checkbox', id: 'site-public' });
  const statusBoxes = STATUSES.map(([s, label]) => h('input', { type: 'checkbox', value: s, id: `site-status-${s}`, dataset: { label } }));
  const create = h('button', { type: 'submit', class: 'primary' }, 'Register site');
  const form = h('form', { class: 'card', id: 'site-form' },
    h('h2', {}, 'Register a site'),
    name, redirects, logouts,
    h('fieldset', {},
      h('legend', {}, 'Who may sign in to it'),
      h('p', { class: 'hint' }, 'Leave every box empty to admit every member who may sign in to the portal.'),
      statusBoxes.map((box) => h('div', { class: 'field check' }, box, h('label', { for: box.id }, box.dataset.label)))),
    h('div', { class: 'field check' }, publicBox, h('label', { for: publicBox.id }, 'Public app (runs in the browser or on a phone; no secret)')),
    h('div', { class: 'actions' }, create));
  // After `busy` has given the focus back to its button: show the card and put the focus on
  // its first value, so keyboard and screen-reader users land on what to copy.
  function reveal() {
    shown.scrollIntoView({ block: 'start' });
    const first = shown.querySelector('input');
    if (first) first.focus({ preventScroll: true });
  }

  handleSubmit(form, create, {
    fields: { name, redirectUris: redirects, postLogoutRedirectUris: logouts },
    status: shown,
    submit: async () => {
      const allowed = statusBoxes.filter((b) => b.checked).map((b) => b.value);
      const input = {
        name: name.control.value,
        redirectUris: lines(redirects.control.value),
        postLogoutRedirectUris: lines(logouts.control.value),
        confidential: !publicBox.checked,
        allowedMemberStatuses: allowed.length ? allowed : null,
      };
      const data = await gql('CreateOidcClient', { input });
      const made = data.createOidcClient;
      fill(shown, secretCard(made.client, made.clientSecret));
      form.reset();
      notify(`Registered ${made.client.name}.`);
      await refresh();
    },
    after: reveal,
  });

  async function newSecret(button, site) {
    const ok = await confirmDialog(`New secret for ${site.name}`, h('p', {},
      'The old secret stops working at once: the site cannot sign anyone in until its settings have the new one.'), 'Give a new secret', { danger: true });
    if (!ok) return;
    const given = await busy(button, async () => {
      try {
        const data = await gql('RotateOidcClientSecret', { clientId: site.clientId });
        fill(shown, secretCard(data.rotateOidcClientSecret.client, data.rotateOidcClientSecret.clientSecret));
        return true;
      } catch (err) {
        notify(err, 'error');
        return false;
      }
    });
    if (given) reveal();
  }

  async function remove(button, site) {
    const ok = await confirmDialog(`Remove ${site.name}?`, h('p', {},
      'Members can no longer sign in to it with their portal login, and it is signed out of every member at once.'), 'Remove site', { danger: true });
    if (!ok) return;
    await busy(button, async () => {
      try {
        await gql('DeleteOidcClient', { clientId: site.clientId });
        notify(`Removed ${site.name}.`);
        fill(shown);
        await refresh();
      } catch (err) {
        notify(err, 'error');
      }
    });
  }

  async function refresh() {
    try {
      const { oidcClients: sites } = await gql('OidcClients');
      if (!sites.length) {
        fill(list, h('p', { class: 'hint' }, 'No site is connected yet. Register one below, then enter its client ID and secret in the site\'s OpenID Connect plugin.'));
        return;
      }
      fill(list, h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'sites-table' },
        h('thead', {}, h('tr', {}, ['Site', 'Client ID', 'Kind', 'Who may sign in', 'Return addresses', 'Registered', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, sites.map((s) => h('tr', {},
          h('td', { 'data-label': 'Site' }, s.name),
          h('td', { 'data-label': 'Client ID' }, h('code', {}, s.clientId)),
          h('td', { 'data-label': 'Kind' }, s.confidential ? 'Server (with secret)' : 'Public app (PKCE)'),
          h('td', { 'data-label': 'Who may sign in' }, s.allowedMemberStatuses ? s.allowedMemberStatuses.map(statusLabel).join(', ') : 'Every member who may sign in'),
          h('td', { 'data-label': 'Return addresses' }, s.redirectUris.map((u) => h('div', {}, u))),
          h('td', { 'data-label': 'Registered' }, when(s.createdAt)),
          h('td', {}, h('div', { class: 'actions' },
            s.confidential ? h('button', { type: 'button', onclick: (e) => newSecret(e.currentTarget, s) }, 'New secret') : null,
            h('button', { type: 'button', class: 'danger', onclick: (e) => remove(e.currentTarget, s) }, 'Remove')))))))),
      copyable('Discovery URL', sites[0].discoveryUrl, 'sites-discovery'));
    } catch (err) {
      fill(list, alertBox(err));
    }
  }

  fill(view,
    h('h1', {}, 'Connected sites'),
    h('p', { class: 'lead' }, 'The association\'s other sites (website, forum, courses) sign members in with their portal login. Each site\'s OpenID Connect plugin needs the discovery URL, a client ID and, for a site with a server, a client secret.'),
    shown, list, form);
  await refresh();
}
