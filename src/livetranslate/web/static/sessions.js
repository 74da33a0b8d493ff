// Sessions: the list (newest first, paged, searchable), and one session's transcript with
// speakers (rename), translations, audio from any line, and exports.
import { api, el, clock, toast, languageName } from "./api.js";
import { speakerColour, speakerLabel } from "./captions.js";

const PAGE = 20;
const SOURCES = { track: "own audio track", meeting: "named by the meeting", voiceprint: "voiceprint", cluster: "told apart by voice", user: "named by you" };

export async function sessionsPage(root, params) {
  const q = params.get("q") || "";
  const offset = Number(params.get("offset") || 0);
  const search = el("input", { type: "search", id: "search", value: q, placeholder: "Search titles and transcripts", "aria-label": "Search" });
  const form = el("form", { class: "controls", role: "search" }, search, el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/sessions?q=${encodeURIComponent(search.value)}`;
  });
  root.replaceChildren(el("h1", {}, "Sessions"), form, el("p", {}, "Loading…"));
  let page;
  try {
    page = await api(`/v1/sessions?limit=${PAGE}&offset=${offset}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  } catch (err) {
    root.lastChild.replaceWith(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const rows = page.items.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `#/sessions/${s.id}` }, s.title || "(untitled)")),
    el("td", {}, new Date(s.created_at).toLocaleString()),
    el("td", {}, clock(s.audio_seconds)),
    el("td", {}, s.status),
    el("td", {}, [s.language || "auto", ...(s.targets.length ? ["→", s.targets.join(", ")] : [])].join(" "))));
  const table = page.items.length
    ? el("table", { id: "sessions" }, el("thead", {}, el("tr", {}, ["Title", "Created", "Length", "Status", "Languages"].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
    : el("p", {}, q ? `No session mentions “${q}”.` : "No sessions yet. Start one on the Live page.");
  const link = (to, text) => el("a", { href: `#/sessions?offset=${to}${q ? `&q=${encodeURIComponent(q)}` : ""}` }, text);
  const pager = el("div", { class: "pager" },
    offset > 0 ? link(Math.max(0, offset - PAGE), "← Newer") : null,
    el("span", {}, `${page.total ? offset + 1 : 0}–${Math.min(offset + PAGE, page.total)} of ${page.total}`),
    offset + PAGE < page.total ? link(offset + PAGE, "Older →") : null);
  root.lastChild.replaceWith(table);
  root.append(pager);
}

export async function sessionPage(root, id, params) {
  const lang = params.get("lang") || "";
  root.replaceChildren(el("p", {}, "Loading…"));
  let session, transcript, speakers;
  try {
    [session, transcript, speakers] = await Promise.all([
      api(`/v1/sessions/${id}`),
      api(`/v1/sessions/${id}/transcript${lang ? `?lang=${lang}` : ""}`),
      api(`/v1/sessions/${id}/speakers`),
    ]);
  } catch (err) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, err.message), el("a", { href: "#/sessions" }, "← All sessions"));
    return;
  }
  const audio = session.has_audio ? el("audio", { id: "audio", controls: true, preload: "metadata", src: `/v1/sessions/${id}/audio` }) : null;
  const langs = session.targets;
  const langSelect = el("select", { id: "lang", "aria-label": "Language" },
    el("option", { value: "" }, "Original"), langs.map((l) => el("option", { value: l, selected: l === lang }, `Translation: ${languageName(l)}`)));
  langSelect.addEventListener("change", () => { location.hash = `#/sessions/${id}${langSelect.value ? `?lang=${langSelect.value}` : ""}`; });

  const suffix = lang ? `&lang=${lang}` : "";
  const downloads = el("div", { class: "row-actions", id: "downloads" }, "Download:",
    ["srt", "vtt", "txt", "json"].map((f) => el("a", { href: `/v1/sessions/${id}/transcript?format=${f}${suffix}`, download: `${id}${lang ? "." + lang : ""}.${f}` }, f.toUpperCase())),
    lang ? el("a", { href: `/v1/sessions/${id}/transcript?format=srt&lang=${lang}&bilingual=true`, download: `${id}.${lang}.bilingual.srt` }, "bilingual SRT") : null);

  const names = new Map(speakers.map((s) => [s.id, s.name]));
  const chips = el("div", { class: "speakers", id: "speakers" }, speakers.map((s) => {
    const input = el("input", { type: "text", value: s.name || "", placeholder: s.label, "aria-label": `Name of ${s.label}` });
    const save = el("button", { type: "submit", class: "ghost" }, "Rename");
    const form = el("form", { class: "speaker-chip", style: `--spk:${speakerColour(s.id)}` },
      el("span", {}, `${s.id}`), input, save, el("small", {}, `${clock(s.seconds)} · ${SOURCES[s.source] || s.source}`));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api(`/v1/sessions/${id}/speakers/${s.id}`, { method: "PATCH", body: { name: input.value.trim() || null } });
        await sessionPage(root, id, params);
      } catch (err) {
        toast(err.message);
      }
    });
    return form;
  }));

  const lines = transcript.segments.map((seg) => {
    const text = lang && seg.translation ? seg.translation : seg.text;
    const who = speakerLabel(seg.speaker, names.get(seg.speaker) ?? seg.speaker_name);
    const time = el("button", { type: "button", class: "ghost", title: "Play from here", "aria-label": `Play from ${clock(seg.start)}` }, clock(seg.start));
    time.addEventListener("click", () => { if (audio) { audio.currentTime = seg.start; audio.play(); } });
    return el("article", { class: "caption", style: `--spk:${speakerColour(seg.speaker)}`, "data-segment": seg.id },
      el("div", { class: "who" }, who || "", " ", time),
      el("div", { class: "text" }, text),
      lang && seg.translation ? el("div", { class: "line", "data-lang": "original" }, seg.text) : null);
  });

  root.replaceChildren(
    el("a", { href: "#/sessions" }, "← All sessions"),
    el("h1", {}, session.title || "(untitled)"),
    el("p", {}, `${new Date(session.created_at).toLocaleString()} · ${clock(session.audio_seconds)} · ${session.status}`),
    el("div", { class: "controls" }, langs.length ? langSelect : null, downloads,
      el("a", { href: `#/projector/${id}${lang ? `?lang=${lang}` : ""}` }, "Projector view")),
    audio, chips,
    el("section", { class: "captions", id: "transcript" }, lines.length ? lines : el("p", {}, "No speech in this session yet.")));
}
