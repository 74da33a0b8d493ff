// One session: its transcript (original or a translation), following the session while it is
// live or paused; speakers to rename or merge; the recording, played from any line with the
// current line and word lit; exports; Resume, End, Rename, Delete.
import { api, el, clock, toast, followEvents, languageName } from "./api.js";
import { speakerColour, speakerLabel } from "./captions.js";
import { sessionActions, titleForm } from "./sessions.js";

const SOURCES = { track: "own audio track", meeting: "named by the meeting", voiceprint: "voiceprint", cluster: "told apart by voice", user: "named by you" };

/** Returns at once how to leave the page: a page left (or shown again) before it has loaded draws nothing. */
export function sessionPage(root, id, params) {
  const page = { socket: null, closed: false, frame: 0, shown: 0 };
  root.replaceChildren(el("p", {}, "Loading…"));
  show(root, id, params, page);
  return () => { page.closed = true; page.socket?.close(); cancelAnimationFrame(page.frame); };
}

async function show(root, id, params, page) {
  const mine = ++page.shown;
  const lang = params.get("lang") || "";
  let session, transcript, speakers, failure;
  try {
    session = await api(`/v1/sessions/${id}`); // first: events after its last_seq are what the transcript may miss
    [transcript, speakers] = await Promise.all([
      api(`/v1/sessions/${id}/transcript${lang ? `?lang=${lang}` : ""}`), api(`/v1/sessions/${id}/speakers`)]);
  } catch (err) {
    failure = err;
  }
  if (page.closed || mine !== page.shown) return; // left, or a newer showing is on its way
  page.socket?.close(); // the socket of the showing this one replaces
  page.socket = null;
  if (failure) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, failure.message), el("a", { href: "#/sessions" }, "← All sessions"));
    return;
  }
  const refresh = () => show(root, id, params, page);
  const view = { lang, names: new Map(speakers.map((s) => [s.id, s.name])), entries: new Map(), audio: null };
  view.audio = session.has_audio ? el("audio", { id: "audio", controls: true, preload: "metadata", src: `/v1/sessions/${id}/audio` }) : null;
  const box = el("section", { class: "captions", id: "transcript", "aria-label": "Transcript" });
  const empty = el("p", { id: "no-speech" }, "No speech in this session yet.");
  for (const seg of transcript.segments) place(view, box, { ...seg, status: "final" });
  const chips = el("div", { class: "speakers", id: "speakers" });
  const showSpeakers = (list) => chips.replaceChildren(...list.map((s) => speakerChip(id, s, list, refresh)));
  showSpeakers(speakers);
  const head = el("div", { class: "session-head" });
  const meta = el("p", { id: "meta" });
  const showHead = () => {
    const title = el("h1", { id: "title" }, session.title || "(untitled)");
    head.replaceChildren(title, sessionActions(session, {
      rename: () => title.replaceChildren(titleForm(session, refresh, showHead)),
      changed: refresh, deleted: () => { location.hash = "#/sessions"; } }));
    meta.textContent = `${new Date(session.created_at).toLocaleString()} · ${clock(session.audio_seconds)} · ${session.status}`;
  };
  showHead();
  root.replaceChildren(...[el("a", { href: "#/sessions" }, "← All sessions"), head, meta, controls(session, lang),
    view.audio, chips, box, box.children.length ? null : empty].filter(Boolean));
  if (view.audio) playback(view, box, page);
  if (session.status !== "ended") {
    page.socket = followEvents(id, session.last_seq, (e) => {
      if (e.type === "session.status" || e.type === "session.ended") {
        session.status = e.type === "session.ended" ? "ended" : e.status;
        session.audio_seconds = e.audio_seconds;
        return e.type === "session.ended" ? refresh() : showHead();
      }
      if (e.type === "speaker.update") api(`/v1/sessions/${id}/speakers`).then(showSpeakers, () => {});
      apply(view, box, e);
      empty.remove();
    });
  }
}

