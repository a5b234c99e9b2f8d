// Palvelut -> Vastaajan asetukset: notices, what the greeting says and offers, the recorded
// greeting and name (upload any common audio format, or record in the browser), the PIN.

import { get, patch, put, del } from "../api.js";
import { h, bi, field, form, submit, pageTitle, section, status, button, act } from "../ui.js";
import { canRecord, startRecording } from "../recorder.js";

const NOTIFY = [["sms", "Tekstiviesti / SMS"], ["email", "Sähköposti / Email"],
  ["both", "Molemmat / Both"], ["none", "Ei ilmoitusta / None"]];

function audioBlock(kind, fi, en, has, reload, maxSeconds) {
  const path = `/api/v1/me/voicemail/${kind}`;
  const fileForm = form([
    field("file", `Lataa tiedosto (${fi.toLowerCase()})`, `Upload a file (${en.toLowerCase()})`, {
      kind: "file", accept: "audio/*,.wav,.mp3,.ogg,.flac,.aiff,.m4a",
      hint: "WAV, MP3, OGG, FLAC … muunnetaan / converted",
    }),
    h("div", { class: "actions" }, submit("Lähetä", "Upload")),
  ], async (v) => {
    if (!v.file) throw new Error("Valitse tiedosto / Choose a file");
    const fd = new FormData();
    fd.append("file", v.file, v.file.name);
    await put(path, fd);
    status("Tallennettu / Saved");
    await reload();
  }, { id: `${kind}-upload` });

  const rec = h("div", { class: "actions" });
  if (canRecord()) {
    // One recording at a time: the button is off while the microphone starts and while a
    // recording is saved; the microphone is released when the page is left or redrawn, and
    // a recording stops and is saved by itself at the longest length the service keeps.
    let recording = null;
    let watch = null;
    const btn = button("Äänitä selaimessa", "Record in the browser", { class: "record" });
    const idle = () => {
      clearInterval(watch);
      watch = null;
      recording = null;
      btn.disabled = false;
      btn.replaceChildren(bi("Äänitä selaimessa", "Record in the browser"));
      btn.removeAttribute("aria-pressed");
    };
    const save = async () => {
      const current = recording;
      btn.disabled = true;
      clearInterval(watch);
      let blob;
      try {
        blob = await current.stop(maxSeconds);
      } catch (e) {
        idle();
        status(`Äänitys epäonnistui / Recording failed: ${e.message}`, true);
        return;
      }
      idle();
      const fd = new FormData();
      fd.append("file", blob, `${kind}.wav`);
      await act(async () => { await put(path, fd); await reload(); }, "Tallennettu / Saved");
    };
    btn.addEventListener("click", async () => {
      if (btn.disabled) return;
      if (recording) {
        await save();
        return;
      }
      btn.disabled = true;
      try {
        recording = await startRecording();
      } catch (e) {
        idle();
        status(`Mikrofoni ei käytettävissä / Microphone not available: ${e.message}`, true);
        return;
      }
      btn.disabled = false;
      btn.replaceChildren(bi("Lopeta ja tallenna", "Stop and save"));
      btn.setAttribute("aria-pressed", "true");
      watch = setInterval(() => {
        if (!recording) return;
        if (!btn.isConnected) {
          // the page was left or redrawn: the microphone goes off, nothing is saved
          const gone = recording;
          idle();
          gone.abandon();
        } else if (maxSeconds && recording.seconds() >= maxSeconds) {
          save();
        }
      }, 250);
    });
    rec.append(btn);
  }
  return section(fi, en,
    h("p", {}, has ? bi("Äänitetty.", "Recorded.") : bi("Ei äänitettyä.", "Nothing recorded.")),
    fileForm, rec,
    has && h("div", { class: "actions" }, button("Poista", "Delete", { class: "danger",
      onclick: () => act(async () => { await del(path); await reload(); }, "Poistettu / Deleted") })));
}

