/* Live page: subscribes to /api/live/stream (server-sent events) and shows the newest snapshot. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const PHASE_NAMES = {
    idle: "Idle", calibrating: "Calibrating (stand still)", warmup: "Warm-up", feedback: "Feedback",
    no_feedback: "Feedback off", retention: "Retention", summary: "Summary", paused: "Paused",
  };
  const SHANK_GAUGE = [-10, 25];  // degrees shown on the overstride gauge
  let loggedIn = false;
  let last = null;
  let lastSession = null; // the session just run: pain after is recorded once it has stopped
  let lastRunnerName = null; // the runner of that session, named on its summary (the snapshot has none then)

  async function savePain() {
    if (!lastSession) return;
    const body = { notes: $("pain-note").value };
    if ($("pain-before").value !== "") body.pain_before = Number($("pain-before").value);
    if ($("pain-after").value !== "") body.pain_after = Number($("pain-after").value);
    try { await App.api("PUT", `/api/sessions/${lastSession}/pain`, body); App.toast("Saved"); }
    catch (err) { App.toast(err.message, true); }
  }

  /** Draw a band [lo, hi] and a marker at value on a 300x34 gauge spanning [min, max]. */
  function gauge(node, value, band, min, max) {
    node.replaceChildren();
    const x = (v) => 10 + (280 * (Math.min(max, Math.max(min, v)) - min)) / (max - min);
    node.append(App.svg("rect", { x: 10, y: 12, width: 280, height: 10, rx: 5, fill: "#eceef2" }));
    if (band) {
      node.append(App.svg("rect", { x: x(band[0]), y: 8, width: Math.max(2, x(band[1]) - x(band[0])), height: 18, rx: 4, fill: "#9ec5ff" }));
    }
    if (value !== null && value !== undefined) {
      const inBand = !band || (value >= band[0] && value <= band[1]);
      node.append(App.svg("rect", { x: x(value) - 3, y: 2, width: 6, height: 30, rx: 3, fill: inBand ? "#137a3a" : "#b3261e" }));
    }
  }

  function show(snapshot) {
    last = snapshot;
    const active = snapshot.session_id !== null; // a session runs, or its summary is shown
    const running = snapshot.runner !== null; // a session runs (not its summary)
    if (running) lastRunnerName = snapshot.runner.name;
    // Idle: the last session's step values are not this moment's; show none.
    const s = active ? snapshot : { ...snapshot, strike: null, foot_strike_angle_deg: null, shank_angle_deg: null, cadence_spm: null, strike_unsteady: false };
    $("runner-name").textContent = running ? s.runner.name
      : active ? (lastRunnerName ? `${lastRunnerName}: session ended` : "Session ended") : "No session";
    $("phase").textContent = PHASE_NAMES[s.phase] || s.phase;
    const fb = $("feedback");
    fb.textContent = s.feedback_on ? "on" : "off";
    fb.className = "pill " + (s.feedback_on ? "on" : "off");
    $("phase-left").textContent = App.duration(s.phase_time_left_s);
    $("session-left").textContent = App.duration(s.session_time_left_s);
    $("message").textContent = s.message || "";
    $("cadence").textContent = App.num(s.cadence_spm);
    $("cadence-target").textContent = App.num(s.cadence_target_spm);
    $("cadence-band").textContent = s.cadence_band ? App.num(s.cadence_band[0]) + "–" + App.num(s.cadence_band[1]) : "–";
    $("metronome").textContent = s.metronome_bpm ? App.num(s.metronome_bpm) + " bpm" : "silent";
    const cadenceInBand = s.cadence_band && s.cadence_spm !== null &&
      s.cadence_spm >= s.cadence_band[0] && s.cadence_spm <= s.cadence_band[1];
    $("cadence").className = "big" + (s.cadence_band && s.cadence_spm !== null ? (cadenceInBand ? " ok" : " bad") : "");
    const centre = s.cadence_target_spm || s.cadence_spm || 170;
    gauge($("cadence-gauge"), s.cadence_spm, s.cadence_band, centre - 25, centre + 25);
    // Aim midfoot means no rearfoot landings (forefoot is fine too); aim forefoot means forefoot only.
    const strikeOk = s.strike_target === "midfoot" ? ["midfoot", "forefoot"].includes(s.strike) : s.strike === s.strike_target;
    $("strike").textContent = (s.strike || "–") + (s.strike_unsteady ? " (unsteady)" : "");
    $("strike").className = "mid" + (s.strike_target && s.strike && !s.strike_unsteady ? (strikeOk ? " ok" : " bad") : "");
    $("strike-angle").textContent = App.num(s.foot_strike_angle_deg, 1);
    $("strike-target").textContent = s.strike_target || (active ? "not retrained" : "–");
    // The coach's rule: a landing overstrides when the shank angle is above the limit; any angle
    // at or below it (negative too) is fine. History draws the same limit from the same band.
    const limit = s.overstride_band ? s.overstride_band[1] : null;
    $("shank").textContent = App.num(s.shank_angle_deg, 1);
    $("shank").className = "big" + (limit !== null && s.shank_angle_deg !== null ? (s.shank_angle_deg <= limit ? " ok" : " bad") : "");
    $("shank-band").textContent = limit === null ? (active ? "not retrained" : "–") : "at most " + App.num(limit, 1) + "°";
    gauge($("shank-gauge"), s.shank_angle_deg, limit === null ? null : [-Infinity, limit], ...SHANK_GAUGE);
    // No session: no figures of the last one beside "No session".
    $("on-target").textContent = !active || s.on_target_share === null ? "–" : App.num(100 * s.on_target_share);
    $("steps").textContent = running ? s.steps : "–"; // the server counts a running session's steps only
    $("presence").textContent = s.runner_presence;
    const l = s.loop || {};
    $("loop-stats").textContent = `source ${s.source || "–"} · loop ${App.num(l.fps, 1)} fps · dropped ${l.dropped_frames || 0} · late ${l.deadline_misses || 0}`;
    if (loggedIn) {
      $("pain-card").classList.toggle("hidden", !active && !lastSession);
      if (active) lastSession = s.session_id;
      $("start-row").classList.toggle("hidden", running);
      $("run-row").classList.toggle("hidden", !running); // nothing to pause or stop on a summary
      $("pause").classList.toggle("hidden", s.phase === "paused");
      $("resume").classList.toggle("hidden", s.phase !== "paused");
    }
  }

  function connect() {
    const source = new EventSource("/api/live/stream");
    source.addEventListener("snapshot", (e) => {
      $("conn").classList.add("live");
      show(JSON.parse(e.data));
    });
    source.addEventListener("error", async () => {
      $("conn").classList.remove("live");
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. logged out): find out why instead of retrying blindly.
        try { await App.api("GET", "/api/live"); setTimeout(connect, 2000); } catch (err) { /* api() redirects on 401 */ }
      }
    });
  }

  async function loadRunners() {
    const runners = await App.api("GET", "/api/runners");
    const select = $("runner-select");
    select.replaceChildren(...runners.map((r) => App.el("option", { value: r.id }, r.name)));
    const wanted = App.param("runner");
    if (wanted) select.value = wanted;
    $("start").disabled = runners.length === 0;
  }

  async function control(path, body) {
    try {
      const result = await App.api("POST", path, body);
      show(result.snapshot || result);
    } catch (err) {
      App.toast(err.message, true);
    }
  }

  const MEASURE_WORDS = { hip_adduction: "hip adduction", pelvic_drop: "pelvic drop", knee_fppa: "knee angle" };

  /** The rear camera's last stance per side (the card shows only when a rear camera runs). */
  async function frontal() {
    const v = await App.api("GET", "/api/frontal");
    $("frontal-card").classList.toggle("hidden", !v.available);
    if (!v.available) return false;
    for (const side of ["left", "right"]) {
      const s = v[side];
      $(`frontal-${side}`).textContent = s.last_value === null ? "–" : App.num(s.last_value, 1);
      $(`frontal-${side}`).className = "big" + (s.in_band === false ? " bad" : s.in_band ? " ok" : "");
    }
    $("frontal-measure").textContent = MEASURE_WORDS[v.measure] || v.measure;
    $("frontal-limit").textContent = v.limit_deg === null ? "–" : `${App.num(v.limit_deg, 1)}°`;
    return true;
  }

  async function init() {
    const status = await App.api("GET", "/api/auth/status");
    loggedIn = status.logged_in;
    if (!loggedIn && !status.public_live_view) { App.loginRedirect(); return; }
    $("controls").classList.toggle("hidden", !loggedIn);
    $("logout").classList.toggle("hidden", !loggedIn);
    if (loggedIn) {
      await loadRunners();
      $("start").addEventListener("click", () => control("/api/session/start", { runner_id: Number($("runner-select").value) }));
      $("pause").addEventListener("click", () => control("/api/session/pause"));
      $("resume").addEventListener("click", () => control("/api/session/resume"));
      $("stop").addEventListener("click", () => control("/api/session/stop"));
      for (const id of ["pain-before", "pain-after"]) {
        $(id).replaceChildren(App.el("option", { value: "" }, "–"),
          ...Array.from({ length: 11 }, (_, i) => App.el("option", { value: i }, String(i))));
      }
      $("pain-save").addEventListener("click", savePain);
    } else {
      document.querySelector("nav").classList.add("hidden");
    }
    connect();
    // Without a rear camera one look is enough; with one, its stances every second.
    if (await frontal().catch(() => false)) setInterval(() => frontal().catch(() => {}), 1000);
  }

  document.addEventListener("DOMContentLoaded", () => init().catch((e) => App.toast(e.message, true)));
  window.LivePage = { last: () => last };
})();
