/* Health page: loop rate, dropped frames, temperature and throttling, disk, version. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function row(label, value, cls) {
    return App.el("tr", {}, App.el("th", {}, label), App.el("td", { class: cls || "" }, value));
  }

  async function load() {
    const [h, live] = await Promise.all([App.api("GET", "/api/health"), App.api("GET", "/api/live")]);
    const gb = (b) => (b / 1e9).toFixed(1) + " GB";
    $("health-table").tBodies[0].replaceChildren(
      row("Control loop", App.num(h.loop_hz, 1) + " Hz" + (h.loop_healthy ? "" : " — stalled"), h.loop_healthy ? "ok" : "bad"),
      row("Dropped frames", String(h.dropped_frames)),
      row("Deadline misses", String(h.deadline_misses)),
      row("CPU temperature", h.cpu_temperature_c === null ? "n/a (not a Pi)" : App.num(h.cpu_temperature_c, 1) + " °C"),
      row("Throttling", h.throttled === null ? "n/a (not a Pi)" : h.throttled ? "yes — check power and cooling" : "no",
        h.throttled ? "bad" : ""),
      row("Disk free", gb(h.disk_free_bytes), h.disk_free_bytes < 1e9 ? "warn" : ""),
      row("Frame source", h.source || "–"),
      row("Pose model", h.model_loaded ? "loaded" : "not loaded"),
      row("Version", h.version),
      row("Up for", App.duration(h.uptime_s)),
    );
    const stages = Object.entries((live.loop || {}).stage_ms || {});
    $("stage-table").tBodies[0].replaceChildren(...stages.map(([k, v]) => row(k, App.num(v, 2) + " ms")));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tick = () => load().catch((e) => App.toast(e.message, true));
    tick();
    setInterval(tick, 3000);
  });
})();
