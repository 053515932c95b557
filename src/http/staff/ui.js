// Small DOM helpers shared by every screen. Elements are built with h(), never from HTML
// strings, so nothing a member or staff user typed can become markup.

/** Creates an element: h('button', { class: 'primary', onclick }, 'Save'). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A labelled form field: the label, the control and an error line tied to it. */
export function field(label, control, hint) {
  uid += 1;
  control.id ||= `f${uid}`;
  const error = h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  const described = [hintEl && hintEl.id, error.id].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl, error);
  wrap.control = control;
  wrap.showError = (message) => {
    error.hidden = !message;
    error.textContent = message || '';
    control.setAttribute('aria-invalid', message ? 'true' : 'false');
  };
  return wrap;
}

/** A select with [value, label] options. */
export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// What a person can do about each error code; the server's message says what went wrong.
const NEXT_STEP = {
  UNAUTHENTICATED: 'Sign in again to continue.',
  FORBIDDEN: 'Your staff account lacks the right for this. Ask a staff user with the Manage staff right to grant it.',
  RATE_LIMITED: 'Wait a minute, then try again.',
  NETWORK: 'Check the connection to the server, then try again.',
  INTERNAL_SERVER_ERROR: 'Try again. If it keeps happening, give your administrator the time and this reference.',
  NOT_FOUND: 'It may have been removed by someone else. Go back to the search and open it again.',
  INVALID_PROFILE_ID: 'Go back to the search and open the profile from there.',
  NO_EMAIL_ADDRESS: 'Add an email address to the profile first, or give the member a link for the phone instead.',
  ADDRESS_SUPPRESSED: 'The address bounced or complained before. Correct the address, or clear it from the suppression list once it works again.',
  WEAK_PASSWORD: 'Choose a longer or less common password, or use "Generate".',
  CONFLICT: 'Reload to see the current state, then try again.',
  INVALID_LOGIN: 'Check the username and password. Accounts lock for a while after repeated failures.',
  QUERY_TOO_COMPLEX: 'Narrow the search or the page size.',
  STEP_UP_REQUIRED: 'Try again, and confirm with your password (and code) when asked.',
};

/** The message and the next step for an error, as one sentence pair. */
export function explain(err) {
  const message = err && err.message ? err.message : String(err);
  let next = NEXT_STEP[err && err.code] || '';
  if (err && err.extensions && err.extensions.correlationId) next += ` Reference: ${err.extensions.correlationId}.`;
  return { message, next: next.trim() };
}

/** An inline alert box for an error, or for a success when `kind` is 'ok'. */
export function alertBox(content, kind = 'error') {
  if (kind === 'error') {
    const { message, next } = explain(content);
    return h('div', { class: 'alert alert-error', role: 'alert' }, h('strong', {}, message), next ? h('span', {}, ` ${next}`) : null);
  }
  return h('div', { class: `alert alert-${kind}`, role: 'status' }, content);
}

/** Shows a transient notice in the page's live region; an error shows its next step too. */
/**
 * Shows a short notice. It belongs to the screen it appeared on and goes when staff move on;
 * `carry` keeps it across the one move it announces ("Draft saved." and then the draft).
 */
export function notify(content, kind = 'ok', { carry = false } = {}) {
  const region = document.getElementById('notices');
  let text = content;
  if (content instanceof Error) {
    const { message, next } = explain(content);
    text = next ? `${message} ${next}` : message;
  }
  const note = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  if (carry) note.dataset.carry = 'true';
  region.append(note);
  // A few at a time, so notices never cover the screen on a phone.
  while (region.children.length > 2) region.firstElementChild.remove();
  setTimeout(() => note.remove(), kind === 'error' ? 12000 : 5000);
}

/** On moving to another screen: notices of the last one go, a carried one stays once. */
export function clearNotices() {
  for (const note of [...document.querySelectorAll('#notices .notice')]) {
    if (note.dataset.carry) delete note.dataset.carry;
    else note.remove();
  }
}

/**
 * Opens a modal dialog and resolves with what `build(close)` passes to close(), or null when
 * dismissed. Focus moves into the dialog and back to where it was.
 */
export function dialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    uid += 1;
    const titleId = `dlg${uid}`;
    const dlg = h('dialog', { class: wide ? 'wide' : '', 'aria-labelledby': titleId });
    let result = null;
    const close = (value = null) => {
      result = value;
      dlg.close();
    };
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    dlg.append(h('h2', { id: titleId }, title), build(close));
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus], input, select, textarea, button.primary, button');
    if (first) first.focus();
  });
}

/** A yes/no confirmation; resolves true when confirmed. */
export function confirmDialog(title, body, confirmLabel, { danger = false } = {}) {
  return dialog(title, (close) => h('div', {},
    h('div', { class: 'dialog-body' }, body),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: danger ? 'danger' : 'primary', onclick: () => close(true), autofocus: true }, confirmLabel),
      h('button', { type: 'button', onclick: () => close(false) }, 'Cancel')))).then(Boolean);
}

/** A refusal a form finds before asking the server, shown as the server's are. */
export class FormProblem extends Error {
  /** `field`: the key in the form's fields it belongs beside, if any; `kind`: the box's look. */
  constructor(message, field = null, kind = 'info') {
    super(message);
    this.field = field;
    this.kind = kind;
  }
}

/**
 * The console's one way to run a form. On submit the last errors go, `submit()` runs with
 * `button` busy, and an error is shown once: beside the field it names (the API's
 * `extensions.field`, whose last part is a key of `fields`; or `codes[err.code]`, for
 * errors such as WEAK_PASSWORD that name no field), focused and scrolled into view;
 * otherwise in `status`, above the buttons. `submit` throws a FormProblem for what it
 * refuses before asking the server. `after(result)` runs once it succeeded and the button
 * has the focus back, for a screen that moves the focus on.
 */
