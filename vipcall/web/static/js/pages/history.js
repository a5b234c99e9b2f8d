// Puheluhistoria: the user's recent calls (in, out, missed) with the other party, time,
// length and how each was routed; a small chart of calls per day.

import { get, listOf } from "../api.js";
import { h, bi, pageTitle, section, fmtNumber, fmtTime, fmtDuration, empty, table } from "../ui.js";
import { ROUTED } from "../names.js";
import { perDayChart, totalOf } from "../chart.js";

const DIRECTION = {
  in: ["Saapuva", "In"], incoming: ["Saapuva", "In"],
  out: ["Lähtevä", "Out"], outgoing: ["Lähtevä", "Out"],
  missed: ["Vastaamaton", "Missed"],
};

const words = (table_, key) => (table_[key] ? bi(...table_[key]) : key || "");

export function chartSection(days, fi, en) {
  const list = listOf(days, "days");
  return section(fi, en, list.length
    ? [perDayChart(list, `${fi} / ${en}`),
      h("details", {}, h("summary", {}, bi("Luvut taulukkona", "As a table")),
        table([["Päivä", "Day"], ["Puheluita", "Calls"]],
          list.map((d) => h("tr", {}, h("td", {}, d.day || d.date), h("td", {}, totalOf(d))))))]
    : empty("Ei puheluita.", "No calls."));
}

export async function render(root) {
  const [calls, perDay] = await Promise.all([
    get("/api/v1/me/calls?days=30"), get("/api/v1/me/calls/per-day?days=14")]);
  const list = listOf(calls, "calls");
  root.append(
    pageTitle("Puheluhistoria", "Call history"),
    chartSection(perDay, "Puhelut päivittäin (14 pv)", "Calls per day (14 days)"),
    section("Viimeisimmät puhelut (30 pv)", "Recent calls (30 days)", list.length ? table(
      [["Aika", "Time"], ["Suunta", "Direction"], ["Toinen osapuoli", "Other party"], ["Kesto", "Length"], ["Reititys", "Routed"]],
      list.map((c) => h("tr", { class: c.direction },
        h("td", {}, fmtTime(c.started_at || c.at)),
        h("td", {}, words(DIRECTION, c.direction)),
        h("td", {}, c.other_name ? `${c.other_name} ` : "", fmtNumber(c.other_number || c.other_party || "")),
        h("td", {}, fmtDuration(c.duration_seconds ?? c.seconds)),
        h("td", {}, words(ROUTED, c.routed || c.outcome)))), { id: "calls-table" })
      : empty("Ei puheluita.", "No calls.")),
  );
}
