// Sessions: the list (newest first, paged, searchable), a recording to upload, and what a
// person does to one session from here or its own page: Resume, End, Rename, Delete.
import { api, el, clock, toast } from "./api.js";
import { uploadBox } from "./upload.js";

const PAGE = 20;

export async function sessionsPage(root, params) {
  const q = params.get("q") || "";
  const offset = Number(params.get("offset") || 0);
  const search = el("input", { type: "search", id: "search", value: q, placeholder: "Search titles and transcripts", "aria-label": "Search" });
  const form = el("form", { class: "controls", role: "search" }, search, el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/sessions?q=${encodeURIComponent(search.value)}`;
  });
  const reload = () => sessionsPage(root, params);
  root.replaceChildren(el("h1", {}, "Sessions"), form, el("p", {}, "Loading…"));
  let page;
  try {
    page = await api(`/v1/sessions?limit=${PAGE}&offset=${offset}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  } catch (err) {
    root.lastChild.replaceWith(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const rows = page.items.map((s) => {
    const title = el("td", {}, el("a", { href: `#/sessions/${s.id}` }, s.title || "(untitled)"));
    return el("tr", { "data-session": s.id },
      title,
      el("td", {}, new Date(s.created_at).toLocaleString()),
      el("td", {}, clock(s.audio_seconds)),
      el("td", {}, s.status),
      el("td", {}, [s.language || "auto", ...(s.targets.length ? ["→", s.targets.join(", ")] : [])].join(" ")),
      el("td", {}, sessionActions(s, { rename: () => title.replaceChildren(titleForm(s, reload, reload)), changed: reload })));
  });
  const table = page.items.length
    ? el("table", { id: "sessions" }, el("thead", {}, el("tr", {}, ["Title", "Created", "Length", "Status", "Languages", "Actions"].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
    : el("p", {}, q ? `No session mentions “${q}”.` : "No sessions yet. Start one on the Live page, or upload a recording.");
  const link = (to, text) => el("a", { href: `#/sessions?offset=${to}${q ? `&q=${encodeURIComponent(q)}` : ""}` }, text);
  const pager = el("div", { class: "pager" },
    offset > 0 ? link(Math.max(0, offset - PAGE), "← Newer") : null,
    el("span", {}, `${page.total ? offset + 1 : 0}–${Math.min(offset + PAGE, page.total)} of ${page.total}`),
    offset + PAGE < page.total ? link(offset + PAGE, "Older →") : null);
  root.lastChild.replaceWith(table);
  root.append(pager, await uploadBox());
}

/** Resume (a paused session, on the Live page), End, Rename and Delete for one session.
 * rename(): show the title form; changed(): the session changed (deleted: gone). */
export function sessionActions(s, { rename, changed, deleted = changed }) {
  const name = s.title || "this untitled session";
  const end = async () => {
    try {
      await api(`/v1/sessions/${s.id}/end`, { method: "POST" });
      changed();
    } catch (err) { toast(err.message); }
  };
  const remove = async () => {
    if (!confirm(`Delete “${name}”? Its transcript, translations and audio are removed for good.`)) return;
    try {
      await api(`/v1/sessions/${s.id}`, { method: "DELETE" });
      deleted();
    } catch (err) { toast(err.message); }
  };
  const button = (action, text, onclick, label) =>
    el("button", { type: "button", class: "ghost", "data-action": action, "aria-label": `${label} “${name}”`, onclick }, text);
  return el("div", { class: "row-actions session-actions" },
    s.status === "paused" ? el("a", { href: `#/live?session=${s.id}`, "data-action": "resume", class: "button", "aria-label": `Resume “${name}” on the Live page` }, "Resume") : null,
    ["created", "live", "paused"].includes(s.status) ? button("end", "End", end, "End") : null,
    button("rename", "Rename", rename, "Rename"),
    button("delete", "Delete", remove, "Delete"));
}

/** The title as a field: Enter or Save stores it (PATCH), Escape or Cancel leaves it. */
export function titleForm(s, saved, cancel) {
  const input = el("input", { type: "text", name: "title", value: s.title || "", maxlength: 300, "aria-label": "Title", placeholder: "Title" });
  const form = el("form", { class: "title-form" }, input,
    el("button", { type: "submit" }, "Save"), el("button", { type: "button", class: "ghost", onclick: cancel }, "Cancel"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api(`/v1/sessions/${s.id}`, { method: "PATCH", body: { title: input.value.trim() || null } });
      saved();
    } catch (err) { toast(err.message); }
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Escape") cancel(); });
  queueMicrotask(() => { input.focus(); input.select(); });
  return form;
}
