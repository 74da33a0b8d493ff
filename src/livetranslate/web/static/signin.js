// Signing the dashboard in when the server asks for API keys: the key is sent once and the
// server answers with an HttpOnly cookie, so the page never keeps the key (not even in memory
// once the form is gone). Any 401 from the API or a 4401 from a socket brings this page up.
import { api, el } from "./api.js";

export async function whoAmI() {
  try {
    return await api("/v1/auth/session");
  } catch {
    return null; // signed out (the 401 brings up the sign-in page)
  }
}

export function signInPage(box, onSignedIn) {
  const key = el("input", { id: "api-key", type: "password", autocomplete: "off", required: true, spellcheck: "false",
    placeholder: "lt_…" });
  const error = el("p", { id: "sign-in-error", class: "error", role: "alert", hidden: true });
  const form = el("form", { id: "sign-in", class: "sign-in" },
    el("label", { for: "api-key" }, "API key"), key,
    el("button", { type: "submit" }, "Sign in"), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    try {
      const who = await api("/v1/auth/session", { method: "POST", body: { key: key.value.trim() } });
      key.value = "";
      onSignedIn(who);
    } catch (err) {
      error.textContent = err.status === 401 ? `That key was refused: ${err.message}` : err.message;
      error.hidden = false;
      key.select();
    }
  });
  box.replaceChildren(
    el("h1", {}, "Sign in"),
    el("p", {}, "This server asks for an API key. Its operator makes one with ",
      el("code", {}, "livetranslate keys create"), ". Your browser keeps only a sign-in, not the key."),
    form);
  key.focus();
}
