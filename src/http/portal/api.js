// What the member pages share: their one way to call the public GraphQL API, beside the
// page, with no cookies and no Referer. Loaded before each page's own script.
"use strict";

window.portalApi = {
  endpoint: new URL("../graphql", window.location.href).toString(),

  async gql(query, variables) {
    const response = await fetch(window.portalApi.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    return response.json();
  },
};
