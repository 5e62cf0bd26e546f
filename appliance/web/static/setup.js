/* Set-up page: camera snapshot with skeleton and belt line, framing advice, output tests. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  async function refresh() {
    const button = $("refresh");
    button.disabled = true;
    try {
      const snap = await App.api("GET", "/api/setup/snapshot");
      $("snapshot").src = "data:image/jpeg;base64," + snap.jpeg_base64;
      $("snapshot").width = snap.width;
      $("snapshot").height = snap.height;
      const advice = snap.advice.length ? snap.advice : ["Framing looks good."];
      $("advice").replaceChildren(...advice.map((a) => App.el("li", { class: snap.advice.length ? "warn" : "ok" }, a)));
      if (snap.simulated) $("advice").append(App.el("li", { class: "sub" }, "Simulated runner (no camera)."));
    } catch (err) {
      $("advice").replaceChildren(App.el("li", { class: "error" }, err.message));
    } finally {
      button.disabled = false;
    }
  }

  async function testOutput(kind, button) {
    button.disabled = true;
    try {
      const result = await App.api("POST", "/api/setup/test/" + kind);
      App.toast(result.message);
    } catch (err) {
      App.toast(err.message, true);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("refresh").addEventListener("click", refresh);
    for (const b of document.querySelectorAll("[data-test]")) {
      b.addEventListener("click", () => testOutput(b.dataset.test, b));
    }
    refresh();
  });
})();