export async function render(root) {
  const load = async () => {
    const s = await get("/api/v1/me/voicemail");
    root.replaceChildren(
      pageTitle("Vastaajan asetukset", "Voicemail settings"),
      h("p", { class: "muted" }, bi("Palvelut → Vastaajan asetukset", "Services → Voicemail settings")),
      section("Ilmoitukset ja tervehdys", "Notices and greeting", settingsForm(s, load)),
      audioBlock("greeting", "Tervehdys", "Greeting", s.has_greeting, load,
        s.max_greeting_seconds),
      audioBlock("name", "Nimi", "Name", s.has_name, load, s.max_name_seconds),
      section("PIN-koodi", "PIN", pinForm(s)),
    );
  };
  await load();
}

function settingsForm(s, reload) {
  return form([
    field("notify_by", "Ilmoitus uudesta viestistä", "Notice of a new message", {
      kind: "select", options: NOTIFY, value: s.notify_by }),
    field("announce_activity", "Kerro aktiviteetti tervehdyksessä", "Announce the activity", {
      kind: "checkbox", value: s.announce_activity }),
    field("announce_end_time", "Kerro päättymisaika", "Announce the end time", {
      kind: "checkbox", value: s.announce_end_time }),
    field("offer_transfer", "Näppäin 1: yhdistä numeroon", "Key 1: connect to a number", {
      kind: "checkbox", value: s.offer_transfer }),
    field("transfer_target", "Näppäimen 1 numero", "Key 1 number", {
      kind: "tel", value: s.transfer_target || "", autocomplete: "off" }),
    field("offer_bypass", "Näppäin 2: ohita tervehdys", "Key 2: skip the greeting", {
      kind: "checkbox", value: s.offer_bypass }),
    field("offer_customer_service", "Poissaolotiedotteessa asiakaspalvelun näppäin", "Customer-service key in the absence notice", {
      kind: "checkbox", value: s.offer_customer_service }),
    field("customer_service_number", "Asiakaspalvelun numero", "Customer-service number", {
      kind: "tel", value: s.customer_service_number || "", autocomplete: "off" }),
    field("notice_on_scheduled_red", "Poissaolotiedote myös ajastetun punaisen aikana", "Absence notice also during a scheduled red activity", {
      kind: "checkbox", value: s.notice_on_scheduled_red }),
    field("repeat_breakthrough", "Toistuva soittaja pääsee läpi", "A repeat caller gets through", {
      kind: "checkbox", value: s.repeat_breakthrough }),
    h("div", { class: "grid3" },
      field("repeat_calls", "Soittoja", "Calls", { kind: "number", value: s.repeat_calls,
        min: (s.repeat_calls_range || [])[0], max: (s.repeat_calls_range || [])[1] }),
      field("repeat_minutes", "Minuutin sisällä", "Within minutes", { kind: "number", value: s.repeat_minutes,
        min: (s.repeat_minutes_range || [])[0], max: (s.repeat_minutes_range || [])[1] })),
    h("div", { class: "actions" }, submit("Tallenna", "Save")),
  ], async (v) => {
    const body = { ...v, repeat_calls: Number(v.repeat_calls), repeat_minutes: Number(v.repeat_minutes) };
    for (const k of ["transfer_target", "customer_service_number"]) {
      body[k] = body[k].trim() || null;
    }
    await patch("/api/v1/me/voicemail", body);
    status("Tallennettu / Saved");
    await reload();
  }, { id: "voicemail-form" });
}

function pinForm(s) {
  return form([
    h("p", {}, s.has_pin ? bi("PIN on asetettu.", "A PIN is set.") : bi("PIN-koodia ei ole.", "No PIN set.")),
    field("pin", `Uusi PIN (${(s.pin_length || [4, 8]).join("–")} numeroa)`, `New PIN (${(s.pin_length || [4, 8]).join("–")} digits)`, {
      kind: "password", inputmode: "numeric", autocomplete: "new-password", required: true }),
    h("div", { class: "actions" }, submit("Vaihda PIN", "Change the PIN")),
  ], async (v, f) => {
    await put("/api/v1/me/voicemail/pin", { pin: v.pin.trim() });
    f.reset();
    status("PIN vaihdettu / PIN changed");
  }, { id: "pin-form" });
}
