// Activity and role (takes effect on the next call), and scheduled activities on a week
// timeline (add, remove). The badge and this page follow live changes made by phone.

import { get, put, post, del, listOf } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, act, status, fmtTime, button, empty, fmtNumber } from "../ui.js";
import { nameText, idOf } from "../names.js";

function choice(name, legendFi, legendEn, entries, current, onChange) {
  const fs = h("fieldset", { class: "choices", id: `${name}-choices` },
    h("legend", {}, bi(legendFi, legendEn)));
  for (const e of entries) {
    const id = `${name}-${e.id}`;
    const input = h("input", { type: "radio", name, id, value: e.id, checked: e.id === idOf(current) });
    input.addEventListener("change", () => onChange(e.id));
    fs.append(h("div", { class: `choice ${e.colour || ""}` }, input, h("label", { for: id },
      h("span", { class: "num", "aria-hidden": "true" }, e.id), bi(e.fi, e.en),
      e.colour === "red" ? h("span", { class: "sr-only" }, " (punainen / red)") : null)));
  }
  return fs;
}

const DAY_FI = ["su", "ma", "ti", "ke", "to", "pe", "la"];
const DAY_EN = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

// The service allows scheduled activities to overlap (where they do, the later-starting one
// is in effect), so a day's blocks go on lanes: a block never shares a lane with one it
// overlaps, and the day's row grows by a lane for each level of overlap. Layout only.
function lanes(blocks) {
  const laneEnds = [];
  const laneOf = new Map();
  const sorted = [...blocks].sort((a, b) => a.start_minute - b.start_minute || a.id - b.id);
  for (const b of sorted) {
    let i = laneEnds.findIndex((end) => end <= b.start_minute);
    if (i < 0) i = laneEnds.push(0) - 1;
    laneEnds[i] = b.end_minute;
    laneOf.set(b, i);
  }
  return { laneOf, count: Math.max(1, laneEnds.length) };
}

export function timeline(week) {
  const wrap = h("div", { class: "timeline", id: "week-timeline" });
  wrap.append(h("div", { class: "tl-row tl-hours", "aria-hidden": "true" }, h("span", { class: "tl-day" }),
    h("div", { class: "tl-track" }, [0, 6, 12, 18].map((x) => h("span", { style: `left:${(x / 24) * 100}%` }, `${x}`)))));
  const now = new Date();
  const minuteNow = now.getHours() * 60 + now.getMinutes();
  week.days.forEach((day, i) => {
    const d = new Date(`${day.date}T12:00:00`);
    const { laneOf, count } = lanes(day.blocks);
    const track = h("div", { class: "tl-track", style: `--lanes:${count}`, dataset: { lanes: count } });
    const described = [];
    for (const b of day.blocks) {
      const left = (b.start_minute / 1440) * 100;
      const width = Math.max(((b.end_minute - b.start_minute) / 1440) * 100, 0.8);
      const text = `${nameText(b.activity)} ${fmtTime(b.starts_at)} – ${fmtTime(b.ends_at)}`;
      described.push(text);
      track.append(h("span", { class: `tl-block ${b.activity.colour || ""}`, dataset: { id: b.id, lane: laneOf.get(b) },
        style: `left:${left}%;width:${width}%;--lane:${laneOf.get(b)}`, title: text }, b.activity.fi));
    }
    if (i === 0) track.append(h("span", { class: "tl-now", style: `left:${(minuteNow / 1440) * 100}%` }));
    wrap.append(h("div", { class: "tl-row" },
      h("span", { class: "tl-day" }, `${DAY_FI[d.getDay()]} ${d.getDate()}.${d.getMonth() + 1}.`,
        h("span", { class: "en", lang: "en" }, ` ${DAY_EN[d.getDay()]}`)),
      track,
      h("span", { class: "sr-only" }, described.length ? described.join("; ") : "ei ajastuksia / nothing scheduled")));
  });
  return wrap;
}

