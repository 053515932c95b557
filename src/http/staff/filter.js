// The recipient filter's fields as staff set them, shared by the Mass Communicator and
// Create Portal Logins: kind, membership statuses, a quick-search term, the people related
// to each organisation, and under "More conditions" the portal-login facts and the
// recipients of an earlier communication by link state and delivery status. Its value is a
// RecipientFilterInput, and a saved filter fills every field.

import { gql } from './api.js';
import { ctx } from './ctx.js';
import { DeliveryStatus, LinkState } from './enums.js';
import { checkboxes, choices, field, h, select } from './ui.js';
import { KINDS, STATUSES } from './search.js';

const YES_NO = {
  hasCredentials: ['Portal login', 'Has a username or password', 'Has no portal login'],
  hasPassword: ['Password', 'Has set a password', 'Has no password yet'],
  signedIn: ['Signed in', 'Has signed in', 'Has never signed in'],
};

/** A yes/no/either condition as a select whose value is '', 'true' or 'false'. */
function yesNo(key, saved) {
  const [, yes, no] = YES_NO[key];
  const value = saved === true ? 'true' : saved === false ? 'false' : '';
  return select([['', 'Any'], ['true', yes], ['false', no]], value, { id: `recipient-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
}

/** A date input's day as the moment it starts in the browser's time zone, or null. */
function startOfDay(value) {
  return value ? new Date(`${value}T00:00:00`).toISOString() : null;
}

function dayOf(moment) {
  if (!moment) return '';
  const d = new Date(moment);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function filterFields(saved, { status = 'ACTIVE' } = {}) {
  const f = saved || {};
  const kind = select(KINDS, f.kind || '', { id: 'recipient-kind' });
  const savedStatuses = f.memberStatus ? [f.memberStatus] : f.memberStatuses || (saved ? [] : [status].filter(Boolean));
  const statuses = checkboxes('Membership status', STATUSES, savedStatuses, 'recipient-status', 'None ticked: every status.');
  const search = h('input', { type: 'search', id: 'recipient-search', autocomplete: 'off', value: f.search || '' });
  const related = h('input', { type: 'checkbox', id: 'recipient-related', checked: Boolean(f.includeRelatedProfiles) });
  const facts = Object.fromEntries(Object.keys(YES_NO).map((key) => [key, yesNo(key, f[key])]));
  const since = h('input', { type: 'date', id: 'recipient-signed-in-since', value: dayOf(f.signedInSince) });

  // The recipients of an earlier communication: only for those who may read communications.
  const from = f.fromCommunication || null;
  // The saved one is chosen from the start, so a save before the list arrives keeps it.
  const fromComm = select([['', 'No earlier communication'], ...(from ? [[from.id, `Communication ${from.id}`]] : [])], from ? from.id : '', { id: 'recipient-from' });
  const links = checkboxes('Their link', choices(LinkState), from ? from.linkStates : [], 'recipient-link', 'None ticked: any.');
  const delivery = checkboxes('Their delivery', choices(DeliveryStatus), from ? from.deliveryStatuses : [], 'recipient-delivery', 'None ticked: any.');
  // A fieldset disabled disables its boxes: they mean nothing without a communication.
  const syncFrom = () => { links.element.disabled = !fromComm.value; delivery.element.disabled = !fromComm.value; };
  const mayFollowUp = ctx.has('SEND_MASS_COMMUNICATIONS');
  if (mayFollowUp) {
    gql('FollowUpChoices').then((data) => {
      for (const c of data.massCommunications.edges.map((e) => e.node)) {
        if (from && c.id === from.id) fromComm.options[1].textContent = c.subject;
        else if (c.status !== 'DRAFT') fromComm.append(h('option', { value: c.id }, c.subject));
      }
    }).catch(() => { fromComm.disabled = true; });
  }
  syncFrom();
  fromComm.addEventListener('change', syncFrom);

  const advanced = [...Object.values(facts), since];
  const anyAdvanced = Object.keys(YES_NO).some((k) => f[k] === true || f[k] === false) || f.signedInSince || from;
  const element = [
    h('div', { class: 'row' }, field('Kind', kind), field('Quick search term', search)),
    statuses.element,
    h('div', { class: 'field check' }, related, h('label', { for: related.id }, 'Also the people related to each organisation')),
    h('details', { class: 'more', id: 'recipient-more', open: Boolean(anyAdvanced) },
      h('summary', {}, 'More conditions'),
      h('div', { class: 'row' }, Object.entries(facts).map(([key, control]) => field(YES_NO[key][0], control)), field('Signed in since', since)),
      mayFollowUp ? [field('Recipients of an earlier communication', fromComm), links.element, delivery.element] : null),
  ];
  const all = [kind, ...statuses.boxes, search, related, ...advanced, fromComm, ...links.boxes, ...delivery.boxes];
  return {
    element,
    /** Every control, for a screen that reacts to any change at once. */
    controls: all,
    /** The filter as the API takes it. */
    value() {
      const filter = { includeRelatedProfiles: related.checked, memberStatuses: statuses.values() };
      if (kind.value) filter.kind = kind.value;
      if (search.value.trim()) filter.search = search.value.trim();
      for (const [key, control] of Object.entries(facts)) if (control.value) filter[key] = control.value === 'true';
      if (since.value) filter.signedInSince = startOfDay(since.value);
      if (fromComm.value) {
        filter.fromCommunication = { id: fromComm.value, linkStates: links.values(), deliveryStatuses: delivery.values() };
      }
      return filter;
    },
    /** Calls `fn` whenever a field changes (typing is debounced); returns what cancels a pending call. */
    onChange(fn) {
      let timer = null;
      for (const el of all) {
        el.addEventListener(el === search ? 'input' : 'change', () => { clearTimeout(timer); timer = setTimeout(fn, el === search ? 250 : 0); });
      }
      return () => clearTimeout(timer);
    },
  };
}
