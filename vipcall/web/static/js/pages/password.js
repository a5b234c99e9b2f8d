// "Pyydä salasana": username -> a one-time code by email/SMS -> the code and a new password
// twice -> log in. The answer never tells whether the username exists.

import { post } from "../api.js";
import { h, bi, field, form, submit, pageTitle } from "../ui.js";

export async function render(root, { go, params }) {
  const card = h("div", { class: "card narrow" });
  root.append(pageTitle("Pyydä salasana", "Request a password"), card);

  const step1 = form([
    h("p", {}, bi(
      "Anna käyttäjätunnuksesi. Saat kertakäyttöisen koodin sähköpostiin ja/tai tekstiviestinä.",
      "Enter your username. A one-time code is sent by email and/or SMS.")),
    field("username", "Käyttäjätunnus", "Username", {
      autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false",
      value: params.get("username") || "", placeholder: "fi0401234567@organisaatio.fi",
    }),
    h("div", { class: "actions" }, submit("Lähetä koodi", "Send the code")),
  ], async (v) => {
    const username = v.username.trim();
    await post("/api/v1/password/request", { username });
    showStep2(username);
  }, { id: "password-request" });
  card.append(step1);

  function showStep2(username) {
    const step2 = form([
      h("p", { class: "ok", role: "status" }, bi(
        "Jos tunnus on olemassa, koodi on lähetetty. Koodi on voimassa 10 minuuttia.",
        "If the username exists, a code has been sent. It is valid for 10 minutes.")),
      h("input", { type: "hidden", name: "username", value: username }),
      field("code", "Koodi", "Code", {
        inputmode: "numeric", autocomplete: "one-time-code", required: true,
      }),
      field("password", "Uusi salasana", "New password", {
        kind: "password", autocomplete: "new-password", required: true,
      }),
      field("password_again", "Uusi salasana uudelleen", "New password again", {
        kind: "password", autocomplete: "new-password", required: true,
      }),
      h("div", { class: "actions" }, submit("Aseta salasana", "Set the password")),
    ], async (w) => {
      await post("/api/v1/password/reset", {
        username, code: w.code.trim(), password: w.password, password_again: w.password_again,
      });
      card.replaceChildren(
        h("p", { class: "ok", role: "status" }, bi("Salasana vaihdettu. Kirjaudu sisään.",
          "Password changed. Log in.")),
        h("p", {}, h("a", { href: "#/login", class: "button primary" }, bi("Kirjaudu", "Log in"))));
      card.querySelector("a").focus();
    }, { id: "password-reset" });
    card.replaceChildren(step2);
    step2.querySelector('input[name="code"]').focus();
  }

  card.after(h("p", {}, h("a", { href: "#/login", onclick: () => go("login") },
    bi("Takaisin kirjautumiseen", "Back to log in"))));
}
