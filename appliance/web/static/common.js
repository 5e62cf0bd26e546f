/* Shared helpers for every page: API calls with the CSRF header, safe DOM building, formatting. */
"use strict";

const App = (() => {
  function cookie(name) {
    for (const part of document.cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === name) return decodeURIComponent(v.join("="));
    }
    return null;
  }

  function loginRedirect() {
    const here = location.pathname + location.search;
    location.href = "/login?next=" + encodeURIComponent(here);
  }

  /** Call the API; throws an Error with .status and .body (the {detail, errors} shape) on failure. */
  async function api(method, path, body, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") {
      const token = cookie("appliance_csrf");
      if (token) headers["X-CSRF-Token"] = token;
    }
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    // 401 means this browser is logged out. A refused PIN change is 403 and stays on its page.
    if (response.status === 401 && !opts.noRedirect) {
      loginRedirect();
    }
    if (!response.ok) {
      const err = new Error((data && data.detail) || response.statusText);
      err.status = response.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  /** Build an element; attrs go through properties/attributes, children are nodes or text. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k in node && k !== "list") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  let toastTimer = null;
  function toast(message, bad) {
    let box = document.getElementById("toast");
    if (!box) { box = el("div", { id: "toast", role: "status" }); document.body.append(box); }
    box.textContent = message;
    box.className = "show" + (bad ? " bad" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.className = ""; }, bad ? 6000 : 2500);
  }

  /** "must be at most 1920" -> "Must be at most 1920." */
  function sentence(text) {
    if (!text) return "";
    const s = String(text);
    return s[0].toUpperCase() + s.slice(1) + (/[.!?]\)?$/.test(s) ? "" : ".");  // "(...)" still gets its full stop
  }

  /** The reason the API gave for each refused field, as {field: sentence}. */
  function fieldReasons(err) {
    const out = {};
    for (const e of (err && err.body && err.body.errors) || []) out[e.field] = sentence(e.message);
    return out;
  }

  function num(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return Number(value).toFixed(digits === undefined ? 0 : digits);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function when(epochSeconds) {
    if (!epochSeconds) return "–";
    return new Date(epochSeconds * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function param(name) { return new URLSearchParams(location.search).get(name); }

  async function logout() {
    try { await api("POST", "/api/auth/logout", undefined, { noRedirect: true }); } catch (e) { /* already out */ }
    location.href = "/login";
  }

  function init() {
    for (const a of document.querySelectorAll("nav a")) {
      if (a.getAttribute("href") === location.pathname) a.classList.add("here");
    }
    const out = document.getElementById("logout");
    if (out) out.addEventListener("click", logout);
  }
  document.addEventListener("DOMContentLoaded", init);

  return { api, el, svg, toast, sentence, fieldReasons, num, duration, when, param, cookie, loginRedirect };
})();
