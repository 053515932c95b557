// The set-password page. The token travels in the URL fragment, which browsers never send to
// a server; it is removed from the address bar at once. Loading the page uses nothing up:
// only submitting the form does.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  const CHECK_LINK = "query CheckLink($t: String!) { checkSetPasswordToken(token: $t) { state login expiresAt hasUsername } passwordPolicy { minLength maxLength } portalSettings { associationName portalUrl timeZone } }";
  const SETTINGS_ONLY = "query PortalSettings { passwordPolicy { minLength maxLength } portalSettings { associationName portalUrl timeZone } }";
  let policy = { minLength: 12, maxLength: 128 };
  let portal = { portalUrl: null, associationName: "", timeZone: "UTC" };
  // Length problems are shown in red only once the member tried to submit: a warning before
  // they have typed anything says nothing useful.
  let submitted = false;

  const gql = window.portalApi.gql;

  function show(id, text) {
    const el = $(id);
    el.textContent = text;
    el.hidden = false;
  }

  // The association's time zone, named, as in the mail: "6 December 2026 at 18:00 CET".
  function when(iso) {
    const options = {
      day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      timeZone: portal.timeZone, timeZoneName: "short",
    };
    try {
      return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
    } catch (e) {
      delete options.timeZone;
      return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
    }
  }

  // Where to go next: the portal, when its address is known; else what to do instead.
  function offerPortal(login) {
    $("next").hidden = false;
    // Without a login to sign in with (no link, or one that no longer works), a new link is
    // what the member needs first.
    $("new-link").hidden = Boolean(login);
    // The association's own portal when its address is set; else memberkey's sign-in page.
    const link = $("portal-link");
    link.href = portal.portalUrl || "sign-in";
    link.textContent = portal.portalUrl ? "Go to the portal" : "Sign in";
    link.hidden = false;
    const where = portal.portalUrl ? "there" : "here";
    if (login) {
      show("portal-hint", `Sign in ${where} with the login ${login} and your new password.`);
    } else {
      show("portal-hint", `Already have a password? Sign in ${where}. Otherwise ask for a new link by email.`);
    }
  }

  const length = (s) => Array.from(s.normalize("NFKC")).length;

  function feedback() {
    const pw = $("password").value;
    const n = length(pw);
    const lengthEl = $("length");
    if (n === 0 && !submitted) {
      lengthEl.textContent = `At least ${policy.minLength} characters. Long phrases are good passwords.`;
      lengthEl.className = "hint";
    } else if (n < policy.minLength) {
      lengthEl.textContent = `${n} of at least ${policy.minLength} characters. Long phrases are good passwords.`;
      lengthEl.className = submitted ? "hint bad" : "hint";
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
      matchEl.textContent = submitted && pw ? "Type the password again here." : "";
      matchEl.className = submitted && pw ? "hint bad" : "hint";
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
    let result;
    try {
      result = token
        ? await gql(CHECK_LINK, { t: token })
        : await gql(SETTINGS_ONLY, {});
    } catch (e) {
      show("status", "The server could not be reached. Check your connection and reload the page.");
      return;
    }
    if (!result.data) {
      show("status", (result.errors && result.errors[0] && result.errors[0].message) || "Something went wrong. Reload the page to try again.");
      return;
    }
    policy = result.data.passwordPolicy;
    portal = result.data.portalSettings;
    if (portal.associationName) {
      $("brand").textContent = portal.associationName;
      document.title = `Set your password · ${portal.associationName}`;
    }
    if (!token) {
      show("status", "This page needs the link from your email, or a code from the association's staff. Open the link again, enter your code below, or ask for a new link with Forgot Login.");
      $("code-form").hidden = false;
      offerPortal(null);
      return;
    }
    const check = result.data.checkSetPasswordToken;
    if (check.state === "EXPIRED") {
      show("status", "This link has expired. Ask for a new one below.");
      offerPortal(null);
      return;
    }
    if (check.state !== "VALID") {
      show("status", "This link is invalid or has already been used. Ask for a new one below.");
      offerPortal(null);
      return;
    }
    $("status").hidden = true;
    // No username and no email address: the username chosen here is the only way to sign in.
    const needsUsername = !check.hasUsername && !check.login;
    $("login").textContent = check.login || "none yet; choose a username below";
    $("expires").textContent = when(check.expiresAt);
    $("username-row").hidden = check.hasUsername;
    $("username").required = needsUsername;
    $("username-label").textContent = needsUsername ? "Choose a username" : "Choose a username (optional)";
    $("username-hint").textContent = needsUsername
      ? "There is no email address on your profile, so you sign in with this username."
      : "Without one, you sign in with your email address.";
    $("form").hidden = false;
    feedback();
  }

  // "I have a code": the login and the code staff read out give a token, as the link would.
  $("code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("code-error").hidden = true;
    const login = $("code-login").value.trim();
    const code = $("code").value.trim();
    if (!login || !code) {
      show("code-error", "Enter your login and the code.");
      return;
    }
    $("code-submit").disabled = true;
    try {
      const result = await gql(
        "mutation RedeemCode($l: String!, $c: String!) { redeemSetPasswordCode(login: $l, code: $c) { token } }",
        { l: login, c: code },
      );
      if (result.data && result.data.redeemSetPasswordCode) {
        token = result.data.redeemSetPasswordCode.token;
        $("code-form").hidden = true;
        $("next").hidden = true;
        $("status").textContent = "Checking your code…";
        start();
        return;
      }
      const error = result.errors && result.errors[0];
      show("code-error", error && error.extensions && error.extensions.code === "INVALID_TOKEN"
        ? "This code is wrong, used or expired. Check it with the person who gave it to you, or ask for a new one."
        : (error && error.message) || "The code could not be checked.");
    } catch (e) {
      show("code-error", "The server could not be reached. Try again.");
    } finally {
      $("code-submit").disabled = false;
    }
  });

  $("password").addEventListener("input", feedback);
  $("confirm").addEventListener("input", feedback);
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("error").hidden = true;
    submitted = true;
    if ($("username").required && !$("username").value.trim()) {
      show("error", "Choose a username: it is how you will sign in.");
      $("username").focus();
      return;
    }
    if (!feedback()) {
      show("error", "Check the password: it must be long enough and both fields must match.");
      return;
    }
    $("submit").disabled = true;
    try {
      const username = $("username-row").hidden ? null : ($("username").value.trim() || null);
      const result = await gql(
        "mutation($t: String!, $p: String!, $u: String) { setPasswordWithToken(token: $t, password: $p, username: $u) { login } }",
        { t: token, p: $("password").value, u: username },
      );
      if (result.data && result.data.setPasswordWithToken) {
        $("form").hidden = true;
        const login = result.data.setPasswordWithToken.login;
        show("done", `Your password is set. You can now sign in with the login ${login}.`);
        offerPortal(login);
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
