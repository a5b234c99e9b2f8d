// Small DOM helpers shared by the pages: element builder, bilingual labels, forms whose
// errors land next to the field the API named, a polite status line.

import { ApiError } from "./api.js";

// h("p", {class: "x", onclick: fn}, "text", child, [more]) -> element
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Finnish first, English alongside: "Aktiviteetti / Activity".
export function bi(fi, en) {
  const frag = document.createDocumentFragment();
  frag.append(document.createTextNode(fi));
  if (en) frag.append(h("span", { class: "en", lang: "en" }, ` / ${en}`));
  return frag;
}

export const biText = (fi, en) => (en ? `${fi} / ${en}` : fi);

let seq = 0;
export const uid = (prefix = "f") => `u${++seq}-${prefix}`;

// A labelled input. kind: text|email|tel|password|number|select|checkbox|textarea|file|...
export function field(name, fi, en, { kind = "text", value, options, hint, ...rest } = {}) {
  const id = uid(name);
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : undefined;
  const described = [hintId, errId].filter(Boolean).join(" ");
  let input;
  if (kind === "select") {
    input = h("select", { id, name, "aria-describedby": described, ...rest },
      (options || []).map(([v, label]) =>
        h("option", { value: v, selected: String(v) === String(value ?? "") }, label)));
  } else if (kind === "textarea") {
    input = h("textarea", { id, name, "aria-describedby": described, ...rest });
    if (value !== undefined && value !== null) input.value = value;
  } else if (kind === "checkbox") {
    input = h("input", { id, name, type: "checkbox", checked: !!value,
      "aria-describedby": described, ...rest });
    return h("div", { class: "field check" }, input, h("label", { for: id }, bi(fi, en)),
      hint && h("p", { class: "hint", id: hintId }, hint),
      h("p", { class: "error", id: errId, dataset: { for: name }, role: "alert" }));
  } else {
    input = h("input", { id, name, type: kind, "aria-describedby": described, ...rest });
    if (value !== undefined && value !== null) input.value = value;
  }
  return h("div", { class: "field" }, h("label", { for: id }, bi(fi, en)), input,
    hint && h("p", { class: "hint", id: hintId }, hint),
    h("p", { class: "error", id: errId, dataset: { for: name }, role: "alert" }));
}

export function button(fi, en, attrs = {}) {
  return h("button", { type: "button", ...attrs }, bi(fi, en));
}

export function submit(fi, en, attrs = {}) {
  return h("button", { type: "submit", class: "primary", ...attrs }, bi(fi, en));
}

// Clear earlier errors of a form.
export function clearErrors(form) {
  form.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

function fieldName(f) {
  // "body.target" / "target" / "entries.0.number" -> the input's name
  if (!f) return null;
  const parts = String(f).split(".").filter((p) => p !== "body");
  return parts.join(".") || null;
}

// Put an API error next to the field it names (or in the form's own error line).
export function showError(form, err) {
  const items = [];
  if (err instanceof ApiError) {
    if (err.errors.length) {
      for (const e of err.errors) items.push([fieldName(e.field), e.detail || err.detail]);
    } else {
      items.push([fieldName(err.field), err.detail || err.title]);
    }
  } else {
    items.push([null, String(err && err.message ? err.message : err)]);
  }
  let focused = false;
  for (const [name, text] of items) {
    let slot = null;
    let input = null;
    if (name) {
      const candidates = [name, name.split(".").pop(), name.split(".")[0]];
      for (const c of candidates) {
        slot = form.querySelector(`.error[data-for="${CSS.escape(c)}"]`);
        input = form.querySelector(`[name="${CSS.escape(c)}"]`);
        if (slot) break;
      }
    }
    if (!slot) slot = form.querySelector(".error.form-error");
    if (!slot) {
      slot = h("p", { class: "error form-error", role: "alert" });
      form.prepend(slot);
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      if (!focused) {
        input.focus();
        focused = true;
      }
    }
  }
}

// A <form> whose submit runs `action(values, form)`; errors shown by field; buttons disabled
// while it runs. values: FormData turned into an object (checkboxes as booleans).
export function form(children, action, attrs = {}) {
  const f = h("form", { novalidate: true, ...attrs },
    h("p", { class: "error form-error", role: "alert" }), children);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const buttons = f.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await action(values(f), f, ev.submitter);
    } catch (err) {
      showError(f, err);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
  return f;
}

export function values(f) {
  const out = {};
  for (const el of f.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "file") out[el.name] = el.files && el.files[0];
    else if (el.type === "radio") {
      if (el.checked) out[el.name] = el.value;
    } else out[el.name] = el.value;
  }
  return out;
}

// Run an action from a plain button, reporting errors on the page's status line.
export async function act(fn, done) {
  try {
    const r = await fn();
    if (done) status(done);
    return r;
  } catch (err) {
    status(err instanceof ApiError ? err.detail || err.title : String(err), true);
    return undefined;
  }
}

export function status(text, isError = false) {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("bad", !!isError);
  clearTimeout(status.timer);
  status.timer = setTimeout(() => (el.textContent = ""), 6000);
}

export function section(fi, en, ...children) {
  const id = uid("sec");
  return h("section", { class: "card", "aria-labelledby": id },
    h("h2", { id }, bi(fi, en)), children);
}

export function pageTitle(fi, en) {
  return h("h1", { tabindex: "-1" }, bi(fi, en));
}

export function empty(fi, en) {
  return h("p", { class: "muted" }, bi(fi, en));
}

// +358401234567 -> "+358 40 123 4567" (display only; the API keeps E.164)
// Finnish area codes of one digit (02 Turku, 03, 05, 06, 08, 09); 020 and 029 are national
// numbers, 050 a mobile and 0600 premium, grouped like mobiles (+358 40 123 4567).
const ONE_DIGIT_AREA = /^\+358(2[1-8]|3[1-9]|5[1-9]|6[1-9]|8[1-9]|9[1-9])/;

export function fmtNumber(n) {
  if (!n) return "";
  const area = ONE_DIGIT_AREA.exec(n) ? 1 : 2;
  const m = new RegExp(`^\\+358(\\d{${area}})(\\d{3})(\\d+)$`).exec(n);
  return m ? `+358 ${m[1]} ${m[2]} ${m[3]}` : n;
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("fi-FI", { dateStyle: "short", timeStyle: "short" });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function table(headers, rows, attrs = {}) {
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("thead", {}, h("tr", {}, headers.map(([fi, en]) => h("th", { scope: "col" }, bi(fi, en))))),
      h("tbody", {}, rows)));
}
