/* Mirror page: full screen on a tablet or TV in front of the treadmill. The rear camera's runner
   drawn as pelvis and legs, each leg green within the frontal band and red above it, each side's
   last stance in large figures; only while the coach's feedback is on (it fades with the
   schedule, as the screen feedback of the trials did). No name is shown. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const COLOURS = { in: "#22c55e", out: "#ef4444", none: "#9ca3af" };
  const MEASURE = { hip_adduction: "hip", pelvic_drop: "pelvis", knee_fppa: "knee" };
  let last = null;

  function colour(inBand) {
    return inBand === true ? COLOURS.in : inBand === false ? COLOURS.out : COLOURS.none;
  }

  function draw(v) {
    const canvas = $("mirror-canvas");
    const w = (canvas.width = canvas.clientWidth);
    const h = (canvas.height = canvas.clientHeight);
    const g = canvas.getContext("2d");
    g.fillStyle = "#0b0d10";
    g.fillRect(0, 0, w, h);
    if (!v.feedback) return;
    // Fit the pelvis and legs (not the whole image) into the screen's middle, with a margin.
    const pts = [v.left, v.right].filter((x) => x.points).flatMap((x) => Object.values(x.points));
    if (!pts.length) return;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const bw = Math.max(...xs) - Math.min(...xs), bh = Math.max(...ys) - Math.min(...ys);
    const s = Math.min((0.8 * w) / Math.max(bw, bh * 0.5, 1), (0.6 * h) / Math.max(bh, 1));
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    const at = (p) => [w / 2 + (p[0] - cx) * s, h * 0.55 + (p[1] - cy) * s];
    const line = (a, b, c, width) => {
      g.strokeStyle = c; g.lineWidth = width; g.lineCap = "round";
      g.beginPath(); g.moveTo(...at(a)); g.lineTo(...at(b)); g.stroke();
    };
    const L = v.left.points, R = v.right.points;
    if (L && R) line(L.hip, R.hip, "#e5e7eb", 10);
    for (const side of [v.left, v.right]) {
      if (!side.points) continue;
      const c = colour(side.in_band);
      line(side.points.hip, side.points.knee, c, 14);
      line(side.points.knee, side.points.ankle, c, 10);
    }
  }

  function figure(el, label, side, v) {
    if (!v.feedback || side.last_value === null) { el.replaceChildren(); return; }
    el.style.color = colour(side.in_band);
    el.replaceChildren(App.el("div", { class: "mirror-label" }, `${label} ${MEASURE[v.measure] || ""}`),
      App.el("div", { class: "mirror-value" }, App.num(side.last_value, 0) + "°"));
  }

  function show(v) {
    last = v;
    draw(v);
    figure($("mirror-left"), "left", v.left, v);
    figure($("mirror-right"), "right", v.right, v);
    let message = v.message || "";
    if (v.available && !v.feedback) message = "Keep it going";
    else if (v.available && v.limit_deg !== null) message = `stay under ${App.num(v.limit_deg, 0)}°`;
    $("mirror-message").textContent = message;
    // A setting's dotted name is one long word at this size: let it break rather than run off the screen.
    $("mirror-message").style.overflowWrap = "anywhere";
  }

  async function tick() {
    try { show(await App.api("GET", "/api/frontal")); }
    catch (err) { $("mirror-message").textContent = err.message; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.body.classList.add("mirror-page");
    window.addEventListener("resize", () => last && draw(last));
    tick();
    setInterval(tick, 150);
  });
  window.MirrorPage = { last: () => last };
})();
