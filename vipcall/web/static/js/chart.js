// A small bar chart of calls per day as inline SVG (no library): one bar per day, stacked
// by direction when the answer says so, with a text table alternative for screen readers.

const NS = "http://www.w3.org/2000/svg";
const s = (tag, attrs = {}, text) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
};

// days: [{day: "2024-05-01", total, incoming?, outgoing?, missed?}]
export function perDayChart(days, title) {
  const W = 640;
  const H = 200;
  const pad = { l: 30, r: 8, t: 10, b: 28 };
  const max = Math.max(1, ...days.map((d) => totalOf(d)));
  const bw = (W - pad.l - pad.r) / Math.max(days.length, 1);
  const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title });
  svg.append(s("title", {}, title));
  for (const v of [0, Math.ceil(max / 2), max]) {
    svg.append(s("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(s("text", { x: pad.l - 4, y: y(v) + 4, "text-anchor": "end", class: "axis" }, v));
  }
  days.forEach((d, i) => {
    const x = pad.l + i * bw + bw * 0.15;
    const w = bw * 0.7;
    const parts = [["incoming", d.incoming], ["outgoing", d.outgoing], ["missed", d.missed]]
      .filter(([, v]) => typeof v === "number");
    let base = 0;
    if (parts.length) {
      for (const [cls, v] of parts) {
        if (!v) continue;
        svg.append(s("rect", { x, width: w, y: y(base + v), height: y(base) - y(base + v), class: `bar ${cls}` },
        ));
        base += v;
      }
    } else {
      const v = totalOf(d);
      svg.append(s("rect", { x, width: w, y: y(v), height: y(0) - y(v), class: "bar" }));
    }
    const date = new Date(`${d.day || d.date}T12:00:00`);
    if (days.length <= 16 || i % 2 === 0) {
      svg.append(s("text", { x: x + w / 2, y: H - pad.b + 14, "text-anchor": "middle", class: "axis" },
        `${date.getDate()}.${date.getMonth() + 1}.`));
    }
    const tip = s("title", {}, `${d.day || d.date}: ${totalOf(d)}`);
    svg.lastChild.append(tip);
  });
  return svg;
}

export function totalOf(d) {
  if (typeof d.total === "number") return d.total;
  if (typeof d.calls === "number") return d.calls;
  return (d.incoming || 0) + (d.outgoing || 0) + (d.missed || 0);
}