function controls(session, lang) {
  const id = session.id;
  const select = el("select", { id: "lang", "aria-label": "Language" },
    el("option", { value: "" }, "Original"), session.targets.map((l) => el("option", { value: l, selected: l === lang }, `Translation: ${languageName(l)}`)));
  select.addEventListener("change", () => { location.hash = `#/sessions/${id}${select.value ? `?lang=${select.value}` : ""}`; });
  const suffix = lang ? `&lang=${lang}` : "";
  // the server names each file (title, date, language, bilingual) in Content-Disposition
  const downloads = el("div", { class: "row-actions", id: "downloads" }, "Download:",
    ["srt", "vtt", "txt", "json"].map((f) => el("a", { href: `/v1/sessions/${id}/transcript?format=${f}${suffix}`, download: true }, f.toUpperCase())),
    lang ? el("a", { href: `/v1/sessions/${id}/transcript?format=srt&lang=${lang}&bilingual=true`, download: true }, "bilingual SRT") : null,
    session.has_audio ? el("a", { href: `/v1/sessions/${id}/audio`, download: true }, "Audio (WAV)") : null);
  return el("div", { class: "controls" }, session.targets.length ? select : null, downloads,
    el("a", { href: `#/projector/${id}${lang ? `?lang=${lang}` : ""}`, id: "projector-link" }, "Projector view"),
    ...shareLink(id, lang));
}

/** A read-only link to this session's projector view, for people without a key (a day long). */
function shareLink(id, lang) {
  const shared = el("div", { id: "shared", class: "row-actions", hidden: true });
  const share = el("button", { type: "button", id: "share-link", class: "ghost" }, "Share a listener link");
  share.addEventListener("click", async () => {
    try {
      const t = await api("/v1/tokens", { method: "POST", body: { session_id: id, ttl_s: 86400, lang: lang || null } });
      const url = `${location.origin}/#/projector/${id}?${lang ? `lang=${lang}&` : ""}token=${t.token}`;
      const input = el("input", { id: "shared-url", readonly: true, value: url, "aria-label": "Listener link" });
      const copy = el("button", { type: "button", class: "ghost", id: "copy-link" }, "Copy");
      copy.addEventListener("click", () => navigator.clipboard?.writeText(url).then(() => toast("Link copied"), () => input.select()));
      shared.replaceChildren(input, copy,
        el("span", { class: "muted" }, `Read-only, this session only, until ${new Date(t.expires_at).toLocaleString()}.`));
      shared.hidden = false;
    } catch (err) { toast(err.message); }
  });
  return [share, shared];
}

function apply(view, box, e) {
  if (e.type === "segment") {
    const known = view.entries.get(e.segment_id);
    if (e.status === "final" && !e.text) { known?.node.remove(); view.entries.delete(e.segment_id); return; }
    if (e.status === "draft" && known?.seg.status === "final") return;
    place(view, box, { id: e.segment_id, start: e.start, end: e.end, text: e.text, language: e.language, speaker: e.speaker,
      speaker_name: e.speaker_name, words: e.words, status: e.status, translation: known?.seg.translation });
  } else if (e.type === "translation" && e.lang === view.lang && e.text) {
    const known = view.entries.get(e.segment_id);
    if (known) place(view, box, { ...known.seg, translation: e.text, translation_error: null });
  } else if (e.type === "speaker.update") {
    view.names.set(e.speaker, e.name);
    const moved = new Set([...(e.segment_ids || [])]);
    const merged = new Set(e.merged || []);
    for (const { seg } of [...view.entries.values()]) {
      if (moved.has(seg.id) || merged.has(seg.speaker)) place(view, box, { ...seg, speaker: e.speaker });
      else if (seg.speaker === e.speaker) place(view, box, seg);
    }
  }
}

/** Show a segment: replace its line, or put a new one in time order. */
function place(view, box, seg) {
  const node = line(view, seg);
  const known = view.entries.get(seg.id);
  view.entries.set(seg.id, { seg, node });
  if (known) { known.node.replaceWith(node); return; }
  const after = [...box.children].find((n) => Number(n.dataset.start) > seg.start);
  box.insertBefore(node, after || null);
}

function line(view, seg) {
  const { lang, audio } = view;
  const translated = lang && seg.translation;
  const who = seg.status === "final" ? speakerLabel(seg.speaker, view.names.get(seg.speaker) ?? seg.speaker_name) : "";
  const time = el("button", { type: "button", class: "ghost", title: "Play from here", "aria-label": `Play from ${clock(seg.start)}` }, clock(seg.start));
  time.addEventListener("click", () => { if (audio) { audio.currentTime = seg.start; play(audio); } });
  return el("article", { class: "caption", style: `--spk:${seg.status === "final" ? speakerColour(seg.speaker) : "var(--line)"}`,
    "data-segment": seg.id, "data-start": seg.start, "data-end": seg.end, "data-status": seg.status },
    el("div", { class: "who" }, who || "", " ", time),
    el("div", { class: "text" }, translated ? seg.translation : words(seg)),
    translated ? el("div", { class: "line", "data-lang": "original" }, words(seg)) : null,
    lang && !translated && seg.status === "final"
      ? el("div", { class: "untranslated" }, `Not translated into ${languageName(lang)}${seg.translation_error ? `: ${seg.translation_error}` : ""}`) : null);
}

