// A screen for the room: the last few captions, large, in one language, without the app's
// chrome. Language, text size, lines and speaker names are chosen on a bar that shows when the
// pointer moves or a key is pressed (remembered in this browser). ?lang=es picks the language,
// ?overlay=1 gives a transparent page for OBS. Follows the session live through the events socket.
import { api, followEvents, el, languageName } from "./api.js";
import { Captions } from "./captions.js";

const STORE = "projector";
const HIDE_AFTER_MS = 3000;

function prefs() {
  const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
  return { scale: 1, lines: 3, speakers: false, ...saved };
}

export function projectorPage(root, id, params) {
  const page = { closed: false, socket: null, timer: 0 };
  document.body.classList.add("projecting");
  document.body.classList.toggle("overlay", params.get("overlay") === "1");
  const leave = () => {
    page.closed = true;
    page.socket?.close();
    clearTimeout(page.timer);
    document.body.classList.remove("projecting", "overlay");
    removeEventListener("pointermove", page.wake);
    removeEventListener("keydown", page.wake);
  };
  start(root, id, params, page);
  return leave;
}

async function start(root, id, params, page) {
  let session;
  try {
    session = await api(`/v1/sessions/${id}`);
  } catch (err) {
    if (!page.closed) root.replaceChildren(el("div", { class: "projector-missing" },
      el("p", { class: "error", role: "alert" }, err.status === 404 ? `There is no session “${id}”: it does not exist, or it was deleted.` : err.message),
      el("a", { href: "#/sessions" }, "← All sessions")));
    return;
  }
  if (page.closed) return;
  const p = prefs();
  const wanted = params.get("lang") || "";
  let lang = session.targets.includes(wanted) || wanted === session.language ? wanted : "";
  if (lang === session.language) lang = "";
  const box = el("section", { class: "projector", id: "projector", "aria-live": "polite", "aria-label": "Captions" });
  const bar = toolbar(session, lang, p, {
    language: (value) => { lang = value; connect(); },
    changed: (reconnect) => { localStorage.setItem(STORE, JSON.stringify(p)); style(); if (reconnect) connect(); },
  });
  const style = () => {
    box.style.setProperty("--scale", p.scale);
    box.classList.toggle("with-speakers", p.speakers);
  };
  const connect = () => {
    page.socket?.close();
    const captions = new Captions(box, { targets: lang ? [lang] : [], original: !lang, limit: p.lines });
    box.replaceChildren();
    page.socket = followEvents(id, 0, (e) => captions.apply(e));
  };
  page.wake = () => {
    bar.classList.remove("idle");
    clearTimeout(page.timer);
    page.timer = setTimeout(() => { if (!bar.contains(document.activeElement)) bar.classList.add("idle"); }, HIDE_AFTER_MS);
  };
  addEventListener("pointermove", page.wake);
  addEventListener("keydown", page.wake);
  bar.addEventListener("focusin", page.wake);
  bar.addEventListener("focusout", page.wake);
  root.replaceChildren(bar, box);
  style();
  connect();
  page.wake();
}

/** The bar: language, text size, number of lines, speaker names. */
function toolbar(session, lang, p, { language, changed }) {
  const pick = el("select", { id: "projector-lang", "aria-label": "Language" },
    el("option", { value: "" }, `Original${session.language ? ` (${languageName(session.language)})` : ""}`),
    session.targets.map((t) => el("option", { value: t, selected: t === lang }, languageName(t))));
  pick.addEventListener("change", () => language(pick.value));
  const size = el("output", { id: "projector-size", "aria-live": "polite" });
  const showSize = () => { size.textContent = `${Math.round(p.scale * 100)} %`; };
  const step = (by) => () => { p.scale = Math.min(2.5, Math.max(0.5, Math.round((p.scale + by) * 10) / 10)); showSize(); changed(false); };
  const lines = el("select", { id: "projector-lines", "aria-label": "Lines shown" },
    [1, 2, 3, 4, 5, 6, 8, 10].map((n) => el("option", { value: n, selected: n === p.lines }, `${n} line${n > 1 ? "s" : ""}`)));
  lines.addEventListener("change", () => { p.lines = Number(lines.value); changed(true); });
  const speakers = el("input", { type: "checkbox", id: "projector-speakers", checked: p.speakers });
  speakers.addEventListener("change", () => { p.speakers = speakers.checked; changed(false); });
  showSize();
  return el("div", { class: "projector-bar", id: "projector-bar", role: "toolbar", "aria-label": "Projector settings" },
    el("label", {}, "Language ", pick),
    el("span", { class: "row-actions" }, "Text ",
      el("button", { type: "button", class: "ghost", id: "projector-smaller", "aria-label": "Smaller text", onclick: step(-0.1) }, "A−"),
      size,
      el("button", { type: "button", class: "ghost", id: "projector-larger", "aria-label": "Larger text", onclick: step(0.1) }, "A+")),
    el("label", {}, lines),
    el("label", {}, speakers, " Speaker names"),
    el("a", { href: `#/sessions/${session.id}` }, "Leave"));
}
