// One run of the Live page: the capture feeds the session's audio socket; its captions come
// from the events socket, which resumes with after_seq after any drop (nothing shown twice,
// nothing lost); audio captured while the audio socket reconnects is buffered and sent once
// it is back. A run can start a session, rejoin a paused one (its audio continues the
// session's timeline) or only follow one that another tab captures (no audio).
import { api, wsUrl, toast, languageName } from "./api.js";
import { Captions, shownInline } from "./captions.js";
import { startCapture, describeMediaError, SAMPLE_RATE } from "./capture.js";

const MAX_BUFFER_S = 60; // audio kept while the audio socket reconnects
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const DELAYS_KEPT = 5; // the delay shown is the median of the last finals'
/** This tab's run (sessionStorage: survives a reload) and the newest run of this browser (localStorage). */
export const RUN_KEY = "live.session";

/** The session this tab was capturing before a reload, if any. */
export function mySession() {
  return sessionStorage.getItem(RUN_KEY);
}

/** The session most recently started or rejoined in this browser, if any. */
export function lastSession() {
  return localStorage.getItem(RUN_KEY);
}

export class Run {
  /** A new session with the capture: the capture first, so a denied microphone leaves no empty session. */
  static async begin({ source, language, targets, title, prefs, ui }) {
    const capture = await Run.capture(source, prefs);
    let session;
    try {
      session = await api("/v1/sessions", { method: "POST", body: { title, language, targets } });
    } catch (err) {
      await capture.stop();
      if (err.code === "unsupported_language") {
        const from = language ? languageName(language) : "the detected languages";
        throw new Error(`This server cannot translate ${from} into ${targets.map(languageName).join(", ")}. ` +
          `Choose other languages. (${err.message})`);
      }
      throw err;
    }
    return new Run(session, ui, capture);
  }

  /** Capture again into a paused session (or this tab's own, still closing after a reload). */
  static async rejoin(id, { source, prefs, ui }) {
    const capture = await Run.capture(source, prefs);
    try {
      return new Run(await api(`/v1/sessions/${id}`), ui, capture);
    } catch (err) {
      await capture.stop();
      throw err;
    }
  }

  /** A new session fed by a stream URL the server reads (no capture here): its states come as
   * source.status events; Stop ends the session. */
  static async fromUrl({ url, language, targets, title, ui }) {
    if (!url) throw new Error("Give the stream's URL (https://…, rtsp://…, …).");
    const session = await api("/v1/sessions", { method: "POST", body: { title, language, targets } });
    try {
      await api(`/v1/sessions/${session.id}/sources`, { method: "POST", body: { url } });
    } catch (err) {
      await api(`/v1/sessions/${session.id}`, { method: "DELETE" }).catch(() => {}); // no empty session left behind
      throw new Error(`The stream cannot be read: ${err.message}`);
    }
    return new Run(session, ui, null, url);
  }

  /** Follow a session's captions without capturing anything. */
  static async follow(id, ui) {
    return new Run(await api(`/v1/sessions/${id}`), ui, null);
  }

  /** The capture; what it hears before the run is made is kept for the run. */
  static async capture(source, prefs) {
    let run = null;
    const early = [];
    try {
      const capture = await startCapture(source, (pcm, level) => (run ? run.onAudio(pcm, level) : early.push(pcm)), prefs);
      capture.bind = (r) => { run = r; for (const pcm of early.splice(0)) r.onAudio(pcm, 0); };
      return capture;
    } catch (err) {
      throw new Error(describeMediaError(err, source));
    }
  }

  constructor(session, ui, capture, stream = null) {
    Object.assign(this, {
      session, capture, stream, following: capture === null && !stream, pending: [], pendingBytes: 0,
      stopping: false, ended: false, heard: 0, delays: [], replayed: session.last_seq,
    });
    this.captions = new Captions(ui.captions, { targets: session.targets, anyLanguage: true });
    ui.captions.replaceChildren();
    this.attach(ui);
    this.setState("idle", this.following ? "Following…" : stream ? "Connecting to the stream…" : "Starting…");
    this.openEvents(0);
    if (capture) {
      sessionStorage.setItem(RUN_KEY, session.id);
      localStorage.setItem(RUN_KEY, session.id);
      capture.bind(this);
      this.openAudio(0);
    }
  }

  /** The page's widgets (made again when you come back to the Live page). */
  attach({ setState, showProblem, showDelay, meter, onEnd, forget }) {
    Object.assign(this, { meter, onEnd, showDelay, forget });
    this.setState = (kind, text) => { this.state = [kind, text]; setState(kind, text); };
    this.showProblem = (message) => { this.problem = message; showProblem(message); };
    if (this.state) setState(...this.state);
    if (this.problem) showProblem(this.problem);
    if (this.delay !== undefined) showDelay(this.delay);
  }

  async setTargets(targets) {
    this.session = await api(`/v1/sessions/${this.session.id}`, { method: "PATCH", body: { targets } });
    this.captions.setTargets(this.session.targets);
  }

  async setTitle(title) {
    this.session = await api(`/v1/sessions/${this.session.id}`, { method: "PATCH", body: { title } });
  }

  onAudio(pcm, level) {
    this.meter.value = Math.min(1, level * 4);
    if (this.audio?.readyState === WebSocket.OPEN && this.audioReady) {
      this.send(pcm);
    } else {
      this.pending.push(pcm);
      this.pendingBytes += pcm.byteLength;
      while (this.pendingBytes > MAX_BUFFER_S * SAMPLE_RATE * 2) this.pendingBytes -= this.pending.shift().byteLength;
    }
  }