/** The text as timed words (lit during playback) when the words make up the text. */
function words(seg) {
  const list = seg.words || [];
  if (!list.length || list.map((w) => w.word).join("").trim() !== seg.text.trim()) return seg.text;
  return list.map((w) => el("span", { class: "word", "data-start": w.start, "data-end": w.end }, w.word));
}

/** While the recording plays: the line and word being heard are lit, the line kept in view. */
function playback(view, box, page) {
  let current = null;
  const light = () => {
    const t = view.audio.currentTime;
    const lines = [...box.children].filter((n) => Number(n.dataset.start) <= t + 0.05 && t < Number(n.dataset.end) + 0.3);
    const now = lines.at(-1) || null;
    if (now !== current) {
      current?.removeAttribute("aria-current");
      now?.setAttribute("aria-current", "true");
      now?.scrollIntoView({ block: "nearest" });
      current = now;
    }
    for (const w of box.querySelectorAll(".word[data-now]")) w.removeAttribute("data-now");
    const word = [...(now?.querySelectorAll(".word") || [])].find((w) => Number(w.dataset.start) <= t && t < Number(w.dataset.end));
    word?.setAttribute("data-now", "");
  };
  const tick = () => { // one frame loop while playing: a seek while playing starts no second one
    light();
    if (!view.audio.paused && !page.closed) page.frame = requestAnimationFrame(tick);
  };
  view.audio.addEventListener("play", () => { cancelAnimationFrame(page.frame); page.frame = requestAnimationFrame(tick); });
  view.audio.addEventListener("seeked", light);
  view.audio.addEventListener("pause", light);
}

/** A speaker: rename (a name another speaker has offers to merge), or merge into another. */
function speakerChip(id, s, all, refresh) {
  const others = all.filter((o) => o.id !== s.id);
  const input = el("input", { type: "text", value: s.name || "", placeholder: s.label, "aria-label": `Name of ${s.label}` });
  const merge = others.length ? el("select", { class: "merge", "aria-label": `Merge ${s.label} into another speaker` },
    el("option", { value: "" }, "Merge into…"), others.map((o) => el("option", { value: o.id }, o.label))) : null;
  const ask = el("div", { class: "clash", role: "alert", hidden: true });
  const form = el("form", { class: "speaker-chip", style: `--spk:${speakerColour(s.id)}`, "data-speaker": s.id },
    el("span", {}, `${s.id}`), input, el("button", { type: "submit", class: "ghost" }, "Rename"), merge,
    el("small", {}, `${clock(s.seconds)} · ${SOURCES[s.source] || s.source}`), ask);
  const mergeInto = async (other) => {
    try {
      await api(`/v1/sessions/${id}/speakers/${s.id}/merge`, { method: "POST", body: { into: other.id } });
      refresh();
    } catch (err) { toast(err.message); }
  };
  const offerMerge = (other, name) => {
    ask.replaceChildren(`${other.label} is already called “${name}”. The same person?`,
      el("button", { type: "button", "data-action": "merge", onclick: () => mergeInto(other) }, `Merge into ${other.label}`),
      el("button", { type: "button", class: "ghost", onclick: () => { input.value = s.name || ""; ask.hidden = true; } }, "Keep apart"));
    ask.hidden = false;
  };
  merge?.addEventListener("change", () => {
    const other = others.find((o) => o.id === merge.value);
    if (other && confirm(`Merge ${s.label} into ${other.label}? ${s.label}'s lines become ${other.label}'s.`)) mergeInto(other);
    else merge.value = "";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim() || null;
    const clash = name && others.find((o) => o.name === name);
    if (clash) return offerMerge(clash, name);
    try {
      await api(`/v1/sessions/${id}/speakers/${s.id}`, { method: "PATCH", body: { name } });
      refresh();
    } catch (err) {
      if (err.code !== "conflict") { toast(err.message); return; }
      const fresh = await api(`/v1/sessions/${id}/speakers`).catch(() => []); // named meanwhile, elsewhere
      const other = fresh.find((o) => o.id !== s.id && o.name === name);
      if (other) offerMerge(other, name); else toast(err.message);
    }
  });
  return form;
}


/** Play, and say why not; a play() cut short by a pause or another seek (AbortError) is no problem. */
function play(audio) {
  audio.play().catch((e) => { if (e.name !== "AbortError") toast(`The recording cannot play: ${e.message}`); });
}
