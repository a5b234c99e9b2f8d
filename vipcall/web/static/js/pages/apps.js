// Sovellukset: the user's softphone accounts: add one, see its SIP settings and a QR code a
// softphone app can scan, remove it.

import { get, post, del, listOf } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, button, act, status, empty } from "../ui.js";

function settings(sp) {
  const rows = [
    ["Käyttäjätunnus", "Username", sp.username],
    ["Salasana", "Password", sp.password],
    ["Palvelin", "Server", sp.domain],
    ["Portti", "Port", sp.port],
    ["Kuljetus", "Transport", sp.transport],
  ].filter((r) => r[2]);
  return h("dl", { class: "sip" }, rows.map(([fi, en, v]) => [h("dt", {}, bi(fi, en)), h("dd", {}, h("code", {}, v))]));
}

export async function render(root) {
  const holder = h("div", { id: "softphones" });
  async function load() {
    // The list has no secrets; each account's SIP settings (with its password) are asked apart.
    const list = await Promise.all(listOf(await get("/api/v1/me/softphones"))
      .map((sp) => get(`/api/v1/me/softphones/${sp.id}`)));
    holder.replaceChildren(list.length ? h("ul", { class: "cards" }, list.map((sp) => h("li", { class: "softphone", dataset: { id: sp.id } },
      h("h3", {}, sp.label || sp.username),
      h("div", { class: "sp-body" },
        settings(sp),
        h("img", { class: "qr", src: sp.qr_url || `/api/v1/me/softphones/${sp.id}/qr.svg`, width: 180, height: 180,
          alt: "QR-koodi sovellukselle / QR code for the app" })),
      h("div", { class: "actions" }, button("Poista", "Remove", { class: "danger", onclick: () => act(async () => {
        await del(`/api/v1/me/softphones/${sp.id}`); await load(); }, "Poistettu / Removed") })))))
      : empty("Ei sovelluksia.", "No apps yet."));
  }
  const addForm = form([
    field("label", "Nimi (esim. työkannettava)", "Label (e.g. work laptop)", { autocomplete: "off" }),
    h("div", { class: "actions" }, submit("Lisää sovellus", "Add an app")),
  ], async (v, f) => {
    await post("/api/v1/me/softphones", v.label.trim() ? { label: v.label.trim() } : {});
    f.reset();
    await load();
    status("Sovellus lisätty / App added");
  }, { id: "softphone-form" });
  root.append(pageTitle("Sovellukset", "Apps"),
    section("Ohjelmistopuhelimet", "Softphones", h("p", { class: "muted" }, bi(
      "Skannaa QR-koodi sovelluksella tai syötä SIP-asetukset käsin.",
      "Scan the QR code with the app or enter the SIP settings by hand.")), holder, addForm));
  await load();
}
