/* Settings page: a form built from the server's description of every setting; the server
   validates, and a refused value is shown beside its field with the reason. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let fields = [];
  const changed = new Map();

  function rangeText(f) {
    const lo = f.minimum ?? f.exclusive_minimum;
    const hi = f.maximum ?? f.exclusive_maximum;
    if (lo === null && hi === null) return "";
    const l = lo === null ? "" : (f.exclusive_minimum !== null ? "> " : "") + lo;
    const h = hi === null ? "" : (f.exclusive_maximum !== null ? "< " : "") + hi;
    return lo !== null && hi !== null ? `${l} – ${h}` : l ? `≥ ${l}` : `≤ ${h}`;
  }

  function parseValue(f, input) {
    if (f.kind === "boolean") return input.checked;
    const raw = input.value.trim();
    if (raw === "" && f.nullable) return null;
    if (f.kind === "integer" || f.kind === "number") return raw === "" ? raw : Number(raw);
    if (f.kind === "object") { try { return JSON.parse(raw); } catch (e) { return raw; } }
    return input.value;
  }

  function inputFor(f) {
    const id = "f-" + f.path.replace(/\W/g, "-");
    let input;
    if (f.kind === "boolean") {
      input = App.el("input", { id, type: "checkbox", checked: Boolean(f.value) });
    } else if (f.kind === "choice") {
      input = App.el("select", { id }, ...(f.nullable ? [App.el("option", { value: "" }, "(none)")] : []),
        ...f.choices.map((c) => App.el("option", { value: c, selected: c === f.value }, c)));
    } else if (f.kind === "object") {
      input = App.el("textarea", { id, spellcheck: false }, JSON.stringify(f.value, null, 1));
    } else {
      const numeric = f.kind === "integer" || f.kind === "number";
      input = App.el("input", {
        id, type: numeric ? "number" : "text", value: f.value === null ? "" : String(f.value),
        step: f.kind === "integer" ? "1" : "any", inputMode: numeric ? "decimal" : "text",
      });
      if (f.minimum !== null) input.min = f.minimum;
      if (f.maximum !== null) input.max = f.maximum;
    }
    input.disabled = !f.editable;
    input.name = f.path;
    input.addEventListener("input", () => { changed.set(f.path, parseValue(f, input)); markDirty(); });
    input.addEventListener("change", () => { changed.set(f.path, parseValue(f, input)); markDirty(); });
    return input;
  }

  function markDirty() {
    $("dirty").textContent = changed.size ? `${changed.size} unsaved change${changed.size > 1 ? "s" : ""}` : "";
  }

  function helpText(f) {
    const range = rangeText(f);
    const hasDefault = f.default !== null && f.default !== undefined && typeof f.default !== "object" && f.default !== "";
    return [App.sentence(f.description), range && `Range ${range}${f.unit ? " " + f.unit : ""}.`,
      hasDefault ? `Default: ${shown(f.default)}.` : ""].filter(Boolean).join(" ");
  }

  const shown = (v) => (typeof v === "boolean" ? (v ? "on" : "off") : v === null || v === "" ? "(none)" : String(v));

  /** For a field a command-line option overrode at start: the value in force and when the saved one applies. */
  function overrideText(f) {
    return `In force: ${shown(f.in_force)}, set by ${f.overridden_by} at start; ` +
      `the saved value ${shown(f.value)} applies when started without it.`;
  }

  /** The card on top: how the appliance was started, when options overrode saved settings. */
  function startedWithCard(view) {
    const overridden = view.fields.filter((f) => f.overridden_by);
    if (!overridden.length) return null;
    return App.el("div", { class: "card", id: "started-with" },
      App.el("h2", {}, "Set at start"),
      App.el("p", { class: "help" }, "The appliance was started with options that win over the saved settings until it is started without them."),
      ...overridden.map((f) => App.el("p", { class: "help override", "data-path": f.path },
        App.el("strong", {}, f.title + ": "), overrideText(f))));
  }

  /** Where the settings are saved (the end of the expert fold). */
  function settingsFileLine() {
    if (!view.settings_file) return null;
    return App.el("p", { class: "help", id: "settings-file" }, `Saved to ${view.settings_file}` +
      (view.settings_file_option ? ` (set by ${view.settings_file_option} at start).` : "."));
  }

  function fieldRow(f) {
    return App.el("label", { class: "field", id: "field-" + f.path },
      App.el("span", {}, f.title + (f.unit ? ` (${f.unit})` : "")),
      inputFor(f),
      App.el("div", { class: "error", id: "error-" + f.path, role: "alert" }),
      App.el("div", { class: "help" }, helpText(f)),
      f.overridden_by ? App.el("div", { class: "warnbox override", id: "override-" + f.path }, overrideText(f)) : null,
      f.note ? App.el("div", { class: f.warning ? "warnbox" : "help" }, (f.warning ? "⚠ " : "") + f.note) : null,
      f.restart && f.editable ? App.el("div", { class: "help" }, "Takes effect after a restart of the appliance.") : null);
  }

  /** Fieldsets, one per group, in the order the fields come (the server puts everyday ones first). */
  function groups(list) {
    const cards = new Map();
    for (const f of list) {
      if (!cards.has(f.group)) cards.set(f.group, App.el("fieldset", { class: "card" }, App.el("legend", { class: "label" }, f.group)));
      cards.get(f.group).append(fieldRow(f));
    }
    return [...cards.values()];
  }

  let view = { fields: [] };

  function render() {
    const expert = App.el("details", { class: "expert", id: "expert-settings" },
      App.el("summary", {}, "Hardware and expert settings"),
      App.el("p", { class: "help" }, "Camera, pose model, gait analysis, pins and files: change these with the set-up guide at hand."),
      ...groups(fields.filter((f) => !f.everyday)), settingsFileLine());
    $("settings-form").replaceChildren(...[startedWithCard(view)].filter(Boolean),
      ...groups(fields.filter((f) => f.everyday)), expert);
  }

  function clearErrors() {
    for (const node of document.querySelectorAll(".field.invalid")) node.classList.remove("invalid");
    for (const node of document.querySelectorAll("[id^='error-']")) node.textContent = "";
    $("settings-error").textContent = "";
  }

  async function save() {
    clearErrors();
    for (const [path, value] of [...changed]) {  // typed back to the value it had: not a change
      const f = fields.find((x) => x.path === path);
      if (f && JSON.stringify(f.value) === JSON.stringify(value)) changed.delete(path);
    }
    markDirty();
    if (!changed.size) { App.toast("Nothing to save"); return; }
    const pins = [...changed.keys()].filter((p) => fields.find((f) => f.path === p && f.warning));
    if (pins.length && !confirm("You are changing GPIO pins (" + pins.join(", ") + "). Is the wiring changed to match?")) return;
    const later = [...changed.keys()].filter((p) => fields.find((f) => f.path === p && f.restart));
    try {
      view = await App.api("PUT", "/api/settings", { changes: Object.fromEntries(changed) });
      fields = view.fields;
      changed.clear();
      render();
      markDirty();
      App.toast(later.length ? "Saved; applied after a restart: " + later.join(", ") : "Saved and applied");
    } catch (err) {
      const reasons = App.fieldReasons(err);
      let first = null;
      for (const [path, reason] of Object.entries(reasons)) {
        const box = document.getElementById("field-" + path);
        if (!box) continue;
        box.classList.add("invalid");
        document.getElementById("error-" + path).textContent = reason;
        const fold = box.closest("details");
        if (fold) fold.open = true;
        first = first || box;
      }
      $("settings-error").textContent = first ? "Not saved: see the marked field." : err.message;
      if (first) first.scrollIntoView({ block: "center" });
    }
  }

  const PIN_FIELDS = { "body.current_pin": "cur-pin", "body.new_pin": "next-pin", "body.new_pin_repeat": "next-pin2" };

  function pinError(id, message) {
    $("field-" + id).classList.toggle("invalid", Boolean(message));
    $("error-" + id).textContent = message || "";
  }

  /** Change the PIN; a refusal is shown beside its field and every field keeps what was typed. */
  async function changePin() {
    for (const id of Object.values(PIN_FIELDS)) pinError(id, "");
    const current = $("cur-pin").value, next = $("next-pin").value, repeat = $("next-pin2").value;
    if (!current) { pinError("cur-pin", "Type the current PIN."); return; }
    if (next !== repeat) { pinError("next-pin2", "The two new PINs differ: type the same new PIN twice."); return; }
    try {
      await App.api("POST", "/api/auth/pin", { current_pin: current, new_pin: next, new_pin_repeat: repeat });
      for (const id of Object.values(PIN_FIELDS)) $(id).value = "";
      App.toast("PIN changed; other browsers were logged out");
    } catch (err) {
      const reasons = App.fieldReasons(err);
      const fields = Object.keys(reasons).filter((f) => PIN_FIELDS[f]);
      for (const f of fields) pinError(PIN_FIELDS[f], reasons[f]);
      if (!fields.length) pinError("cur-pin", err.message);  // e.g. too many attempts: wait
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("save").addEventListener("click", save);
    $("change-pin").addEventListener("click", changePin);
    try {
      view = await App.api("GET", "/api/settings");
      fields = view.fields;
      render();
    } catch (err) {
      App.toast(err.message, true);
    }
  });
})();
