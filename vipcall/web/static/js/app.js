// The home page: one page, hash routes (#/activity, #/mailbox, ...), the session, the
// navigation (admin only for admins) and the live presence updates (EventSource).

import { get, del, setCsrf, whenLoggedOut } from "./api.js";
import { h, bi } from "./ui.js";
import { nameText, idOf } from "./names.js";
import * as login from "./pages/login.js";
import * as password from "./pages/password.js";
import * as activity from "./pages/activity.js";
import * as voicemail from "./pages/voicemail.js";
import * as forwarding from "./pages/forwarding.js";
import * as contacts from "./pages/contacts.js";
import * as mailbox from "./pages/mailbox.js";
import * as servicenumbers from "./pages/servicenumbers.js";
import * as apps from "./pages/apps.js";
import * as calls from "./pages/history.js";
import * as admin from "./pages/admin.js";

// route -> [module, Finnish, English, who may see it]
const ROUTES = {
  login: [login, "Kirjaudu", "Log in", "anonymous"],
  password: [password, "Pyydä salasana", "Request password", "anyone"],
  activity: [activity, "Aktiviteetti", "Activity", "user"],
  voicemail: [voicemail, "Vastaaja", "Voicemail", "user"],
  forwarding: [forwarding, "Ohjaus", "Forwarding", "user"],
  contacts: [contacts, "Yhteystiedot", "Contacts", "user"],
  mailbox: [mailbox, "Postilaatikko", "Mailbox", "user"],
  "service-numbers": [servicenumbers, "Palvelunumerot", "Service numbers", "user"],
  apps: [apps, "Sovellukset", "Apps", "user"],
  history: [calls, "Puheluhistoria", "Call history", "user"],
  admin: [admin, "Hallinta", "Admin", "admin"],
};

export const state = { me: null, presence: null, events: null };

function routeName() {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0];
  return ROUTES[name] ? name : null;
}

export function go(name) {
  if (location.hash === `#/${name}`) render();
  else location.hash = `#/${name}`;
}

function renderNav() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.replaceChildren();
  if (!state.me) {
    nav.hidden = true;
    who.hidden = true;
    return;
  }
  const current = routeName();
  const list = h("ul", {});
  for (const [name, [, fi, en, access]] of Object.entries(ROUTES)) {
    if (access === "anonymous" || access === "anyone") continue;
    if (access === "admin" && !state.me.is_admin) continue;
    list.append(h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null },
      bi(fi, en))));
  }
  nav.append(list);
  nav.hidden = false;
  const here = list.querySelector("[aria-current]");
  if (here && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = here.offsetLeft - 16;
  who.hidden = false;
  document.getElementById("who-name").textContent = state.me.display_name;
  renderBadge();
}

function renderBadge() {
  const badge = document.getElementById("presence-badge");
  const p = state.presence;
  badge.textContent = p ? `${nameText(p.activity, p.activities)} · ${nameText(p.role, p.roles)}` : "";
  badge.dataset.activity = p ? idOf(p.activity) : "";
  badge.dataset.role = p ? idOf(p.role) : "";
  const colour = p && p.activity && typeof p.activity === "object" ? p.activity.colour
    : p && (p.activities || []).find((a) => a.id === idOf(p.activity))?.colour;
  badge.dataset.colour = colour || "";
}

export function setPresence(p) {
  state.presence = { ...(state.presence || {}), ...p };
  renderBadge();
  window.dispatchEvent(new CustomEvent("vip:presence", { detail: state.presence }));
}

let generation = 0;
async function render() {
  const gen = ++generation;
  let name = routeName();
  if (!state.me && (!name || ROUTES[name][3] !== "anyone")) name = "login";
  if (state.me && (!name || name === "login")) name = "activity";
  if (name === "admin" && state.me && !state.me.is_admin) name = "activity";
  // the page's own parameters (#/admin?tab=groups) stay when the route is the one asked for
  const query = location.hash.split("?")[1] || "";
  const params = new URLSearchParams(name === routeName() ? query : "");
  const wanted = params.toString() ? `#/${name}?${params}` : `#/${name}`;
  if (location.hash !== wanted) history.replaceState(null, "", wanted);
  renderNav();
  const [mod, fi, en] = ROUTES[name];
  document.title = `${fi} / ${en} – vipcall`;
  document.body.dataset.page = name;
  const main = document.getElementById("main");
  const root = h("div", { class: "page", id: `page-${name}` });
  try {
    await mod.render(root, { state, go, setPresence, onLogin, params });
  } catch (err) {
    root.append(h("p", { class: "error", role: "alert" }, String(err && err.message ? err.message : err)));
  }
  if (gen !== generation) return;  // a newer route won
  main.replaceChildren(root);
  const title = root.querySelector("h1");
  if (title && document.activeElement && document.activeElement !== document.body &&
      !main.contains(document.activeElement)) {
    title.focus();
  }
}

async function loadPresence() {
  try {
    setPresence(await get("/api/v1/me/presence"));
  } catch {
    /* shown when the presence endpoint answers */
  }
}

function openEvents() {
  closeEvents();
  if (!("EventSource" in window)) return;
  const es = new EventSource("/api/v1/me/events");
  es.addEventListener("presence", (ev) => {
    try {
      const d = JSON.parse(ev.data);
      setPresence({ activity: d.activity, role: d.role });
    } catch {
      /* ignore a malformed event */
    }
  });
  es.addEventListener("open", () => (document.body.dataset.live = "open"));
  es.addEventListener("error", () => (document.body.dataset.live = "retrying"));
  state.events = es;
}

function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
  delete document.body.dataset.live;
}

async function onLogin(session) {
  state.me = session.user;
  setCsrf(session.csrf_token);
  await loadPresence();
  openEvents();
}

async function logOut() {
  try {
    await del("/api/v1/session");
  } finally {
    loggedOut();
  }
}

function loggedOut() {
  state.me = null;
  state.presence = null;
  setCsrf(null);
  closeEvents();
  go("login");
}

async function boot() {
  whenLoggedOut(() => {
    if (state.me) loggedOut();
  });
  document.getElementById("logout").addEventListener("click", logOut);
  try {
    await onLogin(await get("/api/v1/session", { quiet401: true }));
  } catch {
    state.me = null;
  }
  window.addEventListener("hashchange", render);
  await render();
  document.body.dataset.ready = "1";
}

boot();
