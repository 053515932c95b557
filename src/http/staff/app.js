// The staff console: sign-in, the navigation the staff user's rights allow, and a hash
// router that hands each screen its part of the page.

import { ApiError, announceSignOut, borrowToken, gql, loadOperations, onSessionEnded, onSignedOutElsewhere, onStepUpNeeded, setToken, token } from './api.js';
import { FormProblem, alertBox, clearNotices, dialog, fill, field, h, handleSubmit, setTimeZone, words } from './ui.js';
import { ctx } from './ctx.js';
import * as search from './search.js';
import * as profile from './profile.js';
import * as mass from './mass.js';
import * as communication from './communication.js';
import * as staff from './staff.js';
import * as audit from './audit.js';
import * as account from './account.js';
import * as link from './link.js';
import * as logins from './logins.js';
import * as sites from './sites.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');


// Each route: a pattern on the hash, the screen, and the right it needs (if any).
const ROUTES = [
  [/^#\/profiles\/new(\?.*)?$/, (m, v) => profile.renderNew(v), 'MANAGE_PROFILES'],
  [/^#\/profiles\/([^/?]+)(?:\/(portal|audit))?$/, (m, v) => profile.render(v, decodeURIComponent(m[1]), m[2] || 'details')],
  [/^#\/mass\/new$/, (m, v) => mass.renderCompose(v, null), 'SEND_MASS_COMMUNICATIONS'],
  [/^#\/mass\/([^/]+)\/edit$/, (m, v) => mass.renderCompose(v, decodeURIComponent(m[1])), 'SEND_MASS_COMMUNICATIONS'],
  [/^#\/mass\/([^/]+)$/, (m, v) => communication.renderOne(v, decodeURIComponent(m[1])), 'SEND_MASS_COMMUNICATIONS'],
  [/^#\/mass$/, (m, v) => mass.renderList(v), 'SEND_MASS_COMMUNICATIONS'],
  [/^#\/portal-logins$/, (m, v) => logins.render(v), 'MANAGE_PORTAL_CREDENTIALS'],
  [/^#\/sites$/, (m, v) => sites.render(v), 'MANAGE_CONNECTED_SITES'],
  [/^#\/staff$/, (m, v) => staff.render(v), 'MANAGE_STAFF'],
  [/^#\/audit$/, (m, v) => audit.render(v), 'VIEW_AUDIT_LOG'],
  [/^#\/account$/, (m, v) => account.render(v)],
  [/^(#\/?|#\/search.*|)$/, (m, v) => search.render(v)],
];

const NAV = [
  ['#/search', 'Quick Search', null],
  ['#/mass', 'Mass Communicator', 'SEND_MASS_COMMUNICATIONS'],
  ['#/portal-logins', 'Create Portal Logins', 'MANAGE_PORTAL_CREDENTIALS'],
  ['#/sites', 'Connected sites', 'MANAGE_CONNECTED_SITES'],
  ['#/staff', 'Staff users', 'MANAGE_STAFF'],
  ['#/audit', 'Audit log', 'VIEW_AUDIT_LOG'],
];

let cleanup = null;

/** Shows the screen for the current address. */
async function route() {
  if (cleanup) cleanup();
  cleanup = null;
  clearNotices();
  if (!ctx.viewer) return;
  const hash = location.hash;
  for (const [pattern, screen, right] of ROUTES) {
    const m = hash.match(pattern);
    if (!m) continue;
    markNav(hash);
    if (right && !ctx.has(right)) {
      fill(main, h('h1', {}, 'Not available'), alertBox(new ApiError(`This screen needs the ${words(right)} right.`, { code: 'FORBIDDEN' })));
      return;
    }
    const view = h('div', { class: 'screen' });
    fill(main, view);
    try {
      cleanup = (await screen(m, view)) || null;
    } catch (err) {
      if (err.code === 'SECOND_FACTOR_SETUP_REQUIRED' && hash !== '#/account') {
        ctx.setupRequired = true;
        location.hash = '#/account';
        return;
      }
      fill(view, alertBox(err));
    }
    return;
  }
  fill(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/search' }, 'Go to Quick Search')));
}

function markNav(hash) {
  for (const a of nav.querySelectorAll('a')) {
    const current = hash.startsWith(a.getAttribute('href')) || (a.getAttribute('href') === '#/search' && /^#\/(search|profiles)|^#?\/?$/.test(hash));
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showChrome() {
  fill(nav, NAV.filter(([, , right]) => !right || ctx.has(right)).map(([href, label]) => h('a', { href }, label)));
  nav.hidden = false;
  fill(who,
    h('a', { href: '#/account', class: 'who-name', title: 'Your account' }, ctx.viewer.username),
    h('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'));
  who.hidden = false;
}

function hideChrome() {
  nav.hidden = true;
  who.hidden = true;
  // Notices belong to the session that caused them, not to the next person at the screen.
  fill(document.getElementById('notices'));
}

/**
 * The sign-in form; `onDone` runs after a successful sign-in. A staff user with a second
 * factor gets a second step in the same form: the app's code or a recovery code.
 */
function signInForm(onDone, notice, knownUsername) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true, value: knownUsername || '' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = h('input', { name: 'code', id: 'sign-in-code', autocomplete: 'one-time-code', inputmode: 'text', spellcheck: false });
  const credentials = h('div', {}, field('Username', username), field('Password', password));
  const codeStep = h('div', { hidden: true },
    h('p', { class: 'alert alert-info', role: 'status' }, 'Enter the 6-digit code from your authenticator app. Without your phone, use one of your recovery codes.'),
    field('Code', code));
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'sign-in' }, 'Sign in');
  const form = h('form', { class: 'sign-in', id: 'sign-in-form', novalidate: true },
    notice ? h('div', { class: 'alert alert-info', role: 'status' }, notice) : null,
    credentials, codeStep, status,
    h('div', { class: 'actions' }, submit));
  let challenge = null;
  const signedIn = (payload) => {
    setToken(payload.token);
    ctx.viewer = payload.staffUser;
    ctx.setupRequired = payload.secondFactorSetupRequired;
    password.value = '';
    code.value = '';
    // Without a hashchange: `onDone` draws the screen once. A hashchange would draw it a
    // second time, over a form the user may already be filling in.
    if (ctx.setupRequired) history.replaceState(null, '', '#/account');
    onDone();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    submit.disabled = true;
    try {
      if (challenge) {
        if (!code.value.trim()) throw new ApiError('Enter the code.', { code: 'BAD_USER_INPUT' });
        const data = await gql('StaffVerifySecondFactor', { challenge, code: code.value.trim() }, { retried: true });
        signedIn(data.staffVerifySecondFactor);
        return;
      }
      if (!username.value.trim() || !password.value) {
        throw new ApiError('Enter your username and password.', { code: 'BAD_USER_INPUT' });
      }
      const data = await gql('StaffLogin', { username: username.value.trim(), password: password.value }, { retried: true });
      signedIn(data.staffLogin);
    } catch (err) {
      if (err.code === 'SECOND_FACTOR_REQUIRED') {
        challenge = err.extensions.challenge;
        credentials.hidden = true;
        codeStep.hidden = false;
        submit.textContent = 'Verify';
        code.focus();
      } else if (err.code === 'TOKEN_EXPIRED' || err.code === 'INVALID_TOKEN') {
        // The challenge ran out: back to the password.
        challenge = null;
        credentials.hidden = false;
        codeStep.hidden = true;
        submit.textContent = 'Sign in';
        fill(status, alertBox(new ApiError('The code step timed out. Sign in again.', { code: 'BAD_USER_INPUT' })));
        password.focus();
      } else {
        fill(status, alertBox(err));
        (challenge ? code : password).select();
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function showSignIn(notice, knownUsername) {
  hideChrome();
  const form = signInForm(async () => {
    await start();
  }, notice, knownUsername);
  fill(main, h('section', { class: 'card narrow' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'hint' }, `Staff of ${ctx.settings ? ctx.settings.associationName : 'the association'} sign in here.`),
    form));
  (knownUsername ? form.querySelector('input[type=password]') : form.querySelector('input')).focus();
}

// The session ended mid-work: ask to sign in again in a dialog over the screen, so the form
// underneath keeps what was typed, then let the request that noticed go again.
let reauth = null;
onSessionEnded(() => {
  if (!reauth) {
    reauth = dialog('Sign in again', (close) => signInForm(() => close(true),
      'Your session has ended. Sign in again to continue; what you typed is kept.')).then(async (ok) => {
      reauth = null;
      if (!ok) {
        ctx.viewer = null;
        showSignIn('You were signed out.');
        throw new ApiError('You were signed out.', { code: 'UNAUTHENTICATED' });
      }
      showChrome();
    });
  }
  return reauth;
});

// An action that changes how an account is proven or recovered needs a fresh proof from this
// session: ask for the password (and the app's code) over the screen, then the action runs.
let stepUp = null;
onStepUpNeeded(() => {
  if (!stepUp) {
    stepUp = dialog('Confirm it is you', (close) => stepUpForm(close)).then((ok) => {
      stepUp = null;
      return Boolean(ok);
    });
  }
  return stepUp;
});

function stepUpForm(close) {
  const withCode = Boolean(ctx.viewer && ctx.viewer.secondFactorEnabled);
  const password = h('input', { type: 'password', id: 'step-up-password', autocomplete: 'current-password', autofocus: true });
  const code = h('input', { id: 'step-up-code', autocomplete: 'one-time-code', spellcheck: false });
  const fields = {
    password: field('Your password', password),
    code: withCode ? field('Code from your authenticator app', code, 'Or one of your recovery codes.') : null,
  };
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'step-up-confirm' }, 'Confirm');
  const form = h('form', { id: 'step-up-form', novalidate: true },
    h('p', {}, withCode
      ? 'This change needs a fresh proof that it is you. Enter your password and the code your authenticator app shows now; then you can make such changes for a few minutes.'
      : 'This change needs a fresh proof that it is you. Enter your password; then you can make such changes for a few minutes.'),
    fields.password, fields.code, status,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => close(false) }, 'Cancel')));
  handleSubmit(form, submit, {
    fields,
    status,
    submit: async () => {
      if (!password.value) throw new FormProblem('Enter your password.', 'password');
      if (withCode && !code.value.trim()) throw new FormProblem('Enter the code.', 'code');
      try {
        await gql('ConfirmStaffIdentity', { password: password.value, code: withCode ? code.value.trim() : null }, { stepped: true });
      } catch (err) {
        password.select();
        throw err;
      }
      close(true);
    },
  });
  return form;
}

async function signOut() {
  try {
    await gql('StaffLogout');
  } catch {
    // Signing out locally is what matters; the server ends the session by itself later.
  }
  announceSignOut(token());
  signedOut('You have signed out.');
}

function signedOut(message) {
  setToken(null);
  ctx.viewer = null;
  if (cleanup) cleanup();
  cleanup = null;
  history.replaceState(null, '', '#/search');
  showSignIn(message);
}

onSignedOutElsewhere(() => signedOut('You signed out in another tab.'));

async function start() {
  // Taken before anything else, so the token leaves the address bar at once.
  const linkToken = link.takeToken();
  // A profile opened in a new tab keeps the sign-in of the tab it came from.
  if (!linkToken) await borrowToken();
  let data;
  try {
    // A token left from an earlier visit may have expired: then start signed out.
    data = await gql('ConsoleStart', {}, { retried: true }).catch((err) => {
      if (err.code !== 'UNAUTHENTICATED' || !token()) throw err;
      setToken(null);
      return gql('ConsoleStart');
    });
  } catch (err) {
    fill(main, h('h1', {}, 'The console could not start'), alertBox(err));
    return;
  }
  ctx.settings = data.portalSettings;
  ctx.policy = data.passwordPolicy;
  setTimeZone(ctx.settings.timeZone);
  document.getElementById('brand').textContent = ctx.settings.associationName;
  document.title = `Staff console · ${ctx.settings.associationName}`;
  if (linkToken) {
    // Whoever is signed in here, the link is for its own account: its sessions end anyway.
    hideChrome();
    link.render(main, linkToken, (username) => {
      setToken(null);
      ctx.viewer = null;
      showSignIn(username ? 'Your password is set, and your other sessions have ended. Sign in with it now.' : null, username);
    });
    return;
  }
  if (!data.viewer) {
    if (token()) setToken(null);
    ctx.viewer = null;
    showSignIn();
    return;
  }
  ctx.viewer = data.viewer;
  showChrome();
  await route();
}

window.addEventListener('hashchange', () => {
  // A set-password link opened in a tab that already shows the console.
  if (location.hash.startsWith('#set-password=')) {
    start();
    return;
  }
  route().then(() => main.focus({ preventScroll: true }));
});

loadOperations().then(start).catch((err) => {
  fill(main, h('h1', {}, 'The console could not start'), alertBox(err));
});
