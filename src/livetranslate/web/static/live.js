// The live page: capture → audio socket; captions from the events socket, which resumes
// with after_seq after any drop (nothing shown twice, nothing lost); audio captured while the
// audio socket reconnects is buffered and sent once it is back.
import { api, wsUrl, el, toast, languageName } from "./api.js";
import { Captions } from "./captions.js";
import { startCapture, describeMediaError, SAMPLE_RATE } from "./capture.js";

const MAX_BUFFER_S = 60; // audio kept while the audio socket reconnects
let active = null; // the run in progress: it goes on while you look at other pages
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

export async function livePage(root) {
  let languages, defaults;
  try {
    [languages, { defaults }] = await Promise.all([api("/v1/languages"), api("/v1/settings")]);
  } catch (err) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const targets = languages.translation.targets;

  const source = el("select", { id: "source" },
    el("option", { value: "mic" }, "Microphone"), el("option", { value: "tab" }, "A tab or screen (its audio)"));
  const spoken = el("select", { id: "language" },
    languages.asr.detection ? el("option", { value: "", selected: defaults.language === null }, "Detect automatically") : null,
    languages.asr.languages.map((l) => el("option", { value: l.code, selected: l.code === defaults.language }, l.name)));
  const targetBox = Array.isArray(targets)
    ? el("fieldset", { class: "targets", id: "targets" }, el("legend", {}, "Translate into"),
        targets.map((t) => el("label", {}, el("input", { type: "checkbox", value: t, name: "target", checked: defaults.targets.includes(t) }), languageName(t))))
    : el("label", {}, "Translate into (codes, comma-separated)", el("input", { type: "text", id: "targets-text", placeholder: "es, fr" }));
  const start = el("button", { type: "button", id: "start" }, "Start");
  const stop = el("button", { type: "button", id: "stop", class: "ghost", disabled: true }, "Stop");
  const dot = el("span", { class: "dot", "data-state": "idle" });
  const state = el("span", { id: "state" }, "Ready");
  const meter = el("meter", { id: "level", min: 0, max: 1, value: 0, "aria-label": "Input level" });
  const links = el("span", { id: "links" });
  const problem = el("p", { class: "error", id: "problem", role: "alert", hidden: true });
  const captionsRoot = el("section", { id: "captions", "aria-live": "polite", "aria-label": "Captions" });

  root.replaceChildren(
    el("h1", {}, "Live captions"),
    el("div", { class: "controls" },
      el("label", {}, "Source", source), el("label", {}, "Spoken language", spoken), targetBox, start, stop),
    el("div", { class: "status" }, dot, state, meter, links),
    problem, captionsRoot);

  function setState(kind, text) {
    dot.dataset.state = kind;
    state.textContent = text;
  }
  function showProblem(message) {
    problem.textContent = message;
    problem.hidden = !message;
  }
  function chosenTargets() {
    if (!Array.isArray(targets)) {
      return root.querySelector("#targets-text").value.split(",").map((s) => s.trim()).filter(Boolean);
    }
    return [...root.querySelectorAll('input[name="target"]:checked')].map((i) => i.value);
  }

  function showRunning(run) {
    links.replaceChildren(
      el("a", { href: `#/sessions/${run.session.id}` }, "transcript"), " · ",
      el("a", { href: `#/projector/${run.session.id}`, target: "_blank" }, "projector view"));
    start.disabled = true;
    stop.disabled = run.stopping;
  }

  if (active) { // back from another page: the same run, its captions and state
    captionsRoot.replaceWith(active.captions.root);
    active.attach({ setState, showProblem, meter });
    showRunning(active);
  }

  start.addEventListener("click", async () => {
    showProblem("");
    start.disabled = true;
    try {
      active = await Run.begin({
        source: source.value, language: spoken.value || null, targets: chosenTargets(),
        captions: captionsRoot, setState, showProblem, meter, capture: defaults,
        onEnd: () => { active = null; start.disabled = false; },
      });
      showRunning(active);
    } catch (err) {
      showProblem(err.message);
      setState("error", "Not started");
      start.disabled = false;
    }
  });
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    await active?.stop();
  });
}

