// The Live page: choose the source, languages and title, Start (or Space); captions, the
// caption delay and the state of the run. A session left running (this tab before a reload,
// another tab, #/live?session=ID from the Sessions page) is offered to rejoin or to follow.
import { api, el, clock, languageName, spokenIsNoTarget } from "./api.js";
import { Run, RUN_KEY, mySession, lastSession } from "./run.js";

let active = null; // the run in progress: it goes on while you look at other pages

export async function livePage(root, params = new URLSearchParams()) {
  let languages, defaults;
  try {
    [languages, { defaults }] = await Promise.all([api("/v1/languages"), api("/v1/settings")]);
  } catch (err) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const targets = languages.translation.targets;
  const source = el("select", { id: "source" },
    el("option", { value: "mic" }, "Microphone"), el("option", { value: "tab" }, "A tab or screen (its audio)"),
    el("option", { value: "url" }, "A stream URL (radio, HLS, video file)"));
  const url = el("input", { type: "url", id: "stream-url", placeholder: "https://…/live.m3u8", size: 34, hidden: true,
    "aria-label": "Stream URL", title: "HLS, Icecast/HTTP MP3 or AAC, an audio or video file, RTSP, RTMP or SRT" });
  const spoken = el("select", { id: "language", title: "Fixed for a session: start a new one to change it" },
    languages.asr.detection ? el("option", { value: "", selected: defaults.language === null }, "Detect automatically") : null,
    languages.asr.languages.map((l) => el("option", { value: l.code, selected: l.code === defaults.language }, l.name)));
  const title = el("input", { type: "text", id: "title", maxlength: 300, placeholder: "Live (date and time)" });
  const targetBox = Array.isArray(targets)
    ? el("fieldset", { class: "targets", id: "targets" }, el("legend", {}, "Translate into"),
        targets.map((t) => el("label", {}, el("input", { type: "checkbox", value: t, name: "target", checked: defaults.targets.includes(t) }), languageName(t))))
    : el("label", {}, "Translate into (codes, comma-separated)", el("input", { type: "text", id: "targets-text", placeholder: "es, fr" }));
  const start = el("button", { type: "button", id: "start", title: "Start captioning (Space)", "aria-keyshortcuts": "Space" }, "Start");
  const stop = el("button", { type: "button", id: "stop", class: "ghost", disabled: true, title: "Stop (Space)", "aria-keyshortcuts": "Space" }, "Stop");
  const dot = el("span", { class: "dot", "data-state": "idle" });
  const state = el("span", { id: "state" }, "Ready");
  const meter = el("meter", { id: "level", min: 0, max: 1, value: 0, "aria-label": "Input level" });
  const delay = el("span", { id: "delay", hidden: true, title: "Caption delay: from the end of speech to its final caption (median of the last five)" });
  const links = el("span", { id: "links" });
  const offers = el("section", { id: "offers", "aria-label": "Sessions left running", hidden: true });
  const problem = el("p", { class: "error", id: "problem", role: "alert", hidden: true });
  const captionsRoot = el("section", { id: "captions", "aria-live": "polite", "aria-label": "Captions" });

  root.replaceChildren(
    el("h1", {}, "Live captions"), offers,
    el("div", { class: "controls" },
      el("label", {}, "Source", source, url), el("label", {}, "Spoken language", spoken),
      el("label", {}, "Title", title), targetBox, start, stop),
    el("div", { class: "status" }, dot, state, meter, delay, links, help()),
    problem, captionsRoot);

  const ui = {
    captions: captionsRoot, meter,
    setState(kind, text) { dot.dataset.state = kind; state.textContent = text; },
    showProblem(message) { problem.textContent = message; problem.hidden = !message; },
    showDelay(seconds) { delay.textContent = `delay ${seconds.toFixed(1)} s`; delay.hidden = false; },
    onEnd() { active = null; showControls(null); },
    forget() { links.replaceChildren(); },
  };
  function chosenTargets() {
    if (!Array.isArray(targets)) return root.querySelector("#targets-text").value.split(",").map((s) => s.trim()).filter(Boolean);
    return [...root.querySelectorAll('input[name="target"]:checked')].map((i) => i.value);
  }
  function showTargets(chosen) {
    if (!Array.isArray(targets)) root.querySelector("#targets-text").value = chosen.join(", ");
    else for (const box of root.querySelectorAll('input[name="target"]')) box.checked = chosen.includes(box.value);
  }
  /** What can change during a run is enabled (targets, title); what cannot is not. */
  function showControls(run) {
    const on = Boolean(run);
    source.disabled = spoken.disabled = url.disabled = on;
    meter.hidden = (run ? Boolean(run.stream) : source.value === "url"); // the server hears a stream, not this page
    title.disabled = run?.following ?? false;
    spokenIsNoTarget(targetBox, run ? run.session.language : spoken.value, !run?.following);
    start.disabled = on;
    stop.disabled = !on || run.stopping;
    stop.textContent = run?.following ? "Stop following" : "Stop";
    if (!on) return;
    offers.hidden = true;
    spoken.value = run.session.language ?? "";
    title.value = run.session.title ?? "";
    showTargets(run.session.targets);
    links.replaceChildren(
      el("a", { href: `#/sessions/${run.session.id}` }, "transcript"), " · ",
      el("a", { href: `#/projector/${run.session.id}${run.session.targets[0] ? `?lang=${run.session.targets[0]}` : ""}`, target: "_blank" }, "projector view"));
  }
  async function begin(how) {
    ui.showProblem("");
    start.disabled = true;
    try {
      active = await how();
      showControls(active);
    } catch (err) {
      ui.showProblem(err.message);
      ui.setState("error", "Not started");
      start.disabled = false;
    }
  }
  const join = (id) => begin(() => Run.rejoin(id, { source: source.value, prefs: defaults, ui }));
  const follow = (id) => begin(() => Run.follow(id, ui));

  start.addEventListener("click", () => begin(() => {
    const common = { language: spoken.value || null, targets: chosenTargets(), ui,
      title: title.value.trim() || `Live ${new Date().toLocaleString()}` };
    if (source.value === "url") return Run.fromUrl({ ...common, url: url.value.trim() });
    return Run.begin({ ...common, source: source.value, prefs: defaults });
  }));
  source.addEventListener("change", () => {
    url.hidden = source.value !== "url";
    meter.hidden = !url.hidden;
    if (!url.hidden) url.focus();
  });
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    await active?.stop();
  });
  targetBox.addEventListener("change", async () => {
    if (!active || active.following) return;
    try {
      await active.setTargets(chosenTargets());
    } catch (err) {
      ui.showProblem(err.message);
      showTargets(active.session.targets);
    }
  });
  title.addEventListener("change", async () => {
    if (!active || active.following) return;
    try {
      await active.setTitle(title.value.trim() || null);
    } catch (err) {
      ui.showProblem(err.message);
    }
  });
  const onKey = (e) => {
    if ((e.key !== " " && e.code !== "Space") || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest?.("input, textarea, select, button:enabled, a, summary, [contenteditable]")) return; // they have their own Space
    e.preventDefault();
    (active ? stop : start).click(); // a disabled button ignores the click
  };
  document.addEventListener("keydown", onKey);
  spoken.addEventListener("change", () => spokenIsNoTarget(targetBox, spoken.value));
  spokenIsNoTarget(targetBox, spoken.value);

  if (active) { // back from another page: the same run, its captions and state
    captionsRoot.replaceWith(active.captions.root);
    active.attach(ui);
    showControls(active);
  }
  const offer = () => showOffers(offers, params.get("session"), { join, follow, showProblem: ui.showProblem });
  const onStorage = (e) => { if (e.key === RUN_KEY && !active) offer(); }; // another tab of this browser started one
  addEventListener("storage", onStorage);
  if (!active) await offer();
  return () => {
    document.removeEventListener("keydown", onKey);
    removeEventListener("storage", onStorage);
  };
}

