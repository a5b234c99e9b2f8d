// Puheluhistoria: the user's recent calls (in, out, missed) with the other party, time,
// length and how each was routed; a small chart of calls per day.

import { get, listOf } from "../api.js";
import { h, bi, pageTitle, section, fmtNumber, fmtTime, fmtDuration, empty, table } from "../ui.js";
import { perDayChart, totalOf } from "../chart.js";

const label = (l, fallback) => (l && l.fi ? bi(l.fi, l.en) : fallback || "");

export function chartSection(days, fi, en) {
  const list = listOf(days, "days");
  return section(fi, en, list.length
    ? [perDayChart(list, `${fi} / ${en}`),
      h("p", { class: "legend" }, h("span", { class: "incoming" }, bi("saapuvat", "incoming")),
        h("span", { class: "outgoing" }, bi("lähtevät", "outgoing")), h("span", { class: "missed" }, bi("vastaamattomat", "missed"))),
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
      list.map((c) => h("tr", { class: c.direction, dataset: { id: c.id } },
        h("td", {}, fmtTime(c.started_at)),
        h("td", {}, label(c.direction_label, c.direction)),
        h("td", {}, c.other_name ? `${c.other_name} ` : "",
          c.other_number ? fmtNumber(c.other_number) : bi("tuntematon", "anonymous")),
        h("td", {}, fmtDuration(c.length_seconds)),
        h("td", {}, label(c.route_label, c.route)))), { id: "calls-table" })
      : empty("Ei puheluita.", "No calls.")),
  );
}