class Run {
  static async begin({ source, language, targets, captions, setState, showProblem, meter, capture: prefs, onEnd }) {
    const r = new Run();
    Object.assign(r, { onEnd, pending: [], pendingBytes: 0, stopping: false, ended: false });
    r.attach({ setState, showProblem, meter });
    r.setState("idle", "Starting…");
    // the capture first: a denied microphone must not leave an empty session behind
    let capture;
    try {
      capture = await startCapture(source, (pcm, level) => r.onAudio(pcm, level), prefs);
    } catch (err) {
      throw new Error(describeMediaError(err, source));
    }
    try {
      r.session = await api("/v1/sessions", { method: "POST", body: { title: `Live ${new Date().toLocaleString()}`, language, targets } });
    } catch (err) {
      await capture.stop();
      if (err.code === "unsupported_language") {
        const from = language ? languageName(language) : "the detected languages";
        throw new Error(`This server cannot translate ${from} into ${targets.map(languageName).join(", ")}. ` +
          `Choose other languages. (${err.message})`);
      }
      throw err;
    }
    r.capture = capture;
    r.captions = new Captions(captions, { targets });
    captions.replaceChildren();
    r.openEvents(0);
    r.openAudio(0);
    return r;
  }

  /** The page's status widgets (they are made again when you come back to the Live page). */
  attach({ setState, showProblem, meter }) {
    this.meter = meter;
    this.setState = (kind, text) => { this.state = [kind, text]; setState(kind, text); };
    this.showProblem = (message) => { this.problem = message; showProblem(message); };
    if (this.state) setState(...this.state);
    if (this.problem) showProblem(this.problem);
  }

  onAudio(pcm, level) {
    this.meter.value = Math.min(1, level * 4);
    if (this.audio?.readyState === WebSocket.OPEN && this.audioReady) {
      this.audio.send(pcm);
    } else {
      this.pending.push(pcm);
      this.pendingBytes += pcm.byteLength;
      while (this.pendingBytes > MAX_BUFFER_S * SAMPLE_RATE * 2) this.pendingBytes -= this.pending.shift().byteLength;
    }
  }

  openAudio(attempt) {
    const ws = new WebSocket(wsUrl(`/v1/sessions/${this.session.id}/audio`));
    ws.binaryType = "arraybuffer";
    this.audio = ws;
    this.audioReady = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "start", format: "pcm_s16le", sample_rate: SAMPLE_RATE, channels: 1 }));
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "ready") {
        this.audioReady = true;
        attempt = 0;
        for (const chunk of this.pending) ws.send(chunk);
        this.pending = [];
        this.pendingBytes = 0;
        if (this.stopping) ws.send(JSON.stringify({ type: "stop" }));
        this.setState("live", "Live");
        this.showProblem("");
      } else if (msg.type === "error") {
        this.showProblem(`The server refused the audio: ${msg.message}`);
      }
      // captions come from the events socket (resumable); this socket's copies are ignored
    };
    ws.onclose = (e) => {
      if (this.audio !== ws || this.ended || (this.stopping && e.code === 1000)) return;
      if (e.code >= 4400 && e.code < 4500 && e.code !== 4409) {
        this.setState("error", "Stopped");
        this.showProblem(`The audio was refused (${e.reason || e.code}).`);
        this.giveUp();
        return;
      }
      this.setState("reconnecting", "Connection lost — reconnecting…");
      this.retry(() => this.openAudio(attempt + 1), attempt);
    };
  }

  openEvents(attempt) {
    const ws = new WebSocket(wsUrl(`/v1/sessions/${this.session.id}/events?after_seq=${this.captions.lastSeq}`));
    this.events = ws;
    ws.onopen = () => { attempt = 0; };
    ws.onmessage = (m) => {
      const event = JSON.parse(m.data);
      this.captions.apply(event);
      if (event.type === "session.ended") {
        this.ended = true;
        this.setState("idle", "Session ended");
        this.onEnd?.();
      } else if (event.type === "warning") {
        toast(event.message);
      }
    };
    ws.onclose = () => {
      if (this.events !== ws || this.ended) return;
      this.setState("reconnecting", "Connection lost — reconnecting…");
      this.retry(() => this.openEvents(attempt + 1), attempt);
    };
  }

  retry(fn, attempt) {
    if (attempt >= 40) {
      this.setState("error", "Disconnected");
      this.showProblem("The server cannot be reached. The captions stopped; press Start when it is back.");
      this.giveUp();
      return;
    }
    setTimeout(fn, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  }

  giveUp() {
    if (this.ended) return;
    this.ended = true;
    this.capture.stop();
    this.audio?.close();
    this.events?.close();
    this.onEnd?.();
  }

  async stop() {
    this.stopping = true;
    this.setState("idle", "Finishing…");
    await this.capture.stop();
    this.meter.value = 0;
    if (this.audio?.readyState === WebSocket.OPEN && this.audioReady) this.audio.send(JSON.stringify({ type: "stop" }));
  }

}