export function handleSubmit(form, button, { fields = {}, codes = {}, status, submit, after }) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const f of Object.values(fields)) if (f) f.showError(null);
    if (status) fill(status);
    let done = false;
    let result;
    await busy(button, async () => {
      try {
        result = await submit();
        done = true;
      } catch (err) {
        showFormError(err, fields, codes, status);
      }
    });
    if (done && after) after(result);
  });
}

function showFormError(err, fields, codes, status) {
  const problem = err instanceof FormProblem;
  const named = problem ? err.field : ((err.extensions && err.extensions.field) || '').split('.').pop();
  const target = fields[named] || fields[codes[err.code]];
  if (target) {
    target.showError(problem ? err.message : fieldMessage(err));
    target.control.focus();
    target.scrollIntoView({ block: 'center' });
  } else if (status) {
    fill(status, problem ? alertBox(err.message, err.kind) : alertBox(err));
  } else {
    notify(problem ? err.message : err, problem ? err.kind : 'error');
  }
}

/** Runs `work` with the button disabled and shows a failure next to it. */
export async function busy(button, work) {
  const label = button.textContent;
  // A disabled button drops the focus; give it back afterwards so keyboard users stay put.
  const focused = document.activeElement === button;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
    if (focused && button.isConnected && document.activeElement === document.body) button.focus();
  }
}

let timeZone;
export function setTimeZone(tz) {
  timeZone = tz;
}

/** The association's time zone, as staff read it ("Europe/Copenhagen"). */
export function zoneName() {
  return timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// The wall-clock parts of instant `t` (ms) in the association's time zone.
function wallParts(t) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t));
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** An instant's day ("2026-12-24") and time ("09:30") in the association's time zone. */
export function zonedParts(iso) {
  const p = wallParts(new Date(iso).getTime());
  return { day: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/**
 * The instant (ISO) a day ("2026-12-24") and time ("09:30") name in the association's time
 * zone: the wall time read as UTC, less the zone's offset then. The offset is taken twice,
 * the second time at the corrected instant, so a time near a daylight-saving change lands
 * right.
 */
export function zonedInstant(day, time) {
  const [y, mo, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  const offset = (t) => {
    const p = wallParts(t);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
  };
  let t = wall - offset(wall);
  t = wall - offset(t);
  return new Date(t).toISOString();
}

/** A date and time in the association's time zone, e.g. "2 Dec 2026, 14:05 CET". */
export function when(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(new Date(iso));
}

/** An enum value as words: MANAGE_PORTAL_CREDENTIALS → "Manage portal credentials". */
/**
 * A group of checkboxes, one per `[value, label]` option, ticked where `checked` has the
 * value; ids are `${prefix}-${value in lower case}`. `values()` gives the ticked ones.
 */
export function checkboxes(legend, options, checked, prefix, hint) {
  const boxes = options.map(([value, label]) => h('input', { type: 'checkbox', value, id: `${prefix}-${value.toLowerCase()}`, checked: checked.includes(value), dataset: { label } }));
  const element = h('fieldset', { class: 'checks', id: prefix }, h('legend', {}, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    boxes.map((box) => h('div', { class: 'field check' }, box, h('label', { for: box.id }, box.dataset.label))));
  return { element, boxes, values: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/**
 * A schema enum (from enums.js) as select options: each value with its label from `labels`,
 * or the value in words.
 */
export function choices(list, labels = {}) {
  return list.map(([value]) => [value, labels[value] || words(value)]);
}

export function words(value) {
  if (!value) return '';
  const s = value.toLowerCase().replaceAll('_', ' ');
  return s[0].toUpperCase() + s.slice(1);
}

/**
 * Names each body cell after its column (`data-label`), so that a table with class `stack`
 * reads as one labelled block per row on a phone instead of running off the screen. Call it
 * again after adding rows.
 */
export function labelCells(table) {
  const heads = [...table.tHead.rows[0].cells].map((c) => c.textContent);
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      [...row.cells].forEach((cell, i) => { if (!cell.dataset.label) cell.dataset.label = heads[i] || ''; });
    }
  }
  return table;
}

/**
 * Where an email stands once queued, in words that are true for this server: "on its way"
 * only when mail leaves it; with the outbox folder, "queued", and why nothing arrives.
 */
export function mailNote(what, to, mailIsSent) {
  return mailIsSent === false
    ? `${what} for ${to} is queued. This server keeps mail in its outbox folder instead of sending it (MEMBERKEY_MAIL_TRANSPORT), so nothing arrives.`
    : `${what} is on its way to ${to}.`;
}

/** What to show beside a form field: the refusal alone when the API gives it, else the message. */
export function fieldMessage(err) {
  const reason = err.extensions && err.extensions.reason;
  return reason ? reason[0].toUpperCase() + reason.slice(1) : err.message;
}

/** A span of minutes in words: "1 minute", "45 minutes", "1 hour", "1 hour 30 minutes". */
export function duration(minutes) {
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return plural(m, 'minute');
  return m === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(m, 'minute')}`;
}

/** A strong random password from letters and digits that are hard to misread. */
export function strongPassword(length = 16) {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out = [];
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) {
      // Rejects bytes past the last whole multiple of the alphabet, so no letter is likelier.
      if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length]);
    }
  }
  return out.join('');
}

/** A loading line while a screen fetches. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}
