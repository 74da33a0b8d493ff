// Hash routes: #/live (?session=ID: rejoin it), #/bots, #/bots/{id}, #/sessions, #/sessions/{id}, #/projector/{id}.
import { livePage } from "./live.js";
import { sessionsPage } from "./sessions.js";
import { sessionPage } from "./session.js";
import { projectorPage } from "./projector.js";
import { settingsPage } from "./settings.js";
import { botsPage, botPage } from "./bots.js";
import { signInPage, whoAmI } from "./signin.js";
import { api, useToken } from "./api.js";

const view = document.getElementById("view");
let leave = null;
let current = 0;

/** Each navigation draws into a box of its own: a page still loading when the next navigation
 * comes draws into a box no longer shown, and is left as soon as it hands back its leave(). */
async function route() {
  const [path, query] = (location.hash.slice(1) || "/live").split("?");
  const params = new URLSearchParams(query || "");
  if (params.has("token")) useToken(params.get("token")); // a share link
  const parts = path.split("/").filter(Boolean);
  const mine = ++current;
  if (leave) { leave(); leave = null; }
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.toggleAttribute("aria-current", a.dataset.nav === parts[0]);
    if (a.dataset.nav === parts[0]) a.setAttribute("aria-current", "page");
  }
  const box = document.createElement("div");
  view.replaceChildren(box);
  let left;
  if (parts[0] === "sessions" && parts[1]) left = sessionPage(box, parts[1], params);
  else if (parts[0] === "sessions") left = await sessionsPage(box, params);
  else if (parts[0] === "projector" && parts[1]) left = projectorPage(box, parts[1], params);
  else if (parts[0] === "settings") left = await settingsPage(box);
  else if (parts[0] === "bots" && parts[1]) left = botPage(box, parts[1]);
  else if (parts[0] === "bots") left = await botsPage(box);
  else left = await livePage(box, params);
  if (mine === current) leave = left ?? null;
  else left?.(); // a newer navigation began while this page loaded
}

const theme = localStorage.getItem("theme");
if (theme) document.documentElement.dataset.theme = theme;
document.getElementById("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "light" : "dark";
  localStorage.setItem("theme", document.documentElement.dataset.theme);
});

// with API keys asked for: a sign-in page on any 401, and Sign out in the bar once signed in
const signOut = document.getElementById("sign-out");
function signedIn(who) {
  signOut.hidden = who?.mode !== "keys";
  if (who?.mode === "keys") signOut.textContent = `Sign out (${who.role}${who.tenant ? ` · ${who.tenant}` : ""})`;
}
addEventListener("lt:signed-out", () => {
  if (document.getElementById("sign-in")) return;
  if (leave) { leave(); leave = null; }
  current++;
  signOut.hidden = true;
  const box = document.createElement("div");
  view.replaceChildren(box);
  signInPage(box, (who) => { signedIn(who); route(); });
});
signOut.addEventListener("click", async () => {
  await api("/v1/auth/session", { method: "DELETE" }).catch(() => {});
  dispatchEvent(new CustomEvent("lt:signed-out"));
});

addEventListener("hashchange", route);
whoAmI().then(signedIn);
route();
