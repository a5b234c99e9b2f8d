// Palvelunumerot: the user's service-number memberships, log in / log out.

import { get, put, listOf } from "../api.js";
import { h, bi, pageTitle, section, button, act, fmtNumber, empty } from "../ui.js";

export async function render(root) {
  const holder = h("div", { id: "service-numbers" });
  async function load() {
    const list = listOf(await get("/api/v1/me/service-numbers"), "service_numbers");
    holder.replaceChildren(list.length ? h("ul", { class: "rows" }, list.map((sn) => {
      const id = sn.id ?? sn.service_number_id;
      return h("li", { dataset: { id } },
        h("span", { class: "grow" }, h("strong", {}, sn.name), " ", fmtNumber(sn.number),
          h("span", { class: `tag ${sn.logged_in ? "on" : "off"}` },
            sn.logged_in ? bi("Kirjautunut", "Logged in") : bi("Ulkona", "Logged out"))),
        sn.logged_in
          ? button("Kirjaudu ulos", "Log out", { onclick: () => act(async () => {
            await put(`/api/v1/me/service-numbers/${id}`, { logged_in: false }); await load(); }, "Kirjauduttu ulos / Logged out") })
          : button("Kirjaudu sisään", "Log in", { class: "primary", onclick: () => act(async () => {
            await put(`/api/v1/me/service-numbers/${id}`, { logged_in: true }); await load(); }, "Kirjauduttu / Logged in") }));
    })) : empty("Et ole minkään palvelunumeron jäsen.", "You are not a member of any service number."));
  }
  root.append(pageTitle("Palvelunumerot", "Service numbers"),
    section("Jäsenyydet", "Memberships", h("p", { class: "muted" }, bi(
      "Puhelimella: 9851n kirjautuu sisään, 9850n ulos.", "By phone: 9851n logs in, 9850n logs out.")), holder));
  await load();
}