/** Sessions still live or paused: this tab's before a reload and paused ones can be rejoined
 * (capturing into them again, on the same timeline); one captured elsewhere can be followed. */
async function showOffers(box, wanted, { join, follow, showProblem }) {
  let open;
  try {
    open = await runningSessions(wanted);
  } catch (err) {
    showProblem(err.message);
    return;
  }
  const wantedOne = open.find((s) => s.id === wanted);
  if (wanted && wantedOne?.status === "ended") {
    box.replaceChildren(el("p", {}, `“${wantedOne.title || "Untitled"}” has ended. `,
      el("a", { href: `#/sessions/${wanted}` }, "Its transcript")));
    box.hidden = false;
    return;
  }
  const shown = wantedOne ? [wantedOne] : open.filter((s) => s.status !== "ended");
  box.replaceChildren(...shown.map((s) => offer(s, { join, follow })));
  box.hidden = shown.length === 0;
  box.querySelector(".rejoin")?.focus();
}

async function runningSessions(wanted) {
  const { items } = await api("/v1/sessions?limit=50");
  const open = items.filter((s) => s.status === "live" || s.status === "paused");
  for (const id of new Set([wanted, mySession(), lastSession()])) {
    if (!id || open.some((s) => s.id === id)) continue;
    try {
      const s = await api(`/v1/sessions/${encodeURIComponent(id)}`);
      if (s.status !== "created" || id === wanted || id === lastSession()) open.push(s);
    } catch (err) {
      if (id === wanted) throw new Error(err.status === 404 ? `The session ${id} does not exist.` : err.message);
    }
  }
  return open;
}

function offer(s, { join, follow }) {
  const mine = s.id === mySession();
  const starting = s.status === "created" && s.id === lastSession() && !mine; // another tab is starting it
  const elsewhere = !mine && (s.status === "live" || starting);
  const what = elsewhere ? "live, captured in another tab or device"
    : mine ? "your run before this page reloaded" : s.status === "created" ? "not started yet" : "paused";
  return el("div", { class: "offer", "data-session": s.id, "data-status": s.status },
    el("span", {}, el("strong", {}, `“${s.title || "Untitled"}”`), ` — ${what} · ${clock(s.audio_seconds)} of audio`),
    elsewhere ? null : el("button", { type: "button", class: "rejoin", onclick: () => join(s.id) },
      mine ? "Rejoin and go on" : "Resume capturing"),
    el("button", { type: "button", class: "ghost follow", onclick: () => follow(s.id) }, "Follow its captions (read-only)"));
}

function help() {
  return el("details", { class: "help", id: "help" },
    el("summary", { "aria-label": "What the captions mean", title: "What the captions mean" }, "?"),
    el("dl", {},
      el("dt", {}, el("span", { class: "draft-sample" }, "Grey italics")),
      el("dd", {}, "A draft: what was heard so far. It may still change; the final caption replaces it in plain text."),
      el("dt", {}, "Speaker 1, Speaker 2 — told apart by voice"),
      el("dd", {}, "Voices are grouped as they speak (voice clustering); the server does not know who they are. " +
        "Rename them on the session's transcript page. A real name comes from the meeting or an enrolled voiceprint."),
      el("dt", {}, "not available for this language"),
      el("dd", {}, "No installed engine translates the spoken language into this column's language."),
      el("dt", {}, "delay"),
      el("dd", {}, "How long after the end of speech its final caption arrived."),
      el("dt", {}, "Space"),
      el("dd", {}, "Starts and stops the captions (when you are not typing in a field).")));
}
