// Hash routes: #/live (?session=ID: rejoin it), #/sessions, #/sessions/{id}, #/projector/{id}.
import { livePage } from "./live.js";
import { sessionsPage } from "./sessions.js";
import { sessionPage } from "./session.js";
import { projectorPage } from "./projector.js";
import { settingsPage } from "./settings.js";

const view = document.getElementById("view");
let leave = null;

async function route() {
  const [path, query] = (location.hash.slice(1) || "/live").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  if (leave) { leave(); leave = null; }
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.toggleAttribute("aria-current", a.dataset.nav === parts[0]);
    if (a.dataset.nav === parts[0]) a.setAttribute("aria-current", "page");
  }
  if (parts[0] === "sessions" && parts[1]) leave = sessionPage(view, parts[1], params);
  else if (parts[0] === "sessions") await sessionsPage(view, params);
  else if (parts[0] === "projector" && parts[1]) leave = projectorPage(view, parts[1], params);
  else if (parts[0] === "settings") leave = await settingsPage(view);
  else leave = await livePage(view, params);
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

addEventListener("hashchange", route);
route();
