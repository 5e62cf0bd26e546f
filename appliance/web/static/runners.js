/* Runners page: list, create, edit name/targets/programme, archive, start a session. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TARGET_NAMES = { cadence: "Cadence", overstride: "Overstride", strike: "Foot strike", frontal: "Knees and hips (rear camera)" };
  let forms = null;
  let current = null;

  async function loadList() {
    const runners = await App.api("GET", "/api/runners" + ($("show-archived").checked ? "?include_archived=true" : ""));
    const list = $("runner-list");
    if (!runners.length) { list.replaceChildren(App.el("p", { class: "sub" }, "No runners yet: create one below.")); return; }
    list.replaceChildren(...runners.map((r) => App.el("div", { class: "list-item" },
      App.el("div", {}, App.el("b", {}, r.name), r.archived ? App.el("span", { class: "sub" }, " (archived)") : null,
        App.el("div", { class: "sub" }, `${r.sessions_completed} session${r.sessions_completed === 1 ? "" : "s"} completed`)),
      App.el("button", { type: "button", class: "open-runner", onclick: () => openRunner(r.id) }, "Open"))));
  }

  function numberInput(f, value, onChange) {
    if (f.kind === "choice") {
      const s = App.el("select", { name: f.path }, ...f.choices.map((c) => App.el("option", { value: c, selected: c === value }, c)));
      s.addEventListener("change", () => onChange(s.value));
      return s;
    }
    const input = App.el("input", {
      name: f.path, type: "number", step: f.kind === "integer" ? "1" : "any", inputMode: "decimal",
      value: value === null || value === undefined ? "" : String(value),
      placeholder: f.nullable ? "(none)" : "",
    });
    if (f.minimum !== null) input.min = f.minimum;
    if (f.maximum !== null) input.max = f.maximum;
    input.addEventListener("input", () => onChange(input.value.trim() === "" ? null : Number(input.value)));
    return input;
  }

  function targetsEditor(targets) {
    const draft = JSON.parse(JSON.stringify(targets));
    const sections = {};
    for (const f of forms.targets) (sections[f.section] = sections[f.section] || []).push(f);
    const box = App.el("div", {});
    for (const [section, list] of Object.entries(sections)) {
      const enabled = App.el("input", { type: "checkbox", name: "enable-" + section, checked: draft[section] !== null });
      const body = App.el("div", { class: enabled.checked ? "" : "hidden" });
      enabled.addEventListener("change", () => {
        body.classList.toggle("hidden", !enabled.checked);
        draft[section] = enabled.checked ? Object.fromEntries(list.map((f) => [f.name, f.value])) : null;
        body.replaceChildren(...fieldsFor(section, list));
      });
      const fieldsFor = (sec, fl) => fl.map((f) => App.el("label", { class: "field", id: "target-" + f.path },
        App.el("span", {}, f.title + (f.unit ? ` (${f.unit})` : "")),
        numberInput(f, draft[sec] ? draft[sec][f.name] : f.value, (v) => { if (draft[sec]) draft[sec][f.name] = v; }),
        App.el("div", { class: "error", id: "target-error-" + f.path }),
        App.el("div", { class: "help" }, f.description || "")));
      body.replaceChildren(...fieldsFor(section, list));
      box.append(App.el("fieldset", { class: "card" },
        App.el("legend", {}, App.el("label", { class: "row" }, enabled, TARGET_NAMES[section] || section)), body));
    }
    box.value = () => draft;
    return box;
  }

  function programmeEditor(programme, nextNumber) {
    const draft = JSON.parse(JSON.stringify(programme));
    const table = App.el("table", { class: "programme" });
    const heads = forms.session.filter((f) => f.name !== "number");
    function render() {
      table.replaceChildren(App.el("tr", {}, App.el("th", {}, "#"),
        ...heads.map((f) => App.el("th", {}, f.title + (f.unit ? ` (${f.unit})` : "")))),
      ...draft.sessions.map((s, i) => App.el("tr", { class: s.number === nextNumber ? "next" : "" },
        App.el("td", {}, (s.number === nextNumber ? "▶\u00a0" : "") + s.number),
        ...heads.map((f) => App.el("td", { id: `programme-${i}-${f.name}` },
          numberInput(f, s[f.name], (v) => { draft.sessions[i][f.name] = v; }))))));
    }
    render();
    const add = App.el("button", { type: "button", onclick: () => {
      const last = draft.sessions[draft.sessions.length - 1];
      draft.sessions.push({ ...last, number: draft.sessions.length + 1, day: last.day + 2 }); render();
    } }, "Add session");
    const remove = App.el("button", { type: "button", onclick: () => { if (draft.sessions.length > 1) { draft.sessions.pop(); render(); } } }, "Remove last");
    const reset = App.el("button", { type: "button", onclick: () => {
      draft.name = forms.default_programme.name; draft.sessions = JSON.parse(JSON.stringify(forms.default_programme.sessions)); render();
    } }, "Default");
    const box = App.el("div", {}, App.el("div", { class: "sub" }, "Programme: " + draft.name), table, App.el("div", { class: "row" }, add, remove, reset));
    box.value = () => draft;
    return box;
  }

  /** A refused programme value (e.g. a day before the previous session's): its cell marked. */
  function markProgrammeErrors(err) {
    for (const input of document.querySelectorAll("table.programme [aria-invalid]")) {
      input.removeAttribute("aria-invalid"); input.style.borderColor = ""; input.style.background = "";
    }
    for (const field of Object.keys(App.fieldReasons(err))) {
      const m = /^programme\.sessions\.(\d+)\.(\w+)$/.exec(field);
      const input = m && document.querySelector(`#programme-${m[1]}-${m[2]} input`);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      input.style.borderColor = "var(--bad)"; input.style.background = "#fff5f4";
    }
  }

  /** A refused target value: its field marked and the reason beside it. */
  function markTargetErrors(err) {
    for (const node of document.querySelectorAll("#runner-detail .field.invalid")) node.classList.remove("invalid");
    for (const node of document.querySelectorAll("[id^='target-error-']")) node.textContent = "";
    for (const [field, reason] of Object.entries(App.fieldReasons(err))) {
      const path = field.replace(/^targets\./, "");
      const box = document.getElementById("target-" + path);
      if (!box) continue;
      box.classList.add("invalid");
      document.getElementById("target-error-" + path).textContent = reason;
    }
  }

  async function openRunner(id) {
    current = await App.api("GET", "/api/runners/" + id);
    const r = current.runner;
    const name = App.el("input", { id: "runner-name", value: r.name, maxLength: 80 });
    const targets = targetsEditor(current.targets);
    const programme = programmeEditor(current.programme, current.next_session.number);
    const error = App.el("p", { class: "error", role: "alert" });
    const save = App.el("button", { type: "button", class: "primary", id: "save-runner", onclick: async () => {
      error.textContent = "";
      try {
        await App.api("PUT", "/api/runners/" + id, { name: name.value, targets: targets.value(), programme: programme.value() });
        App.toast("Runner saved");
        await loadList();
        await openRunner(id);
      } catch (err) {
        error.textContent = err.message;
        markTargetErrors(err);
        markProgrammeErrors(err);
      }
    } }, "Save runner");
    const start = App.el("button", { type: "button", id: "start-session", disabled: r.archived, onclick: async () => {
      try {
        await App.api("POST", "/api/session/start", { runner_id: id });
        location.href = "/live";
      } catch (err) { App.toast(err.message, true); }
    } }, `Start session ${current.next_session.number}`);
    const archive = App.el("button", { type: "button", onclick: async () => {
      if (!r.archived && !confirm(`Archive ${r.name}? Their records are kept.`)) return;
      await App.api("POST", `/api/runners/${id}/archive`, { archived: !r.archived });
      await loadList();
      await openRunner(id);
    } }, r.archived ? "Restore" : "Archive");
    const select = App.el("button", { type: "button", id: "select-runner", disabled: r.archived || current.selected, onclick: async () => {
      try {
        await App.api("PUT", "/api/settings", { changes: { "session.runner_id": id } });
        App.toast(`${r.name} is now the selected runner`);
        await openRunner(id);
      } catch (err) { App.toast(err.message, true); }
    } }, current.selected ? "Selected for the button" : "Select for the button");
    const ns = current.next_session;
    const erase = eraseCard(r);
    $("runner-detail").replaceChildren(App.el("div", { class: "card" },
      App.el("h2", {}, r.name),
      App.el("p", { class: "sub" }, `${r.sessions_completed} of ${current.programme.sessions.length} programme sessions completed. ` +
        `Next: session ${ns.number}, ${ns.run_minutes} min, feedback ${Math.round(ns.feedback_share * 100)} %.`),
      App.el("div", { class: "row" }, start, App.el("a", { class: "button", href: "/history?runner=" + id }, "History"), select),
      App.el("p", { class: "help" }, "The selected runner's session starts with the button on the appliance, or by itself when auto-start is on."),
      App.el("label", { class: "field" }, App.el("span", {}, "Name"), name),
      App.el("h2", {}, "Targets"), targets,
      App.el("h2", {}, "Programme"), programme,
      error,
      App.el("div", { class: "row" }, save, archive,
        App.el("a", { class: "button", id: "download-bundle", href: `/api/runners/${id}/bundle` }, "Download for another appliance"))),
    erase);
    $("runner-detail").scrollIntoView({ block: "start" });
  }

  /** Erase for good: the runner's name typed again enables the button; the server checks it too. */
  function eraseCard(r) {
    const typed = App.el("input", { id: "erase-name", autocomplete: "off", placeholder: r.name });
    const error = App.el("p", { class: "error", id: "erase-error", role: "alert" });
    const button = App.el("button", { type: "button", id: "erase-runner", class: "danger", disabled: true, onclick: async () => {
      error.textContent = "";
      try {
        const done = await App.api("POST", `/api/runners/${r.id}/erase`, { confirm_name: typed.value });
        App.toast(done.message);
        $("runner-detail").replaceChildren();
        await loadList();
      } catch (err) { error.textContent = err.message; }
    } }, "Erase for good");
    typed.addEventListener("input", () => { button.disabled = typed.value.trim() !== r.name; });
    return App.el("details", { class: "card", id: "erase-card" }, App.el("summary", {}, "Erase this runner"),
      App.el("p", { class: "help" }, "Deletes the runner and every session, step, cue, pain score and note recorded about them, " +
        "with no way back (a patient's right to erasure). Backups made before today still hold them until they are replaced. " +
        "To keep the records but hide the runner, use Archive instead."),
      App.el("label", { class: "field" }, App.el("span", {}, `Type ${r.name} to confirm`), typed), error, button);
  }

  async function create(event) {
    event.preventDefault();
    $("new-error").textContent = "";
    try {
      const r = await App.api("POST", "/api/runners", { name: $("new-name").value });
      $("new-name").value = "";
      await loadList();
      await openRunner(r.id);
    } catch (err) {
      $("new-error").textContent = err.message;
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("new-runner").addEventListener("submit", create);
    $("show-archived").addEventListener("change", () => loadList());
    try {
      forms = await App.api("GET", "/api/runners/forms");
      await loadList();
      const wanted = App.param("runner");
      if (wanted) await openRunner(Number(wanted));
    } catch (err) {
      App.toast(err.message, true);
    }
  });
})();
