/* Login page: PIN log-in, or the first-visit setup with the one-time code when no PIN is set. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function nextPage() {
    const next = App.param("next") || "/live";
    // Only same-site paths: never follow an absolute or protocol-relative URL from the query.
    return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/live";
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      await App.api("POST", "/api/auth/login", { pin: $("pin").value }, { noRedirect: true });
      location.href = nextPage();
    } catch (err) {
      $("login-error").textContent = err.message;
      $("pin").select();
    }
  }

  async function setup(event) {
    event.preventDefault();
    $("setup-error").textContent = "";
    if ($("new-pin").value !== $("new-pin2").value) {
      $("setup-error").textContent = "The two PINs differ.";
      return;
    }
    try {
      await App.api("POST", "/api/auth/setup", { setup_code: $("setup-code").value, pin: $("new-pin").value }, { noRedirect: true });
      location.href = nextPage();
    } catch (err) {
      $("setup-error").textContent = err.message;
    }
  }

  async function init() {
    // Handlers first: a PIN typed and submitted before the status below arrives must not fall
    // through to the browser's own form submission (a reload that drops it).
    $("login-form").addEventListener("submit", login);
    $("setup-form").addEventListener("submit", setup);
    $("logout").classList.add("hidden");
    document.querySelector("nav").classList.add("hidden");
    const status = await App.api("GET", "/api/auth/status", undefined, { noRedirect: true });
    if (status.logged_in) { location.href = nextPage(); return; }
    $("min-len").textContent = status.min_pin_length;
    $("login-form").classList.toggle("hidden", !status.pin_set);
    $("setup-form").classList.toggle("hidden", status.pin_set);
    if (status.setup_code_where) $("setup-where").textContent = status.setup_code_where;
    $("public-live").classList.toggle("hidden", !status.public_live_view);
    (status.pin_set ? $("pin") : $("setup-code")).focus();
  }

  document.addEventListener("DOMContentLoaded", () => init().catch((e) => App.toast(e.message, true)));
})();
