// Postilaatikko: voicemail messages with caller, time and length; play in the browser,
// download, mark heard, delete; and the key map of the phone's mailbox menu.

import { get, patch, del, listOf } from "../api.js";
import { h, bi, pageTitle, section, button, act, fmtNumber, fmtTime, fmtDuration, empty } from "../ui.js";

function keyMap(data) {
  if (!data || !Array.isArray(data.menus)) return null;
  return h("div", { class: "keymaps" },
    h("p", {}, bi("Kuuntelunumero", "Listening number"), ": ",
      h("a", { href: `tel:${data.listening_number}` }, fmtNumber(data.listening_number))),
    data.menus.map((m) => h("div", { class: "keymap", dataset: { menu: m.menu } },
      h("h3", {}, bi(m.fi || m.menu, m.en)),
      h("dl", {}, m.keys.map((k) => [
        h("dt", {}, h("kbd", {}, k.key)),
        h("dd", {}, bi(k.fi, k.en))])),
      h("details", {}, h("summary", {}, bi("Mitä puhelin sanoo", "What the phone says")),
        h("p", {}, m.spoken_fi), h("p", { lang: "en", class: "en" }, m.spoken_en)))));
}

export async function render(root) {
  const listHolder = h("div", { id: "messages" });
  const keysHolder = h("div", {});

  async function load() {
    const [data, keys] = await Promise.all([get("/api/v1/me/messages"), get("/api/v1/me/voicemail/keys")]);
    const messages = listOf(data, "messages");
    const km = keyMap(keys);
    keysHolder.replaceChildren(km || empty("Näppäinkarttaa ei saatavilla.", "Key map not available."));
    listHolder.replaceChildren(messages.length ? h("ul", { class: "messages" }, messages.map((m) => {
      const audioUrl = m.audio_url || `/api/v1/me/messages/${m.id}/audio`;
      const caller = fmtNumber(m.caller) || "Tuntematon / Unknown";
      const heard = !!m.heard;
      const audio = h("audio", { controls: true, preload: "none", src: audioUrl,
        "aria-label": `Viesti / Message ${caller}` });
      audio.addEventListener("play", () => {
        if (!heard) act(() => patch(`/api/v1/me/messages/${m.id}`, { heard: true }));
      }, { once: true });
      return h("li", { class: heard ? "heard" : "new", dataset: { id: m.id } },
        h("div", { class: "msg-head" },
          h("strong", {}, caller),
          h("span", {}, fmtTime(m.created_at)),
          h("span", { "aria-label": `Kesto / Length ${fmtDuration(m.seconds)}` }, fmtDuration(m.seconds)),
          h("span", { class: "tag" }, heard ? bi("Kuunneltu", "Heard") : bi("Uusi", "New")),
          m.saved ? h("span", { class: "tag" }, bi("Tallennettu", "Saved")) : null),
        audio,
        h("div", { class: "actions" },
          h("a", { class: "button", href: `${audioUrl}${audioUrl.includes("?") ? "&" : "?"}download=1`, download: "" }, bi("Lataa", "Download")),
          heard ? button("Merkitse uudeksi", "Mark new", { onclick: () => act(async () => {
            await patch(`/api/v1/me/messages/${m.id}`, { heard: false }); await load(); }) })
            : button("Merkitse kuunnelluksi", "Mark heard", { onclick: () => act(async () => {
              await patch(`/api/v1/me/messages/${m.id}`, { heard: true }); await load(); }, "Merkitty / Marked") }),
          button("Poista", "Delete", { class: "danger", onclick: () => act(async () => {
            await del(`/api/v1/me/messages/${m.id}`); await load(); }, "Poistettu / Deleted") })));
    })) : empty("Ei viestejä.", "No messages."));
  }

  root.append(
    pageTitle("Postilaatikko", "Mailbox"),
    section("Viestit", "Messages", listHolder),
    section("Puhelimen näppäimet", "Phone keys", h("p", { class: "muted" }, bi(
      "Näin vastaajaa käytetään puhelimella.", "How to use the mailbox by phone.")), keysHolder),
  );
  await load();
}
