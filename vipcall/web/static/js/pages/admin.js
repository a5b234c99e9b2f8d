// Hallinta (organisation admins only; the API checks it too): users (create, import CSV,
// reset password, delete), groups ("No voicemail"), service numbers and their members,
// which activities are red, the organisation's numbers, and the organisation's call totals.

import { get, post, patch, del, listOf, ApiError } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, status, button, act, fmtNumber, fmtDuration, empty, table } from "../ui.js";
import { chartSection } from "./history.js";

const TABS = [
  ["users", "Käyttäjät", "Users"],
  ["groups", "Ryhmät", "Groups"],
  ["service-numbers", "Palvelunumerot", "Service numbers"],
  ["organization", "Organisaatio", "Organisation"],
  ["totals", "Puhelut", "Calls"],
];

export async function render(root, ctx) {
  const tab = ctx.params.get("tab") || "users";
  const panel = h("div", { class: "tab-panel", id: `admin-${tab}`, role: "region" });
  root.append(
    pageTitle("Hallinta", "Admin"),
    h("nav", { class: "tabs", "aria-label": "Hallinnan osat / Admin sections" }, h("ul", {},
      TABS.map(([id, fi, en]) => h("li", {}, h("a", { href: `#/admin?tab=${id}`, "aria-current": id === tab ? "page" : null }, bi(fi, en)))))),
    panel);
  const draw = { users, groups, "service-numbers": serviceNumbers, organization, totals }[tab] || users;
  await draw(panel, ctx);
}

// ---- users ----------------------------------------------------------------------------

