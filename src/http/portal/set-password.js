// The set-password page. The token travels in the URL fragment, which browsers never send to
// a server; it is removed from the address bar at once. Loading the page uses nothing up:
// only submitting the form does.
"use strict";

(function () {
  const endpoint = new URL("../graphql", window.location.href).toString();
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  let policy = { minLength: 12, maxLength: 128 };

  async function gql(query, variables) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    return response.json();
  }

  function show(id, text) {
    const el = $(id);
    el.textContent = text;
    el.hidden = false;
  }

  const length = (s) => Array.from(s.normalize("NFKC")).length;

  function feedback() {
    const pw = $("password").value;
    const n = length(pw);
    const lengthEl = $("length");
    if (n < policy.minLength) {
      lengthEl.textContent = `${n} of at least ${policy.minLength} characters. Long phrases are good passwords.`;
      lengthEl.className = "hint bad";
    } else if (n > policy.maxLength) {
      lengthEl.textContent = `${n} characters: at most ${policy.maxLength} are allowed.`;
      lengthEl.className = "hint bad";
    } else {
      lengthEl.textContent = `${n} characters: long enough.`;
      lengthEl.className = "hint ok";
    }
    const confirm = $("confirm").value;
    const matchEl = $("match");
    if (!confirm) {
      matchEl.textContent = "";
    } else if (confirm === pw) {
      matchEl.textContent = "The passwords match.";
      matchEl.className = "hint ok";
    } else {
      matchEl.textContent = "The passwords do not match yet.";
      matchEl.className = "hint bad";
    }
    return n >= policy.minLength && n <= policy.maxLength && confirm === pw;
  }

  async function start() {
    if (!token) {
      show("status", "This page needs the link from your email. Open the link again, or ask for a new one with Forgot Login.");
      return;
    }
    let result;
    try {
      result = await gql(
        "query($t: String!) { checkSetPasswordToken(token: $t) { state login expiresAt hasUsername } passwordPolicy { minLength maxLength } }",
        { t: token },
      );
    } catch (e) {
      show("status", "The server could not be reached. Check your connection and reload the page.");
      return;
    }
    if (!result.data) {
      show("status", (result.errors && result.errors[0] && result.errors[0].message) || "Something went wrong. Reload the page to try again.");
      return;
    }
    policy = result.data.passwordPolicy;
    const check = result.data.checkSetPasswordToken;
    if (check.state === "EXPIRED") {
      show("status", "This link has expired. Use Forgot Login on the portal to get a new one.");
      return;
    }
    if (check.state !== "VALID") {
      show("status", "This link is invalid or has already been used. Use Forgot Login on the portal to get a new one.");
      return;
    }
    $("status").hidden = true;
    $("login").textContent = check.login;
    $("expires").textContent = new Date(check.expiresAt).toLocaleString();
    $("username-row").hidden = check.hasUsername;
    $("form").hidden = false;
    feedback();
  }

  $("password").addEventListener("input", feedback);
  $("confirm").addEventListener("input", feedback);
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("error").hidden = true;
    if (!feedback()) {
      show("error", "Check the password: it must be long enough and both fields must match.");
      return;
    }
    $("submit").disabled = true;
    try {
      const username = $("username-row").hidden ? null : ($("username").value.trim() || null);
      const result = await gql(
        "mutation($t: String!, $p: String!, $u: String) { setPasswordWithToken(token: $t, password: $p, username: $u) }",
        { t: token, p: $("password").value, u: username },
      );
      if (result.data && result.data.setPasswordWithToken) {
        $("form").hidden = true;
        const login = username || $("login").textContent;
        show("done", `Your password is set. You can now sign in with the login ${login}.`);
        return;
      }
      show("error", (result.errors && result.errors[0] && result.errors[0].message) || "The password could not be set.");
    } catch (e) {
      show("error", "The server could not be reached. Try again.");
    } finally {
      $("submit").disabled = false;
    }
  });

  start();
})();
