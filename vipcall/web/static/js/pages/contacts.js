// Yhteystiedot: the organisation's directory (search), personal contacts (create, edit,
// delete), VIP flags on both, and the VIP list (VIP callers get past the absence notice).

import { get, post, patch, put, del, listOf } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, status, button, act, fmtNumber, empty, table } from "../ui.js";

export async function render(root) {
  const vipHolder = h("div", { id: "vip-list" });
  const dirHolder = h("div", { id: "directory-results" });
  const contactsHolder = h("div", { id: "contacts-list" });
  let vipIds = new Set();

  async function loadVip() {
    const vip = listOf(await get("/api/v1/me/vip"));
    vipIds = new Set(vip.filter((v) => v.kind === "colleague").map((v) => v.id));
    const items = vip.map((v) => h("li", { dataset: { kind: v.kind, id: v.id } },
      h("span", { class: "star", "aria-hidden": "true" }, "★"),
      h("span", { class: "grow" }, h("strong", {}, v.name), " ", (v.numbers || []).map(fmtNumber).join(", "),
        h("span", { class: "muted" }, " (", v.kind === "colleague" ? bi("kollega", "colleague") : bi("oma yhteystieto", "personal contact"), ")"))));
    vipHolder.replaceChildren(items.length ? h("ul", { class: "rows" }, items)
      : empty("VIP-listalla ei ole ketään.", "Nobody on the VIP list."));
  }

  function vipToggle(label, isVip, onChange) {
    const id = `vip-${Math.random().toString(36).slice(2)}`;
    const box = h("input", { type: "checkbox", id, checked: isVip });
    box.addEventListener("change", async () => {
      const ok = await act(() => onChange(box.checked), box.checked ? "VIP lisätty / VIP added" : "VIP poistettu / VIP removed");
      if (ok === undefined) box.checked = !box.checked;
      await loadVip();
    });
    return h("span", { class: "vip-toggle" }, box, h("label", { for: id }, "VIP", h("span", { class: "sr-only" }, ` ${label}`)));
  }

  async function search(q) {
    if (!q) {
      dirHolder.replaceChildren(empty("Hae kollegoita nimellä tai numerolla.", "Search colleagues by name or number."));
      return;
    }
    const found = listOf(await get(`/api/v1/directory?q=${encodeURIComponent(q)}`)).filter((u) => !u.is_me);
    dirHolder.replaceChildren(found.length ? table(
      [["Nimi", "Name"], ["Numero", "Number"], ["VIP", "VIP"]],
      found.map((u) => {
        const uid = u.id;
        return h("tr", { dataset: { id: uid } },
          h("td", {}, u.name),
          h("td", {}, h("a", { href: `tel:${u.mobile}` }, fmtNumber(u.mobile)),
            u.landline ? h("span", { class: "muted" }, ` · ${fmtNumber(u.landline)}`) : null),
          h("td", {}, vipToggle(u.name, u.vip || vipIds.has(uid), (on) => on
            ? put(`/api/v1/me/vip/colleagues/${uid}`)
            : del(`/api/v1/me/vip/colleagues/${uid}`))));
      })) : empty("Ei hakutuloksia.", "No matches."));
  }

  async function loadContacts() {
    const list = listOf(await get("/api/v1/me/contacts"));
    contactsHolder.replaceChildren(list.length ? h("ul", { class: "rows contacts" }, list.map((c) => {
      const li = h("li", { dataset: { id: c.id } });
      const view = () => li.replaceChildren(
        h("span", { class: "grow" }, h("strong", {}, c.name), " ",
          h("a", { href: `tel:${c.number}` }, fmtNumber(c.number))),
        vipToggle(c.name, c.vip, async (on) => { Object.assign(c, await patch(`/api/v1/me/contacts/${c.id}`, { vip: on })); }),
        button("Muokkaa", "Edit", { onclick: edit }),
        button("Poista", "Delete", { class: "danger", onclick: () => act(async () => {
          await del(`/api/v1/me/contacts/${c.id}`);
          await Promise.all([loadContacts(), loadVip()]);
        }, "Poistettu / Deleted") }));
      const edit = () => {
        li.replaceChildren(form([
          h("div", { class: "grid3" },
            field("name", "Nimi", "Name", { value: c.name, required: true }),
            field("number", "Numero", "Number", { kind: "tel", value: c.number, required: true })),
          h("div", { class: "actions" }, submit("Tallenna", "Save"), button("Peruuta", "Cancel", { onclick: view })),
        ], async (v) => {
          Object.assign(c, await patch(`/api/v1/me/contacts/${c.id}`, { name: v.name.trim(), number: v.number.trim() }));
          view();
          status("Tallennettu / Saved");
        }));
        li.querySelector("input").focus();
      };
      view();
      return li;
    })) : empty("Ei omia yhteystietoja.", "No personal contacts."));
  }

  const searchForm = form([
    field("q", "Hae nimellä tai numerolla", "Search by name or number", { kind: "search", autocomplete: "off" }),
    h("div", { class: "actions" }, submit("Hae", "Search")),
  ], (v) => search(v.q.trim()), { id: "directory-search", role: "search" });

  const addForm = form([
    h("div", { class: "grid3" },
      field("name", "Nimi", "Name", { required: true, autocomplete: "off" }),
      field("number", "Numero", "Number", { kind: "tel", required: true, autocomplete: "off" }),
      field("vip", "VIP", "VIP", { kind: "checkbox" })),
    h("div", { class: "actions" }, submit("Lisää yhteystieto", "Add contact")),
  ], async (v, f) => {
    await post("/api/v1/me/contacts", { name: v.name.trim(), number: v.number.trim(), vip: v.vip });
    f.reset();
    await Promise.all([loadContacts(), loadVip()]);
    status("Yhteystieto lisätty / Contact added");
  }, { id: "contact-form" });

  root.append(
    pageTitle("Yhteystiedot", "Contacts"),
    section("VIP-lista", "VIP list", h("p", { class: "muted" }, bi(
      "VIP-soittajat ohittavat poissaolotiedotteen.", "VIP callers get past the absence notice.")), vipHolder),
    section("Omat yhteystiedot", "Personal contacts", contactsHolder, addForm),
    section("Organisaation hakemisto", "Organisation directory", searchForm, dirHolder),
  );
  await loadVip();
  await Promise.all([loadContacts(), search("")]);
}
