/* Inline SVG time-series charts: one metric per chart over session time, feedback blocks shaded,
   reference lines (target, class limits), invalid steps left out of the line and marked grey. */
"use strict";

const Charts = (() => {
  const W = 360, H = 170, L = 40, R = 8, T = 22, B = 24;

  function niceRange(values, refs) {
    const all = values.filter((v) => v !== null && Number.isFinite(v)).concat(refs.map((r) => r.value));
    if (!all.length) return [0, 1];
    let lo = Math.min(...all), hi = Math.max(...all);
    if (hi - lo < 1e-6) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.08;
    return [lo - pad, hi + pad];
  }

  function ticks(lo, hi, n) {
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
    const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) || step * 10;
    const out = [];
    for (let v = Math.ceil(lo / nice) * nice; v <= hi; v += nice) out.push(Number(v.toFixed(6)));
    return out;
  }

  /**
   * opts: {title, unit, t: [s], y: [value|null], valid: [bool], blocks: [{start_s, end_s, feedback_on, phase}],
   *        refs: [{value, label}], median: [value|null] (optional)}
   * Without a median the valid steps are joined by a line; with one, each valid step is a dot and
   * the median is the line. Steps that were not valid are hollow rings, never joined.
   */
  function line(opts) {
    const t = opts.t, y = opts.y;
    const tMax = Math.max(1, t.length ? t[t.length - 1] : 1);
    const [lo, hi] = niceRange(y, opts.refs || []);
    const sx = (v) => L + ((W - L - R) * v) / tMax;
    const sy = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
    const S = App.svg;
    const root = S("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": opts.title, "data-metric": opts.metric });
    root.append(S("title", {}, opts.title));
    for (const b of opts.blocks || []) {
      if (!b.feedback_on) continue;
      root.append(S("rect", { class: "feedback-block", x: sx(b.start_s), y: T, width: Math.max(1, sx(b.end_s) - sx(b.start_s)),
        height: H - T - B, fill: "#fff1c2" }));
    }
    for (const v of ticks(lo, hi, 4)) {
      root.append(S("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), stroke: "#e3e6eb" }));
      root.append(S("text", { x: L - 4, y: sy(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#5b6270" }, String(v)));
    }
    const inMinutes = tMax >= 180;
    for (const v of ticks(0, inMinutes ? tMax / 60 : tMax, 5)) {
      const label = inMinutes ? v + " min" : v + " s";
      root.append(S("text", { x: sx(inMinutes ? v * 60 : v), y: H - 8, "text-anchor": "middle", "font-size": 10, fill: "#5b6270" }, label));
    }
    for (const r of opts.refs || []) {
      root.append(S("line", { x1: L, x2: W - R, y1: sy(r.value), y2: sy(r.value), stroke: "#1d4ed8", "stroke-dasharray": "4 3" }));
    }
    const measured = (v) => v !== null && Number.isFinite(v);
    // A path through consecutive measured values; gaps break it.
    function path(values, keep) {
      let d = "", pen = false, points = 0;
      for (let i = 0; i < t.length; i++) {
        if (measured(values[i]) && keep(i)) { d += (pen ? "L" : "M") + sx(t[i]).toFixed(1) + " " + sy(values[i]).toFixed(1); pen = true; points++; }
        else pen = false;
      }
      return [d, points];
    }
    let invalid = 0;
    for (let i = 0; i < t.length; i++) {
      if (!measured(y[i])) continue;
      if (!opts.valid[i]) {
        invalid++;
        root.append(S("circle", { cx: sx(t[i]), cy: sy(y[i]), r: 2, fill: "none", stroke: "#c2410c", "stroke-width": 0.8, class: "invalid-step" }));
      } else if (opts.median) {
        root.append(S("circle", { cx: sx(t[i]), cy: sy(y[i]), r: 1.3, fill: "#9aa1ad", class: "step" }));
      }
    }
    const [d, points] = path(y, (i) => opts.valid[i]);
    if (opts.median) {
      const [md, mpoints] = path(opts.median, () => true);
      root.append(S("path", { d: md, fill: "none", stroke: "#16181d", "stroke-width": 2, class: "series median", "data-points": mpoints }));
    } else {
      root.append(S("path", { d, fill: "none", stroke: "#16181d", "stroke-width": 1.4, class: "series", "data-points": points }));
    }
    root.setAttribute("data-steps", points);
    root.setAttribute("data-invalid", invalid);
    // Reference labels over the series, with a white halo, so the line never hides them.
    for (const r of opts.refs || []) {
      root.append(S("text", { x: W - R - 2, y: sy(r.value) - 3, "text-anchor": "end", "font-size": 10, fill: "#1d4ed8",
        stroke: "#fff", "stroke-width": 3, "paint-order": "stroke", class: "ref-label" }, r.label));
    }
    root.append(S("text", { x: L, y: 14, "font-size": 12, "font-weight": 700, fill: "#16181d" }, opts.title + (opts.unit ? ` (${opts.unit})` : "")));
    return root;
  }

  /**
   * Progress across sessions: one marker line per series over session numbers.
   * opts: {title, unit, x: [session number], series: [{name, color, values: [number|null]}]}
   */
  function progress(opts) {
    const S = App.svg;
    const all = opts.series.flatMap((s) => s.values);
    const [lo, hi] = niceRange(all, []);
    const n = Math.max(2, opts.x.length);
    const sx = (i) => L + 10 + ((W - L - R - 20) * i) / (n - 1);
    const sy = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
    const root = S("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": opts.title, "data-metric": "progress" });
    root.append(S("title", {}, opts.title));
    for (const v of ticks(lo, hi, 4)) {
      root.append(S("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), stroke: "#e3e6eb" }));
      root.append(S("text", { x: L - 4, y: sy(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#5b6270" }, String(v)));
    }
    opts.x.forEach((label, i) => root.append(S("text", { x: sx(i), y: H - 8, "text-anchor": "middle", "font-size": 10, fill: "#5b6270" }, "#" + label)));
    let legendX = L;
    for (const s of opts.series) {
      let d = "", pen = false;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) { pen = false; return; }
        d += (pen ? "L" : "M") + sx(i).toFixed(1) + " " + sy(v).toFixed(1); pen = true;
        root.append(S("circle", { cx: sx(i), cy: sy(v), r: 3, fill: s.color }));
      });
      root.append(S("path", { d, fill: "none", stroke: s.color, "stroke-width": 1.5, "stroke-dasharray": s.dashed ? "4 3" : null }));
      root.append(S("text", { x: legendX, y: 14, "font-size": 10, fill: s.color, "font-weight": 700 }, s.name));
      legendX += 8 + 6 * s.name.length;
    }
    return root;
  }

  return { line, progress };
})();
