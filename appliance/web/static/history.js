/* History page: a runner's sessions, and for one session its per-step charts (feedback blocks
   shaded), pain before/after and notes beside the metrics, CSV/JSON downloads, and a printable
   report (the browser's print, or save as PDF: app.css's print rules keep the session alone), with
   the rear camera's figures per side when the session had them. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function painSelect(id, value) {
    return App.el("select", { id }, App.el("option", { value: "" }, "–"),
      ...Array.from({ length: 11 }, (_, i) => App.el("option", { value: i, selected: value === i }, String(i))));
  }

  function median(values) {
    const v = values.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
    return v.length ? v[Math.floor(v.length / 2)] : null;
  }

  /** The strike class limits in force, and the session's strike limit when its tolerance moved it off them. */
  function strikeRefs(series) {
    const rear = series.rearfoot_above_deg, fore = series.forefoot_below_deg, limit = series.strike_limit_deg;
    const refs = [{ value: rear, label: `rearfoot > ${App.num(rear, 1)}°` }, { value: fore, label: `forefoot < ${App.num(fore, 1)}°` }];
    if (limit !== null && limit !== rear && limit !== fore) refs.push({ value: limit, label: "limit " + App.num(limit, 1) + "°" });
    return refs;
  }

  const MEASURE_WORDS = { hip_adduction: "Hip adduction", pelvic_drop: "Pelvic drop", knee_fppa: "Knee angle (valgus +)" };

  /** One chart per side of the rear camera's stances, with the coach's median and the session's limit. */
  function frontalCharts(series) {
    const f = series.frontal;
    if (!f) return [];
    const refs = f.limit_deg === null ? [] : [{ value: f.limit_deg, label: "limit " + App.num(f.limit_deg, 1) + "°" }];
    const charts = ["left", "right"].map((side) => {
      const keep = f.foot.map((x) => x === side);
      const pick = (values) => values.filter((_, i) => keep[i]);
      return Charts.line({ metric: `frontal-${side}`, title: `${MEASURE_WORDS[f.measure] || f.measure}, ${side} (rear camera)`,
        unit: "°", t: pick(f.t_s), y: pick(f.value_deg), valid: pick(f.value_deg).map(() => true), blocks: series.blocks,
        median: pick(f.median_deg), refs });
    });
    return [...charts, App.el("p", { class: "help", id: "frontal-note" }, `Dots: each stance's peak. Line: median of that side's last `
      + `${series.median_steps} stances, what the coach judges. ` + (f.limit_deg === null ? "Not retrained in this session." : "Above the limit is collapsing."))];
  }

  const FRONTAL_ROWS = [
    ["pelvic_drop_deg", "Pelvic drop (°)", 1], ["hip_adduction_deg", "Hip adduction (°)", 1],
    ["knee_fppa_deg", "Knee angle, valgus + (°)", 1], ["foot_lateral_hw", "Foot from midline (hip widths; < 0 crossover)", 2],
  ];

  /** The rear camera's figures per side from the session's summary (each stance's peak, median), for
      the screen and the printed report; the target's measure while retraining against its limit. */
  function frontalTable(summary) {
    const f = summary && summary.frontal;
    if (!f) return null;
    const cells = (medians, key, digits) => ["left", "right"].map((side) => App.el("td", {}, App.num(medians[side][key], digits)));
    const rows = FRONTAL_ROWS.map(([key, label, digits]) => App.el("tr", { "data-measure": key }, App.el("th", {}, label), ...cells(f.session, key, digits)));
    rows.push(App.el("tr", {}, App.el("th", {}, "Stances"), ...["left", "right"].map((side) => App.el("td", {}, String(f.session[side].stances)))));
    if (f.measure && f.said_for === "retraining") {
      const key = f.measure + "_deg";
      const judged = (side) => {
        const v = f.said[side][key];
        const over = f.limit_deg !== null && v !== null && v > f.limit_deg;
        return App.el("td", { class: v === null ? "" : over ? "bad" : "ok" }, App.num(v, 1) + (v === null ? "" : over ? " (over)" : ""));
      };
      rows.push(App.el("tr", { id: "frontal-retraining" }, App.el("th", {},
        `${MEASURE_WORDS[f.measure] || f.measure} while retraining` + (f.limit_deg === null ? "" : ` (limit ${App.num(f.limit_deg, 1)}°)`)),
        judged("left"), judged("right")));
    }
    return App.el("div", { id: "frontal-summary" },
      App.el("div", { class: "label" }, "Knees and hips (rear camera)"),
      App.el("table", { id: "frontal-table" }, App.el("tr", {}, App.el("th", {}, "Median of each stance's peak"),
        App.el("th", {}, "Left"), App.el("th", {}, "Right")), ...rows),
      App.el("p", { class: "help" }, "Measured in the rear camera's image (2-D), not the 3-D joint angles of a gait lab."));
  }

  async function openSession(id) {
    const series = await App.api("GET", `/api/sessions/${id}/series`);
    const s = series.session;
    const valid = series.valid;
    const cadenceRefs = [];
    if (s.target_cadence_spm) cadenceRefs.push({ value: s.target_cadence_spm, label: "target " + App.num(s.target_cadence_spm) });
    if (s.baseline_cadence_spm) cadenceRefs.push({ value: s.baseline_cadence_spm, label: "baseline " + App.num(s.baseline_cadence_spm) });
    const notes = App.el("textarea", { id: "notes", maxLength: 4000 }, s.notes || "");
    const before = painSelect("pain-before", s.pain_before);
    const after = painSelect("pain-after", s.pain_after);
    const save = App.el("button", { type: "button", class: "primary", onclick: async () => {
      const body = { notes: notes.value };
      if (before.value !== "") body.pain_before = Number(before.value);
      if (after.value !== "") body.pain_after = Number(after.value);
      try { await App.api("PUT", `/api/sessions/${id}/pain`, body); App.toast("Saved"); await loadSessions(); }
      catch (err) { App.toast(err.message, true); }
    } }, "Save pain and notes");
    const summary = [
      ["Steps", series.t_s.length],
      ["Median cadence", App.num(median(series.cadence_spm.filter((_, i) => valid[i]))) + " steps/min"],
      ["Baseline → target", `${App.num(s.baseline_cadence_spm)} → ${App.num(s.target_cadence_spm)}`],
      ["Median shank angle", App.num(median(series.shank_angle_deg.filter((_, i) => valid[i])), 1) + "°"],
      ["Pain before / after", `${s.pain_before ?? "–"} / ${s.pain_after ?? "–"}`],
      ["Spoken cues", s.cue_count],
    ];
    const sum = s.summary || {};
    const unsteady = (sum.cues_withheld || {}).strike_unsteady || 0;
    const PHASES = [["warmup", "Warm-up"], ["feedback_on", "Feedback on"], ["feedback_off", "Feedback off"], ["retention", "Retention"]];
    const phaseRows = PHASES.filter(([k]) => sum.phases && sum.phases[k]).map(([k, label]) => {
      const p = sum.phases[k];
      const pct = Object.entries(p.on_target_pct || {}).map(([m, v]) => `${m} ${App.num(v)} %`).join(", ");
      return App.el("tr", {}, App.el("td", {}, label), App.el("td", {}, String(p.valid_steps)), App.el("td", {}, App.num(p.cadence_spm)),
        App.el("td", {}, pct || "–"));
    });
    const runnerName = $("runner-select").selectedOptions[0] ? $("runner-select").selectedOptions[0].textContent : "";
    $("session-detail").replaceChildren(App.el("div", { class: "card", id: "session-card" },
      App.el("h2", {}, `${runnerName} · Session ${s.session_number} · ${App.when(Date.parse(s.started) / 1000)} · ${s.state}`),
      App.el("table", {}, App.el("tbody", {}, ...summary.map(([k, v]) => App.el("tr", {}, App.el("th", {}, k), App.el("td", {}, String(v)))))),
      sum.sentences ? App.el("p", { class: "sub", id: "summary-sentences" }, sum.sentences.join(" ")) : null,
      unsteady ? App.el("div", { class: "warnbox", id: "strike-unsteady" }, `⚠ Foot strike not judged on ${unsteady} steps: `
        + "the feet were seen too unsteadily to measure it (see the set-up page's advice), so no strike cue was given on them.") : null,
      phaseRows.length ? App.el("table", { id: "phase-table" }, App.el("tr", {}, App.el("th", {}, "Block"), App.el("th", {}, "Steps"),
        App.el("th", {}, "Cadence"), App.el("th", {}, "On target")), ...phaseRows) : null,
      App.el("p", { class: "help" }, "Shaded: feedback on. Orange rings: steps not valid (not measured well enough; never cued on)."),
      Charts.line({ metric: "cadence", title: "Cadence", unit: "steps/min", t: series.t_s, y: series.cadence_spm, valid, blocks: series.blocks, refs: cadenceRefs }),
      Charts.line({ metric: "strike", title: "Foot-strike angle", unit: "°", t: series.t_s, y: series.foot_strike_angle_deg, valid, blocks: series.blocks,
        median: series.foot_strike_median_deg, refs: strikeRefs(series) }),
      App.el("p", { class: "help" }, `Dots: each step. Line: median of the last ${series.median_steps} valid steps, what the coach judges the strike by.`),
      Charts.line({ metric: "overstride", title: "Shank angle at contact", unit: "°", t: series.t_s, y: series.shank_angle_deg, valid, blocks: series.blocks,
        median: series.shank_median_deg,
        refs: series.overstride_limit_deg === null ? [] : [{ value: series.overstride_limit_deg, label: "limit " + App.num(series.overstride_limit_deg, 1) + "°" }] }),
      App.el("p", { class: "help", id: "overstride-note" }, `Dots: each landing. Line: median of the last ${series.median_steps} valid steps. ` +
        (series.overstride_limit_deg === null ? "Overstride was not retrained in this session."
          : `Above the limit is overstriding: the same limit the live view showed (the coach judges each landing).`)),
      frontalTable(sum),
      ...frontalCharts(series),
      App.el("div", { class: "row" },
        App.el("label", { class: "field" }, App.el("span", {}, "Pain before (0–10)"), before),
        App.el("label", { class: "field" }, App.el("span", {}, "Pain after (0–10)"), after)),
      App.el("label", { class: "field" }, App.el("span", {}, "Notes"), notes),
      App.el("p", { class: "print-only", id: "notes-printed" }, s.notes ? "Notes: " + s.notes : ""),
      App.el("div", { class: "row" }, save,
        App.el("a", { class: "button", href: `/api/sessions/${id}/export?format=csv`, download: `session-${id}.csv` }, "CSV"),
        App.el("a", { class: "button", href: `/api/sessions/${id}/export?format=json`, download: `session-${id}.json` }, "JSON"),
        App.el("button", { type: "button", id: "print-session", onclick: () => window.print() }, "Print / PDF"))));
    $("session-detail").scrollIntoView({ block: "start" });
  }

  async function loadSessions() {
    const runnerId = $("runner-select").value;
    if (!runnerId) { $("session-list").replaceChildren(App.el("p", { class: "sub" }, "No runners yet.")); return; }
    const sessions = await App.api("GET", "/api/sessions?runner_id=" + runnerId);
    if (!sessions.length) { $("session-list").replaceChildren(App.el("p", { class: "sub" }, "No sessions yet.")); return; }
    const ordered = [...sessions].reverse();
    const phaseCadence = (x, k) => (x.summary && x.summary.phases && x.summary.phases[k] ? x.summary.phases[k].cadence_spm : null);
    const progress = Charts.progress({
      title: "Cadence across sessions",
      x: ordered.map((x) => x.session_number),
      series: [
        { name: "target", color: "#1d4ed8", dashed: true, values: ordered.map((x) => x.target_cadence_spm) },
        { name: "baseline", color: "#5b6270", values: ordered.map((x) => x.baseline_cadence_spm) },
        { name: "retention", color: "#137a3a", values: ordered.map((x) => phaseCadence(x, "retention")) },
      ],
    });
    const painRecorded = ordered.some((x) => x.pain_before !== null || x.pain_after !== null);
    const pain = painRecorded && Charts.progress({
      title: "Pain across sessions",
      x: ordered.map((x) => x.session_number),
      series: [
        { name: "pain before", color: "#a35b00", values: ordered.map((x) => x.pain_before) },
        { name: "pain after", color: "#b3261e", values: ordered.map((x) => x.pain_after) },
      ],
    });
    const noPain = App.el("p", { class: "sub" }, "Pain across sessions: none recorded yet (open a session to add it).");
    $("session-list").replaceChildren(App.el("div", { class: "label" }, "Progress"), progress, pain || noPain, App.el("table", {},
      App.el("tr", {}, App.el("th", {}, "#"), App.el("th", {}, "Date"), App.el("th", {}, "Cadence"), App.el("th", {}, "Pain"), App.el("th", {}, "")),
      ...sessions.map((s) => App.el("tr", {},
        App.el("td", {}, String(s.session_number)),
        App.el("td", {}, App.when(Date.parse(s.started) / 1000), App.el("div", { class: "sub" }, `${s.state}, ${s.step_count} steps`)),
        App.el("td", {}, `${App.num(s.baseline_cadence_spm)} → ${App.num(s.target_cadence_spm)}`,
          App.el("div", { class: "sub" }, "baseline → target"),
          phaseCadence(s, "retention") !== null ? App.el("div", { class: "sub" }, `kept ${App.num(phaseCadence(s, "retention"))}`) : null),
        App.el("td", {}, `${s.pain_before ?? "–"} / ${s.pain_after ?? "–"}`, s.notes ? App.el("div", { class: "sub" }, s.notes) : null),
        App.el("td", {}, App.el("button", { type: "button", class: "open-session", onclick: () => openSession(s.id) }, "Open"))))));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const runners = await App.api("GET", "/api/runners?include_archived=true");
      $("runner-select").replaceChildren(...runners.map((r) => App.el("option", { value: r.id }, r.name + (r.archived ? " (archived)" : ""))));
      const wanted = App.param("runner");
      if (wanted) $("runner-select").value = wanted;
      $("runner-select").addEventListener("change", () => { $("session-detail").replaceChildren(); loadSessions(); });
      await loadSessions();
      const session = App.param("session");
      if (session) await openSession(Number(session));
    } catch (err) {
      App.toast(err.message, true);
    }
  });
})();
