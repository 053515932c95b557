// The console's only way to the server: the public GraphQL API, over HTTP for queries and
// mutations and over graphql-transport-ws for subscriptions, exactly as any SPA would use it.
// Operations come by name from operations.graphql, never from strings built here.

const TOKEN_KEY = 'memberkey.staff.token';

let operations = new Map(); // name -> { text, fragments: [names] }
let fragments = new Map(); // name -> text
let sessionEnded = null; // set by the app: () => Promise that resolves once signed in again
let stepUpNeeded = null; // set by the app: () => Promise<boolean>, true once the user proved who they are

/** An error the API answered with: its message, its `extensions.code` and the rest. */
export class ApiError extends Error {
  constructor(message, extensions = {}) {
    super(message);
    this.code = extensions.code || 'INTERNAL_SERVER_ERROR';
    this.extensions = extensions;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Tabs of this console share one sign-in. The token stays in sessionStorage (so it ends
// with the browser, and no other site or stored file holds it); a new tab asks the open
// ones for theirs over a same-origin BroadcastChannel. A sign-out in one tab signs them all
// out, since the server has ended that session anyway.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('memberkey.staff.session') : null;
let signedOutElsewhere = null; // set by the app: () => void
if (tabs) {
  tabs.addEventListener('message', ({ data }) => {
    if (data.type === 'ask' && token()) tabs.postMessage({ type: 'token', token: token() });
    if (data.type === 'signed-out' && data.token === token()) {
      setToken(null);
      if (signedOutElsewhere) signedOutElsewhere();
    }
  });
}

/**
 * A tab opened without a sign-in of its own takes the one of an open console tab, if any
 * answers within a moment. Resolves once known.
 */
export function borrowToken() {
  if (!tabs || token()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { tabs.removeEventListener('message', answer); clearTimeout(timer); resolve(); };
    const answer = ({ data }) => {
      if (data.type === 'token' && data.token && !token()) setToken(data.token);
      if (token()) done();
    };
    // Open tabs answer within milliseconds; a first tab waits this long at most.
    const timer = setTimeout(done, 250);
    tabs.addEventListener('message', answer);
    tabs.postMessage({ type: 'ask' });
  });
}

/** Tells the other tabs that this sign-in ended; those using it sign out too. */
export function announceSignOut(ended) {
  if (tabs && ended) tabs.postMessage({ type: 'signed-out', token: ended });
}

/** Registers what to do when another tab signed out of the session this one uses. */
export function onSignedOutElsewhere(handler) {
  signedOutElsewhere = handler;
}

/** Registers what to do when the server says the session is over. */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/** Registers how to ask for a fresh proof (password and code) when an action needs step-up. */
export function onStepUpNeeded(handler) {
  stepUpNeeded = handler;
}

/** Loads and splits operations.graphql; called once before anything is sent. */
export async function loadOperations() {
  const resp = await fetch('/staff/operations.graphql', { cache: 'no-cache' });
  if (!resp.ok) throw new ApiError('The console could not load its operations.', { code: 'INTERNAL_SERVER_ERROR' });
  for (const def of definitions(await resp.text())) {
    const [, kind, name] = def.match(/^(query|mutation|subscription|fragment)\s+([A-Za-z_]\w*)/);
    if (kind === 'fragment') fragments.set(name, def);
    else operations.set(name, def);
  }
}

// The top-level definitions of a document: text between balanced braces at depth zero.
function definitions(text) {
  const clean = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
  const out = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < clean.length; i += 1) {
    const c = clean[i];
    if (depth === 0 && start < 0 && /[a-z]/.test(c)) start = i;
    if (c === '{') depth += 1;
    if (c === '}') {
      depth -= 1;
      if (depth === 0) {
        out.push(clean.slice(start, i + 1).trim());
        start = -1;
      }
    }
  }
  return out;
}

// The operation's text with every fragment it uses, directly or through another fragment.
function documentFor(name) {
  const op = operations.get(name);
  if (!op) throw new Error(`unknown operation ${name}`);
  const needed = new Set();
  const visit = (text) => {
    for (const [, f] of text.matchAll(/\.\.\.\s*([A-Za-z_]\w*)/g)) {
      if (f === 'on' || needed.has(f)) continue;
      needed.add(f);
      visit(fragments.get(f));
    }
  };
  visit(op);
  return [op, ...[...needed].map((f) => fragments.get(f))].join('\n\n');
}

async function post(name, variables) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let resp;
  try {
    resp = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: documentFor(name), operationName: name, variables }),
    });
  } catch {
    throw new ApiError('The server could not be reached.', { code: 'NETWORK' });
  }
  let body;
  try {
    body = await resp.json();
  } catch {
    throw new ApiError(`The server answered ${resp.status} without a GraphQL result.`, { code: 'INTERNAL_SERVER_ERROR' });
  }
  return body;
}

/**
 * Runs a query or mutation and returns its data, or throws the first error as an ApiError.
 * A sign-in that ended mid-work asks the user to sign in again, then repeats the request
 * once, so nothing typed is lost. An action that needs step-up asks for the password (and
 * code) once, then repeats the request; cancelled, the STEP_UP_REQUIRED error is thrown.
 */
export async function gql(name, variables = {}, { retried = false, stepped = false } = {}) {
  const hadToken = Boolean(token());
  const body = await post(name, variables);
  const error = body.errors && body.errors[0];
  if (error) {
    const ext = error.extensions || {};
    if (ext.code === 'UNAUTHENTICATED' && hadToken && sessionEnded && !retried) {
      setToken(null);
      await sessionEnded();
      return gql(name, variables, { retried: true, stepped });
    }
    if (ext.code === 'STEP_UP_REQUIRED' && stepUpNeeded && !stepped && (await stepUpNeeded())) {
      return gql(name, variables, { retried, stepped: true });
    }
    throw new ApiError(error.message, ext);
  }
  return body.data;
}

/**
 * Follows a subscription over the WebSocket. Calls `onData(data)` for each event and
 * `onEnd(error|null)` once when it ends. Returns a function that stops it.
 */
export function subscribe(name, variables, onData, onEnd) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let ended = false;
  const end = (err) => {
    if (ended) return;
    ended = true;
    onEnd(err);
    if (socket.readyState <= 1) socket.close(1000);
  };
  socket.addEventListener('open', () => {
    const t = token();
    socket.send(JSON.stringify({ type: 'connection_init', payload: t ? { Authorization: `Bearer ${t}` } : {} }));
  });
  socket.addEventListener('message', (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === 'connection_ack') {
      socket.send(JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: documentFor(name), operationName: name, variables },
      }));
    } else if (msg.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    } else if (msg.type === 'next') {
      const err = msg.payload.errors && msg.payload.errors[0];
      if (err) end(new ApiError(err.message, err.extensions));
      else onData(msg.payload.data);
    } else if (msg.type === 'error') {
      const err = msg.payload[0] || {};
      end(new ApiError(err.message || 'The subscription failed.', err.extensions));
    } else if (msg.type === 'complete') {
      end(null);
    }
  });
  socket.addEventListener('close', (event) => {
    if (event.code === 4401 || event.code === 4403) {
      end(new ApiError('Your session ended.', { code: 'UNAUTHENTICATED' }));
    } else if (event.code !== 1000) {
      end(new ApiError('The live connection closed.', { code: 'NETWORK' }));
    } else end(null);
  });
  return () => end(null);
}
