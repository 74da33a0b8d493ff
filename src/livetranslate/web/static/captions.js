// One caption list, fed session events in seq order: drafts are replaced in place by their
// final, translations sit beside their segment, speaker.update renames or moves finals, and a
// translation no engine could make says so in its column.
import { el, clock, languageName } from "./api.js";

const PALETTE = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `var(--spk-${n})`); // themed in style.css

export function speakerColour(id) {
  const n = parseInt(String(id || "").replace(/\D/g, ""), 10);
  return Number.isFinite(n) ? PALETTE[(n - 1) % PALETTE.length] : "var(--line)";
}

export function speakerLabel(id, name) {
  if (name) return name;
  return id && /^S\d+$/.test(id) ? `Speaker ${id.slice(1)}` : (id || "");
}

/** Warnings about one segment's translation that its column shows instead of a toast. */
export function shownInline(event) {
  return event.type === "warning" && INLINE[event.code] !== undefined && Boolean(event.segment_id && event.lang);
}

const INLINE = {
  unsupported_pair: "not available for this language",
  translation_failed: "could not be translated",
};

export class Captions {
  /** targets: languages shown beside the original; original: false shows translations only;
   * anyLanguage: a translation into a language no longer (or not yet) among targets still
   * gets its column on its segment (targets change during a run). */
  constructor(root, { targets = [], original = true, limit = 500, anyLanguage = false } = {}) {
    this.root = root;
    this.targets = targets;
    this.original = original;
    this.limit = limit;
    this.anyLanguage = anyLanguage;
    this.segments = new Map(); // segment_id → {node, data}
    this.names = new Map(); // speaker id → name
    this.unavailable = new Set(); // "de>es": no engine translates segments in de into es
    this.lastSeq = 0;
    this.root.classList.add("captions");
  }

  /** New segments get these columns; segments already shown keep theirs. */
  setTargets(targets) {
    this.targets = targets;
  }

  apply(event) {
    if (event.seq !== undefined) {
      if (event.seq <= this.lastSeq) return false; // already shown (a resumed stream)
      this.lastSeq = event.seq;
    }
    if (event.type === "segment") this.segment(event);
    else if (event.type === "translation") this.translation(event);
    else if (event.type === "speaker.update") this.speakerUpdate(event);
    else if (shownInline(event)) this.warning(event);
    return true;
  }

  segment(e) {
    let entry = this.segments.get(e.segment_id);
    if (e.status === "final" && !e.text) { // a retraction: the drafts were noise
      entry?.node.remove();
      this.segments.delete(e.segment_id);
      return;
    }
    if (!entry) {
      entry = { node: this.make(e), data: e };
      this.segments.set(e.segment_id, entry);
      this.root.append(entry.node);
      while (this.segments.size > this.limit) {
        const [first, old] = this.segments.entries().next().value;
        old.node.remove();
        this.segments.delete(first);
      }
    }
    entry.data = { ...entry.data, ...e };
    if (e.speaker && e.speaker_name !== undefined && !this.names.has(e.speaker)) this.names.set(e.speaker, e.speaker_name);
    this.render(entry);
    if (e.status === "final") {
      for (const lang of this.targets) if (this.unavailable.has(`${e.language}>${lang}`)) this.markUnavailable(entry, lang, "unsupported_pair");
    }
    entry.node.scrollIntoView?.({ block: "nearest" });
  }

  translation(e) {
    const entry = this.segments.get(e.segment_id);
    const line = entry && this.line(entry, e.lang);
    if (!line || (!e.text && line.dataset.status === "unavailable")) return; // a retraction keeps the reason
    line.textContent = e.text;
    line.dataset.status = e.status;
    line.removeAttribute("title");
  }

  warning(e) {
    const entry = this.segments.get(e.segment_id);
    if (e.code === "unsupported_pair" && entry?.data.language) this.unavailable.add(`${entry.data.language}>${e.lang}`);
    if (entry) this.markUnavailable(entry, e.lang, e.code, e.message);
  }

  markUnavailable(entry, lang, code, why) {
    const line = this.line(entry, lang);
    if (!line || line.dataset.status === "final") return;
    const spoken = entry.data.language ? ` (${languageName(entry.data.language)} → ${languageName(lang)})` : "";
    line.textContent = INLINE[code] + spoken;
    line.dataset.status = "unavailable";
    line.title = why || `No installed engine translates ${languageName(entry.data.language)} into ${languageName(lang)}.`;
  }

  /** The segment's column for lang; made on the spot for a language shown on this segment only. */
  line(entry, lang) {
    const found = entry.node.querySelector(`.line[data-lang="${lang}"]`);
    if (found || !(this.anyLanguage || this.targets.includes(lang))) return found;
    const lines = entry.node.querySelector(".lines");
    lines.append(el("div", { class: "line", "data-lang": lang }));
    lines.style.setProperty("--cols", lines.children.length);
    return lines.lastChild;
  }

  speakerUpdate(e) {
    this.names.set(e.speaker, e.name);
    const moved = new Set(e.segment_ids || []);
    const merged = new Set(e.merged || []);
    for (const entry of this.segments.values()) {
      if (moved.has(entry.data.segment_id) || merged.has(entry.data.speaker)) entry.data.speaker = e.speaker;
      if (entry.data.speaker === e.speaker) this.render(entry);
    }
  }

  make(e) {
    const lines = [];
    if (this.original) lines.push(el("div", { class: "line text" }));
    for (const lang of this.targets) lines.push(el("div", { class: "line", "data-lang": lang }));
    const node = el("article", { class: "caption", "data-segment": e.segment_id },
      el("div", { class: "who" }), el("div", { class: "lines", style: `--cols:${lines.length}` }, lines));
    return node;
  }

  render(entry) {
    const d = entry.data;
    entry.node.dataset.status = d.status;
    const who = entry.node.querySelector(".who");
    const label = d.status === "final" ? speakerLabel(d.speaker, this.names.get(d.speaker) ?? d.speaker_name) : "";
    who.replaceChildren(label, " ", el("span", { class: "time" }, clock(d.start)));
    entry.node.style.setProperty("--spk", d.status === "final" && d.speaker ? speakerColour(d.speaker) : "var(--line)");
    const text = entry.node.querySelector(".text");
    if (text) text.textContent = d.text;
  }
}