async function users(panel, { state }) {
  const listHolder = h("div", { id: "admin-user-list" });
  let q = "";
  async function load() {
    const list = listOf(await get(`/api/v1/admin/users?q=${encodeURIComponent(q)}`), "users");
    listHolder.replaceChildren(list.length ? table(
      [["Nimi", "Name"], ["Käyttäjätunnus", "Username"], ["Matkapuhelin", "Mobile"], ["Pääkäyttäjä", "Admin"], ["", ""]],
      list.map((u) => h("tr", { dataset: { id: u.id } },
        h("td", {}, u.display_name),
        h("td", {}, h("code", {}, u.username)),
        h("td", { class: "tel" }, fmtNumber(u.mobile)),
        h("td", {}, u.is_admin ? bi("kyllä", "yes") : ""),
        h("td", { class: "row-actions" },
          button("Aseta salasana", "Set password", { onclick: () => setPassword(u) }),
          u.id === state.me.id ? null : button("Poista", "Delete", { class: "danger", onclick: () => {
            if (!confirm(`Poista ${u.display_name}? / Delete ${u.display_name}?`)) return;
            act(async () => { await del(`/api/v1/admin/users/${u.id}`); await load(); }, "Poistettu / Deleted");
          } }))))) : empty("Ei käyttäjiä.", "No users."));
  }

  function setPassword(u) {
    const dlg = h("dialog", { class: "dialog", "aria-labelledby": "pw-title" });
    dlg.append(h("h2", { id: "pw-title" }, bi(`Salasana: ${u.display_name}`, "Password")),
      form([
        field("password", "Uusi salasana", "New password", { kind: "password", autocomplete: "new-password", required: true }),
        h("div", { class: "actions" }, submit("Aseta", "Set"), button("Peruuta", "Cancel", { onclick: () => dlg.close() })),
      ], async (v) => {
        await post(`/api/v1/admin/users/${u.id}/password`, { password: v.password });
        dlg.close();
        status("Salasana asetettu / Password set");
      }));
    dlg.addEventListener("close", () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
  }

  const searchForm = form([
    field("q", "Hae", "Search", { kind: "search", autocomplete: "off" }),
    h("div", { class: "actions" }, submit("Hae", "Search")),
  ], async (v) => { q = v.q.trim(); await load(); }, { role: "search" });

  const createForm = form([
    h("div", { class: "grid3" },
      field("display_name", "Nimi", "Name", { required: true, autocomplete: "off" }),
      field("mobile", "Matkapuhelin", "Mobile", { kind: "tel", required: true, autocomplete: "off" }),
      field("landline", "Lankanumero", "Landline", { kind: "tel", autocomplete: "off" }),
      field("email", "Sähköposti", "Email", { kind: "email", autocomplete: "off" }),
      field("password", "Salasana (valinnainen)", "Password (optional)", { kind: "password", autocomplete: "new-password" }),
      field("is_admin", "Pääkäyttäjä", "Admin", { kind: "checkbox" })),
    h("div", { class: "actions" }, submit("Lisää käyttäjä", "Add user")),
  ], async (v, f) => {
    const body = { display_name: v.display_name.trim(), mobile: v.mobile.trim(), is_admin: v.is_admin };
    if (v.landline.trim()) body.landline = v.landline.trim();
    if (v.email.trim()) body.email = v.email.trim();
    if (v.password) body.password = v.password;
    const made = await post("/api/v1/admin/users", body);
    f.reset();
    await load();
    status(`Lisätty / Added: ${made && made.username ? made.username : body.display_name}`);
  }, { id: "admin-user-form" });

  const importResult = h("div", { id: "import-result", "aria-live": "polite" });
  const importForm = form([
    h("p", { class: "muted" }, bi("Otsikkorivi", "Header row"), ": ", h("code", {}, "display_name,mobile,landline,email"),
      h("br"), bi("Erotin , tai ;. Jos yksikin rivi on virheellinen, mitään ei tuoda.",
        "Separator , or ;. If any row is wrong, nothing is imported.")),
    field("file", "CSV-tiedosto", "CSV file", { kind: "file", accept: ".csv,text/csv" }),
    field("text", "…tai liitä CSV", "…or paste CSV", { kind: "textarea", rows: 4 }),
    h("div", { class: "actions" }, submit("Tuo", "Import")),
  ], async (v, f) => {
    importResult.replaceChildren();
    const text = v.file ? await v.file.text() : v.text;
    if (!text || !text.trim()) throw new Error("Anna CSV / Give CSV");
    let r;
    try {
      r = await post("/api/v1/admin/users/import", text, { contentType: "text/csv" });
    } catch (err) {
      if (!(err instanceof ApiError) || !err.errors.length) throw err;
      // every bad row listed (the import is all or nothing: no user was added)
      importResult.replaceChildren(
        h("p", { class: "error", role: "alert" }, bi("Mitään ei tuotu. Korjaa nämä rivit:", "Nothing imported. Fix these rows:")),
        h("ul", { class: "import-problems" }, err.errors.map((e) => h("li", { dataset: { row: e.row ?? "" } },
          e.row ? bi(`Rivi ${e.row}`, `Row ${e.row}`) : null, e.row ? ": " : null,
          e.field ? h("code", {}, e.field) : null, e.field ? " – " : null, e.detail))));
      return;
    }
    const made = listOf(r, "created");
    importResult.replaceChildren(h("p", { class: "ok" }, bi(`Tuotu ${made.length} käyttäjää.`, `${made.length} users imported.`)));
    f.reset();
    await load();
  }, { id: "admin-import-form" });

  panel.append(
    section("Käyttäjät", "Users", searchForm, listHolder),
    section("Uusi käyttäjä", "New user", createForm),
    section("Tuo CSV:stä", "Import from CSV", importForm, importResult));
  await load();
}

// ---- groups -----------------------------------------------------------------------------

const GROUP_KINDS = { no_voicemail: "Ei vastaajaa / No voicemail", custom: "Muu / Custom" };
const SN_KINDS = { switchboard: "Vaihde / Switchboard", customer_service: "Asiakaspalvelu / Customer service", group: "Ryhmä / Group" };
const STRATEGIES = { ring_all: "Kaikki soivat / Ring all", longest_idle: "Pisimpään vapaana / Longest idle" };

async function userOptions() {
  return listOf(await get("/api/v1/admin/users?q="), "users")
    .map((u) => [u.id, `${u.display_name} – ${fmtNumber(u.mobile)}`]);
}

function memberEditor(base, members, options, reload) {
  const ids = new Set(members.map((m) => m.user_id));
  return h("div", { class: "members" },
    members.length ? h("ul", { class: "rows member-list" }, members.map((m) => h("li", { dataset: { id: m.user_id } },
      h("span", { class: "grow" }, m.display_name, " ", h("code", {}, m.username),
        m.logged_in === undefined ? null : h("span", { class: `tag ${m.logged_in ? "on" : "off"}` },
          m.logged_in ? bi("Sisällä", "In") : bi("Ulkona", "Out"))),
      button("Poista", "Remove", { class: "danger", onclick: () => act(async () => {
        await del(`${base}/members/${m.user_id}`); await reload(); }) }))))
      : empty("Ei jäseniä.", "No members."),
    form([
      field("user_id", "Lisää jäsen", "Add a member", { kind: "select",
        options: [["", "—"], ...options.filter(([id]) => !ids.has(id))] }),
      h("div", { class: "actions" }, submit("Lisää", "Add")),
    ], async (v) => {
      if (!v.user_id) return;
      await post(`${base}/members`, { user_id: Number(v.user_id) });
      await reload();
    }, { class: "member-form" }));
}

async function groups(panel) {
  const holder = h("div", {});
  const options = await userOptions();
  async function load() {
    const list = await Promise.all(listOf(await get("/api/v1/admin/groups"))
      .map((g) => get(`/api/v1/admin/groups/${g.id}`)));
    holder.replaceChildren(list.length ? h("div", { id: "admin-group-list" }, list.map((g) => section(g.name, GROUP_KINDS[g.kind] || g.kind,
      memberEditor(`/api/v1/admin/groups/${g.id}`, listOf(g.members), options, load),
      h("div", { class: "actions" }, button("Poista ryhmä", "Delete group", { class: "danger", onclick: () => act(async () => {
        await del(`/api/v1/admin/groups/${g.id}`); await load(); }) })))))
      : empty("Ei ryhmiä.", "No groups."));
  }
  const createForm = form([
    h("div", { class: "grid3" },
      field("name", "Nimi", "Name", { required: true, autocomplete: "off" }),
      field("kind", "Tyyppi", "Kind", { kind: "select", options: Object.entries(GROUP_KINDS) })),
    h("div", { class: "actions" }, submit("Lisää ryhmä", "Add group")),
  ], async (v, f) => { await post("/api/v1/admin/groups", { name: v.name.trim(), kind: v.kind }); f.reset(); await load(); },
  { id: "admin-group-form" });
  panel.append(holder, section("Uusi ryhmä", "New group", createForm));
  await load();
}

// ---- service numbers ----------------------------------------------------------------------

async function serviceNumbers(panel) {
  const holder = h("div", {});
  const options = await userOptions();
  async function load() {
    const list = listOf(await get("/api/v1/admin/service-numbers"));
    holder.replaceChildren(list.length ? h("div", { id: "admin-sn-list" }, list.map((sn) => section(`${sn.name} ${fmtNumber(sn.number)}`, null,
      h("p", { class: "muted" }, `${SN_KINDS[sn.kind] || sn.kind} · ${STRATEGIES[sn.strategy] || sn.strategy} · `,
        bi(`jonossa enintään ${sn.max_wait_seconds} s`, `max wait ${sn.max_wait_seconds} s`)),
      memberEditor(`/api/v1/admin/service-numbers/${sn.id}`, listOf(sn.members), options, load),
      h("div", { class: "actions" }, button("Poista palvelunumero", "Delete service number", { class: "danger", onclick: () => act(async () => {
        await del(`/api/v1/admin/service-numbers/${sn.id}`); await load(); }) })))))
      : empty("Ei palvelunumeroita.", "No service numbers."));
  }
  const createForm = form([
    h("div", { class: "grid3" },
      field("name", "Nimi", "Name", { required: true, autocomplete: "off" }),
      field("number", "Numero", "Number", { kind: "tel", required: true, autocomplete: "off" }),
      field("kind", "Tyyppi", "Kind", { kind: "select", options: Object.entries(SN_KINDS) }),
      field("strategy", "Soittojärjestys", "Strategy", { kind: "select", options: Object.entries(STRATEGIES) })),
    h("div", { class: "actions" }, submit("Lisää palvelunumero", "Add service number")),
  ], async (v, f) => {
    await post("/api/v1/admin/service-numbers", { name: v.name.trim(), number: v.number.trim(), kind: v.kind, strategy: v.strategy });
    f.reset();
    await load();
  }, { id: "admin-sn-form" });
  panel.append(holder, section("Uusi palvelunumero", "New service number", createForm));
  await load();
}

// ---- organisation -------------------------------------------------------------------------

async function organization(panel, { state }) {
  const [org, presence] = await Promise.all([get("/api/v1/admin/organization"), get("/api/v1/me/presence")]);
  const red = new Set((org.red_activities || []).map(Number));
  const activities = presence.activities || state.presence?.activities || [];
  const f = form([
    h("fieldset", { class: "checks" }, h("legend", {}, bi("Punaiset aktiviteetit (ei tavoitettavissa)", "Red activities (not reachable)")),
      activities.map((a) => field(`red_${a.id}`, `${a.id} ${a.fi}`, a.en, { kind: "checkbox", value: red.has(a.id) })),
      h("p", { class: "error", "data-for": "red_activities", role: "alert" })),
    h("div", { class: "grid3" },
      field("switchboard_number", "Vaihteen numero", "Switchboard number", { kind: "tel", value: org.switchboard_number || "" }),
      field("customer_service_number", "Asiakaspalvelun numero", "Customer-service number", { kind: "tel", value: org.customer_service_number || "" })),
    h("h3", {}, bi("Soitot käyttäjien puolesta (väärinkäytön esto)", "Calls on users' behalf (toll-fraud guard)")),
    h("p", { class: "muted" }, bi("Koskee ohjauksia, näppäimen 1 numeroa ja palvelunumeroiden ylivuotoa. Maksulliset palvelunumerot on aina estetty.",
      "Applies to forwarding, the key 1 number and service-number overflow. Premium-rate numbers are always refused.")),
    h("div", { class: "grid2" },
      field("allowed_countries", "Sallitut maat", "Allowed countries", {
        value: org.allowed_countries ? org.allowed_countries.join(", ") : "", autocomplete: "off",
        placeholder: "FI, SE, EE",
        hint: "ISO-maatunnukset pilkuin eroteltuina; tyhjä = kaikki maat / ISO country codes separated by commas; empty = any country" }),
      field("denied_prefixes", "Estetyt numeroiden alut", "Denied prefixes", {
        value: (org.denied_prefixes || []).join(", "), autocomplete: "off",
        placeholder: "+3587001, 00882",
        hint: "Näihin alkaviin numeroihin ei soiteta koskaan / Numbers starting with these are never called" })),
    h("h3", {}, bi("Vastaajan rajat", "Voicemail limits")),
    h("div", { class: "grid3" },
      Object.entries(LIMITS).map(([k, [fi, en]]) => field(k, fi, en, { kind: "number", value: (org.voicemail || {})[k], min: 1 }))),
    h("div", { class: "actions" }, submit("Tallenna", "Save")),
  ], async (v) => {
    const body = {
      red_activities: activities.filter((a) => v[`red_${a.id}`]).map((a) => a.id),
      switchboard_number: v.switchboard_number.trim() || null,
      customer_service_number: v.customer_service_number.trim() || null,
      allowed_countries: v.allowed_countries.trim() ? commaList(v.allowed_countries) : null,
      denied_prefixes: commaList(v.denied_prefixes),
    };
    body.voicemail = Object.fromEntries(Object.keys(LIMITS).map((k) => [k, Number(v[k])]));
    const saved = await patch("/api/v1/admin/organization", body);
    // the numbers and lists as the service keeps them (E.164, codes in capitals, sorted)
    for (const k of ["switchboard_number", "customer_service_number"]) f.elements[k].value = saved[k] || "";
    f.elements.allowed_countries.value = saved.allowed_countries ? saved.allowed_countries.join(", ") : "";
    f.elements.denied_prefixes.value = (saved.denied_prefixes || []).join(", ");
    status("Tallennettu / Saved");
  }, { id: "admin-org-form" });
  panel.append(section(org.name || "Organisaatio", org.domain || "Organisation", f));
}

// "FI, se ,EE" -> ["FI", "se", "EE"] (the API checks and normalises each).
function commaList(text) {
  return text.split(",").map((x) => x.trim()).filter(Boolean);
}

const LIMITS = {
  max_message_seconds: ["Viestin enimmäispituus (s)", "Longest message (s)"],
  max_messages: ["Viestejä enintään", "Most messages"],
  keep_unheard_days: ["Kuuntelemattomia säilytetään (pv)", "Keep unheard (days)"],
  keep_heard_days: ["Kuunneltuja säilytetään (pv)", "Keep heard (days)"],
};

// ---- organisation totals ------------------------------------------------------------------

async function totals(panel) {
  const data = await get("/api/v1/admin/calls/summary?days=14");
  panel.append(chartSection(data.days, "Organisaation puhelut päivittäin (14 pv)", "Organisation's calls per day (14 days)"));
  const routes = data.routes || [];
  panel.append(section("Yhteensä (14 pv)", "Totals (14 days)", h("dl", { class: "sums", id: "org-totals" },
    h("dt", {}, bi("Puheluita", "Calls")), h("dd", {}, data.total),
    h("dt", {}, bi("Puheaika", "Talk time")), h("dd", {}, fmtDuration(data.talk_seconds)),
    routes.map((r) => [h("dt", { dataset: { route: r.route } }, bi(cap(r.label.fi), cap(r.label.en))), h("dd", {}, r.calls)]))));
}

// The history's labels are lower case (they also stand inside sentences); a list term starts
// with a capital.
function cap(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