  send(pcm) {
    this.audio.send(pcm);
    this.heard += pcm.byteLength / (2 * SAMPLE_RATE); // session time of the audio sent so far
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
        this.heard = msg.audio_offset;
        attempt = 0;
        for (const chunk of this.pending) this.send(chunk);
        this.pending = [];
        this.pendingBytes = 0;
        if (this.stopping) ws.send(JSON.stringify({ type: "stop" }));
        this.setState("live", "Live");
        this.showProblem("");
      } else if (msg.type === "error" && msg.close_code !== 4409) {
        this.showProblem(`The server refused the audio: ${msg.message}`);
      }
      // captions come from the events socket (resumable); this socket's copies are ignored
    };
    ws.onclose = (e) => {
      if (this.audio !== ws || this.ended || (this.stopping && e.code === 1000)) return;
      if (e.code >= 4400 && e.code < 4500 && e.code !== 4409) { // 4409: the socket of a reloaded page is still closing
        this.setState("error", "Stopped");
        this.showProblem(`The audio was refused (${e.reason || e.code}).`);
        this.giveUp();
        return;
      }
      this.setState("reconnecting", e.code === 4409 ? "Waiting for the previous connection to close…" : "Connection lost — reconnecting…");
      this.retry(() => this.openAudio(attempt + 1), attempt);
    };
  }

  openEvents(attempt) {
    const ws = new WebSocket(wsUrl(`/v1/sessions/${this.session.id}/events?after_seq=${this.captions.lastSeq}`));
    this.events = ws;
    ws.onopen = () => { attempt = 0; };
    ws.onmessage = (m) => this.onEvent(JSON.parse(m.data));
    ws.onclose = () => {
      if (this.events !== ws || this.ended) return;
      this.setState("reconnecting", "Connection lost — reconnecting…");
      this.retry(() => this.openEvents(attempt + 1), attempt);
    };
  }

  onEvent(event) {
    if (!this.captions.apply(event)) return;
    const fresh = event.seq > this.replayed; // not one of the events from before this page joined
    if (event.type === "session.ended") {
      this.end("Session ended");
    } else if (event.type === "warning" && fresh && !shownInline(event)) {
      toast(event.message);
    } else if (event.type === "segment" && event.status === "final" && event.text && fresh && this.audioReady) {
      this.measureDelay(event);
    } else if (event.type === "source.status" && this.stream && fresh) {
      this.showSource(event);
    } else if (event.type === "session.status" && this.following) {
      this.setState(event.status === "live" ? "live" : "idle", event.status === "live" ? "Following (read-only)" : "Paused — nobody is capturing");
    }
  }

  showSource({ state, reason }) {
    const said = {
      connecting: ["idle", "Connecting to the stream…"], live: ["live", "Live — from the stream"],
      reconnecting: ["reconnecting", "Stream lost — reconnecting…"], ended: ["idle", "The stream ended"],
      failed: ["error", "The stream failed"],
    }[state];
    if (said) this.setState(...said);
    const why = reason ? reason[0].toUpperCase() + reason.slice(1) + "." : "";
    this.showProblem(state === "reconnecting" || state === "failed" ? why : "");
    if (state === "failed") this.streamFailed();
  }

  /** Nothing more will come: a session that got no caption is deleted (none left empty), one
   * that did is ended; the page is ready for another start. */
  async streamFailed() {
    const id = this.session.id;
    this.events.close();
    this.end();
    if (this.captions.lastSeq && this.captions.root.querySelector('.caption[data-status="final"]')) {
      await api(`/v1/sessions/${id}/end`, { method: "POST" }).catch(() => {});
    } else {
      await api(`/v1/sessions/${id}`, { method: "DELETE" }).catch(() => {});
      this.forget?.(); // its links lead nowhere now
    }
  }

  /** Time from the end of the speech to its final: audio is sent as it is heard, so the
   * audio sent beyond the segment's end is the time that has passed since it was spoken. */
  measureDelay(segment) {
    const delay = this.heard - segment.end;
    if (delay < 0 || delay > 120) return;
    this.delays = [...this.delays.slice(1 - DELAYS_KEPT), delay];
    const sorted = [...this.delays].sort((a, b) => a - b);
    this.delay = sorted[Math.floor(sorted.length / 2)];
    this.showDelay(this.delay);
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

  end(state) {
    if (this.ended) return;
    this.ended = true;
    if (sessionStorage.getItem(RUN_KEY) === this.session.id) sessionStorage.removeItem(RUN_KEY);
    if (state) this.setState("idle", state);
    this.onEnd?.();
  }

  giveUp() {
    if (this.ended) return;
    this.capture?.stop();
    this.audio?.close();
    this.events?.close();
    this.end();
  }

  /** Stop capturing (the session ends once its last finals are in), or stop following. */
  async stop() {
    if (this.stream) { // the server stops reading; the session ends once its last finals are in
      this.stopping = true;
      this.setState("idle", "Finishing…");
      await api(`/v1/sessions/${this.session.id}/end`, { method: "POST" }).catch((err) => this.showProblem(err.message));
      return;
    }
    if (this.following) {
      this.events.close();
      this.end("Stopped following");
      return;
    }
    this.stopping = true;
    this.setState("idle", "Finishing…");
    await this.capture.stop();
    this.meter.value = 0;
    if (this.audio?.readyState === WebSocket.OPEN && this.audioReady) this.audio.send(JSON.stringify({ type: "stop" }));
  }
}
