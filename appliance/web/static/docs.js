/* Offline API reference: renders /openapi.json (paths, parameters, bodies, responses, schemas). */
"use strict";

(() => {
  const E = App.el;
  let spec = null;

  function ref(schema) {
    if (!schema) return "–";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map(ref).join(" | ");
    if (schema.type === "array") return ref(schema.items) + "[]";
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    return schema.type || "object";
  }

  function bodySchema(content) {
    if (!content) return null;
    const [type, media] = Object.entries(content)[0];
    return `${type}: ${ref(media.schema)}`;
  }

  function operation(path, method, op) {
    const params = (op.parameters || []).map((p) => E("li", {}, E("code", {}, p.name), ` (${p.in}${p.required ? ", required" : ""}) ${ref(p.schema)}`,
      p.description ? " — " + p.description : ""));
    const responses = Object.entries(op.responses || {}).map(([code, r]) => E("li", {}, E("b", {}, code), " ", r.description || "",
      r.content ? " → " + bodySchema(r.content) : ""));
    return E("details", { class: "card" },
      E("summary", {}, E("b", {}, method.toUpperCase()), " ", E("code", {}, path), " — ", op.summary || ""),
      op.requestBody ? E("p", {}, "Body: ", bodySchema(op.requestBody.content)) : null,
      params.length ? E("div", {}, E("div", { class: "label" }, "Parameters"), E("ul", {}, params)) : null,
      E("div", { class: "label" }, "Responses"), E("ul", {}, responses));
  }

  function schemaCard(name, s) {
    const props = Object.entries(s.properties || {}).map(([k, p]) => E("li", {}, E("code", {}, k), ": ", ref(p),
      (s.required || []).includes(k) ? " (required)" : "", p.description ? " — " + p.description : ""));
    return E("details", { class: "card", id: "schema-" + name }, E("summary", {}, E("b", {}, name)),
      s.description ? E("p", { class: "help" }, s.description) : null, E("ul", {}, props));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    document.getElementById("logout").classList.add("hidden");
    spec = await (await fetch("/openapi.json")).json();
    const box = document.getElementById("docs");
    box.append(E("p", {}, `${spec.info.title} ${spec.info.version} (OpenAPI ${spec.openapi})`));
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) box.append(operation(path, method, op));
    }
    box.append(E("h2", {}, "Schemas"));
    for (const [name, s] of Object.entries(spec.components.schemas)) box.append(schemaCard(name, s));
  });
})();