function localInput(d) {
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function render(root, { setPresence }) {
  let presence = await get("/api/v1/me/presence");
  setPresence(presence);
  const activities = presence.activities || [];
  const roles = presence.roles || [];

  const info = h("div", { id: "presence-info", "aria-live": "polite" });
  const showInfo = (p) => {
    info.replaceChildren();
    const manual = p.manual_activity;
    if (p.scheduled) {
      info.append(h("p", {}, bi(
        `Ajastettu: ${nameText(p.scheduled.activity)} ${fmtTime(p.scheduled.ends_at)} asti`,
        `Scheduled until ${fmtTime(p.scheduled.ends_at)}`)));
      if (manual) info.append(h("p", { class: "muted" }, bi(`Muuten: ${nameText(manual)}`, "otherwise")));
    }
    if (p.immediate_forward) {
      info.append(h("p", {}, bi(`Kaikki puhelut ohjataan numeroon ${fmtNumber(p.immediate_forward)}`,
        "every call is forwarded")));
    }
  };
  showInfo(presence);

  const setIt = (body) => act(async () => {
    presence = await put("/api/v1/me/presence", body);
    setPresence(presence);
    showInfo(presence);
  }, "Tallennettu / Saved");

  const activityBox = choice("activity", "Aktiviteetti", "Activity", activities, presence.activity,
    (n) => setIt({ activity: n }));
  const roleBox = choice("role", "Rooli (näkyvä numero)", "Role (caller ID shown)", roles, presence.role,
    (n) => setIt({ role: n }));

  const onLive = (ev) => {
    const p = ev.detail;
    const a = root.querySelector(`#activity-${idOf(p.activity)}`);
    const r = root.querySelector(`#role-${idOf(p.role)}`);
    if (a) a.checked = true;
    if (r) r.checked = true;
    get("/api/v1/me/presence").then(showInfo, () => {});
  };
  window.addEventListener("vip:presence", onLive);
  const stop = new MutationObserver(() => {
    if (!root.isConnected) {
      window.removeEventListener("vip:presence", onLive);
      stop.disconnect();
    }
  });
  stop.observe(document.getElementById("main"), { childList: true });

  const tlHolder = h("div", {});
  const listHolder = h("div", {});
  const redraw = async () => {
    const [week, schedule] = await Promise.all([get("/api/v1/me/schedule/week"), get("/api/v1/me/schedule")]);
    tlHolder.replaceChildren(timeline(week));
    const list = listOf(schedule, "schedule");
    listHolder.replaceChildren(list.length
      ? h("ul", { class: "rows", id: "schedule-list" }, list.map((e) => h("li", { dataset: { id: e.id } },
          h("span", { class: "grow" }, h("strong", {}, nameText(e.activity)), " ",
            `${fmtTime(e.starts_at)} – ${fmtTime(e.ends_at)}`),
          button("Poista", "Remove", { class: "danger", onclick: () => act(async () => {
            await del(`/api/v1/me/schedule/${e.id}`);
            await redraw();
            setPresence(await get("/api/v1/me/presence"));
          }, "Poistettu / Removed") }))))
      : empty("Ei ajastettuja aktiviteetteja.", "No scheduled activities."));
  };
  await redraw();

  const start = new Date();
  start.setMinutes(0, 0, 0);
  start.setHours(start.getHours() + 1);
  const end = new Date(start.getTime() + 3600000);
  const addForm = form([
    h("div", { class: "grid3" },
      field("activity", "Aktiviteetti", "Activity", { kind: "select",
        options: activities.map((a) => [a.id, `${a.id} ${a.fi} / ${a.en}`]), value: 5 }),
      field("starts_at", "Alkaa", "Starts", { kind: "datetime-local", value: localInput(start), required: true }),
      field("ends_at", "Päättyy", "Ends", { kind: "datetime-local", value: localInput(end), required: true })),
    h("div", { class: "actions" }, submit("Lisää ajastus", "Add")),
  ], async (v) => {
    // Local wall-clock time as typed: the API reads it as Helsinki time.
    await post("/api/v1/me/schedule", { activity: Number(v.activity), starts_at: v.starts_at, ends_at: v.ends_at });
    await redraw();
    setPresence(await get("/api/v1/me/presence"));
    status("Ajastus lisätty / Scheduled");
  }, { id: "schedule-form" });

  root.append(
    pageTitle("Aktiviteetti ja rooli", "Activity and role"),
    h("p", { class: "muted" }, bi("Muutos tulee voimaan seuraavasta puhelusta.", "A change applies from the next call.")),
    h("div", { class: "two" },
      section("Aktiviteetti", "Activity", activityBox, info),
      section("Rooli", "Role", roleBox)),
    section("Ajastetut aktiviteetit", "Scheduled activities",
      h("p", { class: "muted" }, bi("Tänään ja kuusi seuraavaa päivää. Päällekkäisistä on voimassa myöhemmin alkava.",
        "Today and the next six days. Where two overlap, the later-starting one applies.")),
      tlHolder, listHolder, addForm),
  );
}
