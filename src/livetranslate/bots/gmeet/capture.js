// The bot's ears in the meeting page, installed before the page's own scripts run.
//
// Audio: every remote audio track, found two ways for the whole call — the `track` events of
// every RTCPeerConnection the page makes (tracks that arrive after a renegotiation included)
// and the <audio>/<video> elements whose srcObject holds audio — each read by an AudioWorklet
// in one 16 kHz AudioContext, so that all channels and all tile changes share one clock.
// Frames go to the worker through the Playwright binding __ltAudio(channel, frame, base64
// int16), 50 ms at a time; nothing is polled from outside.
//
// People: every 250 ms the participant tiles are read (id, name, speaking ring) and changes
// go to __ltEvent: join, leave, rename, speech_on, speech_off, each with the clock's frame.
// A clock tick also goes every 250 ms, so the worker knows time passes while no one talks.
(() => {
  if (window.__lt) return;
  const cfg = window.__ltConfig || {};
  const RATE = 16000;
  const lt = (window.__lt = { tracks: new Map(), people: new Map(), ctx: null, node: null, errors: [] });

  const WORKLET = `
    class LtTap extends AudioWorkletProcessor {
      constructor() { super(); this.buf = new Int16Array(800); this.n = 0; this.start = 0; }
      process(inputs) {
        const input = inputs[0] || [];
        const n = input.length ? input[0].length : 128; // no input connected: a quantum of silence
        for (let i = 0; i < n; i++) {
          if (this.n === 0) this.start = currentFrame + i;
          let v = 0;
          for (let c = 0; c < input.length; c++) v += input[c][i];
          v = input.length ? Math.max(-1, Math.min(1, v / input.length)) : 0;
          this.buf[this.n++] = v < 0 ? v * 32768 : v * 32767;
          if (this.n === this.buf.length) {
            this.port.postMessage({ start: this.start, pcm: this.buf.buffer }, [this.buf.buffer]);
            this.buf = new Int16Array(800); this.n = 0;
          }
        }
        return true;
      }
    }
    registerProcessor("lt-tap", LtTap);`;

  function context() {
    if (!lt.ctx) {
      lt.ctx = new AudioContext({ sampleRate: RATE });
      const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
      lt.ready = lt.ctx.audioWorklet.addModule(url);
      lt.sink = lt.ctx.createGain();
      lt.sink.gain.value = 0; // pulls the graph without playing anything
      lt.sink.connect(lt.ctx.destination);
    }
    if (lt.ctx.state !== "running") lt.ctx.resume().catch(() => {});
    return lt.ctx;
  }

  function base64(buffer) {
    const bytes = new Uint8Array(buffer);
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  // the bot's own microphone (the pre-join preview) is not the call
  const local = new Set();
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (...args) => {
      const stream = await gum(...args);
      for (const t of stream.getTracks()) local.add(t.id);
      return stream;
    };
  }

  async function tap(track, how) {
    if (track.kind !== "audio" || lt.tracks.has(track.id) || local.has(track.id)) return;
    const channel = lt.tracks.size;
    lt.tracks.set(track.id, { channel, how });
    try {
      const ctx = context();
      await lt.ready;
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      const node = new AudioWorkletNode(ctx, "lt-tap", { numberOfOutputs: 1 });
      node.port.onmessage = (e) => window.__ltAudio && window.__ltAudio(channel, e.data.start, base64(e.data.pcm));
      source.connect(node);
      node.connect(lt.sink);
      lt.tracks.get(track.id).node = node;
      send({ type: "track", channel, how, id: track.id });
      track.addEventListener("ended", () => send({ type: "track_ended", channel, id: track.id }));
    } catch (err) {
      lt.errors.push(String(err));
      send({ type: "error", message: "audio capture: " + err });
    }
  }

  // route 1: every peer connection's remote tracks
  const Native = window.RTCPeerConnection;
  if (Native) {
    const Hooked = function (...args) {
      const pc = new Native(...args);
      pc.addEventListener("track", (e) => tap(e.track, "peer"));
      return pc;
    };
    Hooked.prototype = Native.prototype;
    Object.setPrototypeOf(Hooked, Native);
    window.RTCPeerConnection = Hooked;
  }

  // route 2: media elements playing a stream (Meet's three <audio> under body)
  function scanElements() {
    for (const el of document.querySelectorAll("audio, video")) {
      const stream = el.srcObject;
      if (stream && typeof stream.getAudioTracks === "function") for (const t of stream.getAudioTracks()) tap(t, "element");
    }
  }

  function send(event) {
    event.frame = lt.ctx ? Math.round(lt.ctx.currentTime * RATE) : null;
    if (window.__ltEvent) window.__ltEvent(event);
  }

  const TILE = cfg.tile || "[data-participant-id]";
  const NAMES = cfg.tileName || ["span.notranslate", "[data-self-name]"];
  const SPEAKING = cfg.speaking || ["Oaajhc", "HX2H7", "wEsLMd", "OgVli"];
  const NOBODY = (cfg.notAPerson || []).map((p) => new RegExp(p));

  function nameOf(tile) {
    for (const sel of NAMES) {
      const el = tile.matches(sel) ? tile : tile.querySelector(sel);
      const text = el && (el.getAttribute("data-self-name") || el.textContent || "").trim();
      if (text) return text;
    }
    return null;
  }

  function speaking(tile) {
    for (const c of SPEAKING) if (tile.classList.contains(c) || tile.querySelector("." + c)) return true;
    return false;
  }

  function readTiles() {
    const seen = new Map();
    for (const tile of document.querySelectorAll(TILE)) {
      const id = tile.getAttribute("data-participant-id");
      const name = nameOf(tile);
      if (!id || (name && NOBODY.some((re) => re.test(name)))) continue;
      const self = tile.matches("[data-self-name]") || !!tile.querySelector("[data-self-name]");
      seen.set(id, { name, self, speaking: speaking(tile) });
    }
    const wasIn = [...lt.people.values()].some((p) => p.self);
    const isIn = [...seen.values()].some((p) => p.self);
    if (wasIn && !isIn) { // the bot's own tile went: the bot is out of the call, no one else left
      lt.people = new Map();
      return;
    }
    for (const [id, now] of seen) {
      const before = lt.people.get(id);
      const self = now.self;
      if (!before) send({ type: "join", id, name: now.name, self });
      else if (before.name !== now.name && now.name) send({ type: "rename", id, name: now.name, self });
      if (now.speaking && !(before && before.speaking)) send({ type: "speech_on", id, name: now.name, self });
      if (!now.speaking && before && before.speaking) send({ type: "speech_off", id, name: now.name, self });
    }
    for (const [id, before] of lt.people) {
      if (!seen.has(id)) {
        if (before.speaking) send({ type: "speech_off", id, name: before.name, self: before.self });
        send({ type: "leave", id, name: before.name, self: before.self });
      }
    }
    lt.people = seen;
  }

  setInterval(() => {
    try {
      scanElements();
      readTiles();
      send({ type: "tick", tracks: lt.tracks.size, state: lt.ctx ? lt.ctx.state : "none" });
    } catch (err) {
      lt.errors.push(String(err));
    }
  }, 250);
})();
