// Palvelut -> Ohjausnumero: immediate forwarding (pick from contacts or type a number,
// apply; clear) and Aktiviteetin ohjaus: a number per activity. A refused target says why.

import { get, put, del, listOf } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, status, button, act, fmtNumber } from "../ui.js";

async function pickList() {
  // The user's personal contacts, for "pick from contacts"; colleagues come as suggestions
  // while typing (directory search).
  return listOf(await get("/api/v1/me/contacts")).map((c) => [c.number, `${c.name} – ${fmtNumber(c.number)}`]);
}

let listSeq = 0;
function colleagueSuggestions(input) {
  const list = h("datalist", { id: `colleagues-${++listSeq}` });
  input.setAttribute("list", list.id);
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return;
    timer = setTimeout(async () => {
      try {
        const found = listOf(await get(`/api/v1/directory?q=${encodeURIComponent(q)}`));
        list.replaceChildren(...found.filter((u) => !u.is_me).map((u) => h("option", { value: u.mobile }, u.name)));
      } catch { /* suggestions are optional */ }
    }, 250);
  });
  return list;
}

function targetForm(id, current, choices, onApply, onClear) {
  const f = form([
    choices.length ? field("pick", "Valitse yhteystiedoista", "Pick from contacts", {
      kind: "select", options: [["", "—"], ...choices],
      onchange: (ev) => { if (ev.target.value) f.querySelector('[name="target"]').value = ev.target.value; },
    }) : null,
    field("target", "Numero", "Number", { kind: "tel", value: current || "", autocomplete: "off",
      placeholder: "040 123 4567" }),
    h("div", { class: "actions" },
      submit("Käytä", "Apply"),
      button("Poista ohjaus", "Clear", { class: "danger", onclick: () => act(async () => {
        await onClear();
        f.querySelector('[name="target"]').value = "";
      }, "Ohjaus poistettu / Forwarding cleared") })),
  ], async (v) => {
    if (!v.target.trim()) {
      await onClear();
      status("Ohjaus poistettu / Forwarding cleared");
      return;
    }
    const saved = await onApply(v.target.trim());
    const shown = saved && (saved.target || saved.number);
    if (shown) f.querySelector('[name="target"]').value = shown;
    status("Ohjaus käytössä / Forwarding applied");
  }, { id });
  const input = f.querySelector('[name="target"]');
  f.append(colleagueSuggestions(input));
  return f;
}

function targetOf(x) {
  if (!x) return null;
  if (typeof x === "string") return x;
  return x.target || x.number || null;
}

export async function render(root) {
  const [fwd, perActivity, choices] = await Promise.all([
    get("/api/v1/me/forwarding"), get("/api/v1/me/forwarding/activities"), pickList()]);
  const immediate = targetOf(fwd);

  const immediateForm = targetForm("forwarding-form", immediate, choices,
    (target) => put("/api/v1/me/forwarding", { target }),
    () => del("/api/v1/me/forwarding"));

  const rows = listOf(perActivity).map(({ activity: a, target }) => [a.id, a, target]).map(([n, a, target]) => h("div", { class: `activity-route ${a.colour || ""}` },
    h("h3", {}, `${n} `, bi(a.fi, a.en)),
    targetForm(`activity-forwarding-${n}`, target, choices,
      (target) => put(`/api/v1/me/forwarding/activities/${n}`, { target }),
      () => del(`/api/v1/me/forwarding/activities/${n}`))));

  root.append(
    pageTitle("Ohjausnumero", "Forwarding"),
    section("Ohjaa kaikki puhelut", "Forward every call", h("p", { class: "muted" }, bi(
      "Puhelut ohjataan heti tähän numeroon, aktiviteetista riippumatta.",
      "Calls go straight to this number, whatever the activity.")), immediateForm),
    section("Aktiviteetin ohjaus", "Activity routing", h("p", { class: "muted" }, bi(
      "Numero, johon puhelut ohjataan kunkin aktiviteetin aikana.",
      "Where calls go while each activity is on.")), h("div", { class: "activity-routes" }, rows)),
  );
}
