// Log in with the username (fi<mobile>@<org domain>) and password.

import { post } from "../api.js";
import { h, bi, field, form, submit, pageTitle } from "../ui.js";

export async function render(root, { go, onLogin }) {
  root.append(
    pageTitle("Kirjaudu sisään", "Log in"),
    h("div", { class: "card narrow" },
      form([
        field("username", "Käyttäjätunnus", "Username", {
          kind: "text", autocomplete: "username", required: true, autocapitalize: "none",
          spellcheck: "false", placeholder: "fi0401234567@organisaatio.fi",
        }),
        field("password", "Salasana", "Password", {
          kind: "password", autocomplete: "current-password", required: true,
        }),
        h("div", { class: "actions" }, submit("Kirjaudu", "Log in")),
      ], async (v) => {
        const session = await post("/api/v1/session", {
          username: v.username.trim(), password: v.password,
        }, { quiet401: true });
        await onLogin(session);
        go("activity");
      }, { id: "login-form" }),
      h("p", {}, h("a", { href: "#/password" }, bi("Pyydä salasana", "Request a password"))),
    ),
  );
}
