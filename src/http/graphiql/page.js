// The GraphiQL page: renders the vendored GraphiQL against /graphql and adds a staff sign-in
// bar. After signing in, every request carries "Authorization: Bearer <token>" unless the
// Headers pane sets its own Authorization header. The token lives in sessionStorage, so it
// ends with the browser tab.
(function () {
  'use strict';

  const TOKEN_KEY = 'memberkey.graphiql.token';
  const WHO_KEY = 'memberkey.graphiql.who';
  const $ = (id) => document.getElementById(id);

  const DEFAULT_QUERY = `# Welcome to memberkey's GraphiQL.
#
# 1. Sign in with a staff user in
#    the bar above. Every request
#    then sends your session token:
#    Authorization: Bearer <token>
#    (or set that header yourself
#    in the Headers pane below).
# 2. Run this quick search with the
#    play button or Ctrl-Enter.
# 3. The book icon (top left) opens
#    the docs: every type and field.

query QuickSearch($search: String) {
  profiles(search: $search, first: 5) {
    totalCount
    edges {
      node {
        id
        displayName
        email
        memberStatus
      }
    }
  }
}
`;
  const DEFAULT_VARIABLES = '{ "search": "jensen" }';

  function status(text, isError) {
    const el = $('mk-status');
    el.textContent = text;
    el.classList.toggle('mk-error', Boolean(isError));
  }

  function showSession() {
    const who = sessionStorage.getItem(WHO_KEY);
    const signedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
    $('mk-signin').hidden = signedIn;
    $('mk-session').hidden = !signedIn;
    $('mk-who').textContent = who || '';
  }

  function endSession(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WHO_KEY);
    showSession();
    if (message) status(message, true);
  }

  async function post(body, headers) {
    const resp = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return resp.json();
  }

  // GraphiQL's fetcher: adds the session token unless the Headers pane names its own.
  async function fetcher(params, opts) {
    const headers = { ...((opts && opts.headers) || {}) };
    const token = sessionStorage.getItem(TOKEN_KEY);
    const own = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    if (token && !own) headers.Authorization = `Bearer ${token}`;
    const result = await post(params, headers);
    const codes = (result.errors || []).map((e) => e.extensions && e.extensions.code);
    if (token && !own && codes.includes('UNAUTHENTICATED')) {
      endSession('Your session has ended. Sign in again above, then run the query again.');
    }
    return result;
  }

  $('mk-signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = $('mk-username').value.trim();
    const password = $('mk-password').value;
    if (!username || !password) {
      status('Enter a staff username and password.', true);
      return;
    }
    status('Signing in…');
    try {
      const result = await post({
        query:
          'mutation SignIn($username: String!, $password: String!) { staffLogin(username: $username, password: $password) { token staffUser { username } } }',
        variables: { username, password },
        operationName: 'SignIn',
      });
      const login = result.data && result.data.staffLogin;
      if (!login) {
        const err = (result.errors || [])[0];
        status(err ? err.message : 'Sign-in failed.', true);
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, login.token);
      sessionStorage.setItem(WHO_KEY, login.staffUser.username);
      $('mk-password').value = '';
      showSession();
      status('Signed in. Run a query.');
    } catch (e) {
      status(`Could not reach the server: ${e.message}`, true);
    }
  });

  $('mk-signout').addEventListener('click', async () => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) {
      try {
        await post({ query: 'mutation SignOut { staffLogout { signedOut } }' }, { Authorization: `Bearer ${token}` });
      } catch (e) {
        // The token is forgotten here either way; it also ends when its session times out.
      }
    }
    endSession();
    status('Signed out.');
  });

  showSession();
  const firstVisit = localStorage.getItem('graphiql:tabState') === null;
  ReactDOM.createRoot($('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultTabs: [{ query: DEFAULT_QUERY, variables: DEFAULT_VARIABLES }],
      // GraphiQL takes the first tab's variables only from this prop; given on a first visit
      // only, so later visits keep what the user typed.
      variables: firstVisit ? DEFAULT_VARIABLES : undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
    }),
  );
})();
