/* Health page: loop rate, dropped and late frames, temperature and throttling, disk, version;
   each figure with a line saying what it means. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STAGE_NAMES = {
    frame_age: "Frame wait", pose: "Pose model", feet: "Foot pixels", looks: "Foot angle (larger model)",
    gait: "Step detection", session: "Coaching and recording", outputs: "Sound and lights",
    coach: "Coaching", record: "Recording", frontal: "Rear camera",
  };
  const STAGE_HELP = {
    frame_age: "How long the newest camera frame waited before the loop took it.",
    pose: "Finding the runner's joints in the frame.",
  };

  function row(label, value, cls, help) {
    return App.el("tr", {}, App.el("th", {}, label),
      App.el("td", { class: cls || "" }, value, help ? App.el("div", { class: "help" }, help) : null));
  }

  function share(count, frames) {
    if (!frames) return String(count);
    return `${count} of ${frames} (${App.num((100 * count) / frames, 1)} %)`;
  }

  function stageName(key) {
    if (key.startsWith("pose.")) return "Pose model: " + key.slice(5);
    return STAGE_NAMES[key] || key;
  }

  function backupRow(b) {
    if (!b) return row("Last backup", "off", "warn", "No scheduled backup: set a USB drive label (Settings, Backup) or a directory in the settings file. \"Download a backup now\" below works either way.");
    const when = App.when(Date.parse(b.finished) / 1000);
    return row("Last backup", (b.ok ? "done " : "FAILED ") + when, b.ok && !b.same_disk ? "ok" : "bad", b.message);
  }

  /** One row per loop stage that has failed since the start, and whether cues were held back. */
  function faultRows(h) {
    const rows = (h.stage_faults || []).map((f) => row(
      "Failing step: " + (STAGE_NAMES[f.stage] || f.stage),
      f.failing_for_s !== null ? `failing for ${App.duration(f.failing_for_s)}` : `${f.failures} frames, last ${App.duration(f.seconds_since_last)} ago`,
      f.failing_for_s !== null || f.kept_running ? "bad" : "warn",
      `${f.last_error}${f.kept_running ? " — it failed the same way after a restart, so the appliance runs without it: fix the setting it names." : ""}`));
    if (h.cues_paused) rows.push(row("Cues held back", String(h.cues_paused), "warn", "Cues not given while a step of the analysis was failing: a wrong measure is never cued."));
    return rows;
  }

  async function load() {
    const [h, live] = await Promise.all([App.api("GET", "/api/health"), App.api("GET", "/api/live")]);
    const loop = live.loop || {};
    const gb = (b) => (b / 1e9).toFixed(1) + " GB";
    $("health-table").tBodies[0].replaceChildren(
      row("Recording", h.recording_fault ? "FAILING" : "ok", h.recording_fault ? "bad" : "ok",
        h.recording_fault ? `${h.recording_fault} ${h.writes_waiting} steps are kept in memory and written when it works again.`
          : "Every step is stored as it is measured." + (h.writes_lost ? ` ${h.writes_lost} were lost since the start.` : "")),
      ...faultRows(h),  // problems first
      row("Control loop", App.num(h.loop_hz, 1) + " frames/s" + (h.loop_healthy ? "" : " — stalled"), h.loop_healthy ? "ok" : "bad",
        "Camera frames analysed per second."),
      row("Dropped frames", share(h.dropped_frames, loop.frames), "",
        "Frames the camera replaced before the loop could take them: the loop was busy. A few are harmless."),
      row("Late frames", share(h.deadline_misses, loop.frames), "",
        "Frames whose analysis took longer than one frame period (the deadline). Many late frames mean the appliance is too slow for the frame rate."),
      row("CPU temperature", h.cpu_temperature_c === null ? "n/a (not a Pi)" : App.num(h.cpu_temperature_c, 1) + " °C"),
      row("Throttling", h.throttled === null ? "n/a (not a Pi)" : h.throttled ? "yes — check power and cooling" : "no",
        h.throttled ? "bad" : ""),
      row("Disk free", gb(h.disk_free_bytes), h.disk_free_bytes < 1e9 ? "warn" : ""),
      row("Frame source", h.source || "–"),
      row("Pose model", h.model_loaded ? "loaded" : "not loaded"),
      backupRow(h.backup),
      row("Version", h.version),
      row("Up for", App.duration(h.uptime_s)),
    );
    const stages = Object.entries(loop.stage_ms || {});
    $("stage-table").tBodies[0].replaceChildren(...stages.map(([k, v]) => row(stageName(k), App.num(v, 2) + " ms", "", STAGE_HELP[k])));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tick = () => load().catch((e) => App.toast(e.message, true));
    tick();
    setInterval(tick, 3000);
  });
})();
