// The Forgot Login page. It asks the API for the standard "Forgot Login" email; the answer is
// the same whether or not the address is known, so the page cannot be used to find members.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SETTINGS = "query PortalSettings { portalSettings { associationName } }";
  const FORGOT = "mutation ForgotLogin($e: String!) { requestPasswordReset(email: $e) { accepted } }";

  const gql = window.portalApi.gql;

  function error(text) {
    const el = $("error");
    el.textContent = text;
    el.hidden = false;
    $("email").setAttribute("aria-invalid", "true");
    $("email").focus();
  }

  gql(SETTINGS, {}).then((result) => {
    const name = result.data && result.data.portalSettings.associationName;
    if (name) {
      $("brand").textContent = name;
      document.title = `Forgot your login? · ${name}`;
    }
  }).catch(() => {});

  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("error").hidden = true;
    $("email").removeAttribute("aria-invalid");
    const email = $("email").value.trim();
    if (!email || !email.includes("@")) {
      error("Enter the email address on your profile, like name@example.org.");
      return;
    }
    $("submit").disabled = true;
    try {
      const result = await gql(FORGOT, { e: email });
      if (result.data && result.data.requestPasswordReset) {
        $("form").hidden = true;
        $("sent-to").textContent = email;
        $("sent").hidden = false;
        return;
      }
      error((result.errors && result.errors[0] && result.errors[0].message) || "The request failed. Try again.");
    } catch (e) {
      error("The server could not be reached. Check your connection and try again.");
    } finally {
      $("submit").disabled = false;
    }
  });
})();
