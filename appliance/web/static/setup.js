/* Set-up page: each camera's newest image with the pose drawn and framing advice (the side camera:
   skeleton and belt line; the rear camera, when there is one: hips, knees, ankles and the hip line),
   and the output tests. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function showImage(img, snap) {
    img.src = "data:image/jpeg;base64," + snap.jpeg_base64;
    img.width = snap.width;
    img.height = snap.height;
    img.classList.remove("hidden");
  }

  function adviceItems(advice) {
    const items = advice.length ? advice : ["Framing looks good."];
    return items.map((a) => App.el("li", { class: advice.length ? "warn" : "ok" }, a));
  }

  async function refreshSide() {
    try {
      const snap = await App.api("GET", "/api/setup/snapshot");
      showImage($("snapshot"), snap);
      $("advice").replaceChildren(...adviceItems(snap.advice));
      if (snap.simulated) $("advice").append(App.el("li", { class: "sub" }, "Simulated runner (no camera)."));
    } catch (err) {
      $("advice").replaceChildren(App.el("li", { class: "error" }, err.message));
    }
  }

  /** The rear camera's image and advice, or (without one) how to add one. */
  async function refreshRear() {
    try {
      const snap = await App.api("GET", "/api/setup/rear-snapshot");
      if (!snap.available) {
        $("rear-snapshot").classList.add("hidden");
        $("rear-advice").replaceChildren(App.el("li", { class: "sub", id: "rear-missing" }, snap.message,
          " ", App.el("a", { href: "/settings" }, "Open Settings")));
        $("rear-notes").replaceChildren();
        return;
      }
      showImage($("rear-snapshot"), snap);
      $("rear-advice").replaceChildren(...adviceItems(snap.advice));
      const notes = [...snap.notes];
      if (snap.simulated) notes.push("Simulated runner (no camera).");
      $("rear-notes").replaceChildren(...notes.map((n) => App.el("li", {}, n)));
    } catch (err) {
      $("rear-advice").replaceChildren(App.el("li", { class: "error" }, err.message));
    }
  }

  async function refresh() {
    const button = $("refresh");
    button.disabled = true;
    try {
      await Promise.all([refreshSide(), refreshRear()]);
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
