// The stand-in Meet page: pre-join, lobby, call and exit screens with Meet's selectors and
// texts, and in the call real WebRTC audio from each participant through an in-page SFU on
// a few rotating channels, as <audio> elements under body.
"use strict";
const CODE = document.body.dataset.code;
const MODE = document.body.dataset.mode;
const app = document.getElementById("app");
const api = (path, body) =>
  fetch(`/_api/${CODE}/${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    .then((r) => r.json());
let scenario = null;
let toolbarTimer = null;

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function screen(...children) {
  app.replaceChildren(...children);
}

function exitScreen(text, ...buttons) {
  stopMedia();
  screen(h("div", { class: "roSPhc", text }), ...buttons.map((b) => h("button", { text: b })));
}

// --- people's hands: with human_input, a click must be trusted and follow a pointer that
// travelled to it; typed text must come as key presses
const moves = [];
let keys = 0;
document.addEventListener("mousemove", (e) => { if (e.isTrusted) moves.push(performance.now()); }, true);
document.addEventListener("keydown", (e) => { if (e.isTrusted) keys++; }, true);

function human(e, what) {
  if (!scenario.human_input) return true;
  const now = performance.now();
  const travelled = moves.filter((t) => now - t < 2000).length;
  const ok = e.isTrusted && travelled >= 5;
  api("input", { what, accepted: ok, trusted: e.isTrusted, moves: travelled });
  return ok;
}

function guarded(what, fn) {
  return (e) => {
    if (!human(e, what)) return;
    if (scenario.human_input === false) api("input", { what, accepted: true, trusted: e.isTrusted, moves: 0 });
    fn(e);
  };
}

// --- pre-join

async function prejoin() {
  scenario = await api("scenario");
  if (MODE === "not_found") return exitScreen("Check your meeting code", "Return to home screen");
  if (MODE === "sign_in") return screen(h("h1", { text: "Sign in" }), h("p", { text: "to continue to Google Meet" }));
  const name = h("input", { type: "text", jsname: "YPqjbf", "aria-label": "Your name", placeholder: "Your name" });
  const toggle = (what) => {
    const el = h("div", { role: "button", "aria-label": `Turn off ${what} (ctrl + d)`, tabindex: "0", text: what });
    el.addEventListener("click", guarded(`${what} toggle`, () => {
      const off = el.getAttribute("aria-label").startsWith("Turn off");
      el.setAttribute("aria-label", `${off ? "Turn on" : "Turn off"} ${what} (ctrl + d)`);
      el.dataset.off = off ? "1" : "";
    }));
    return el;
  };
  const mic = toggle("microphone");
  const camera = toggle("camera");
  const label = MODE === "open" ? "Join now" : "Ask to join";
  const join = h("button", { jsname: "Qx7uuf" }, h("span", { text: label }));
  join.addEventListener("click", guarded("join", async () => {
    if (scenario.human_input && keys < name.value.length / 2) {
      api("input", { what: "name typed without keys", accepted: false, trusted: true, moves: 0 });
      return;
    }
    const state = await api("knock", { name: name.value, mic_off: !!mic.dataset.off, camera_off: !!camera.dataset.off });
    lobby(state);
  }));
  const preview = h("video", { autoplay: "", muted: "" });
  navigator.mediaDevices.getUserMedia({ audio: true, video: true }).then((s) => (preview.srcObject = s)).catch(() => {});
  screen(h("h2", { text: "Ready to join?" }), preview, h("div", {}, name), h("div", {}, mic, camera), join,
         h("div", {}, h("button", { text: "Other ways to join" })));
}

// --- the waiting room

function lobby(state) {
  if (state.state === "in") return call();
  if (state.state === "blocked") return exitScreen("You can't join this video call", "Return to home screen");
  if (state.state === "denied") return exitScreen("Someone in the call denied your request to join", "Return to home screen");
  if (state.state === "expired") return exitScreen("No one responded to your request to join the call", "Return to home screen");
  if (!document.getElementById("lobby")) {
    screen(h("div", { id: "lobby" },
      h("h2", { text: state.host_absent ? "Waiting for the host to join" : "Asking to be let in\u2026" }),
      h("p", { text: "You\u2019ll join the call when someone lets you in" }),
      h("button", { text: "Return to home screen" })));
  }
  setTimeout(async () => lobby(await api("poll")), 300);
}

// --- the call

const media = { ctx: null, sfu: null, client: null, senders: [], tracks: {}, assigned: [], t0: 0, timers: [] };

async function call() {
  await api("joined", {});
  const tiles = h("div", { class: "grid", id: "tiles" });
  const self = h("div", { "data-participant-id": "spaces/fake/devices/0" },
    h("div", { "data-self-name": scenario.bot_name || "You" }), h("span", { class: "notranslate", text: "You" }));
  const phantom = h("div", { "data-participant-id": "spaces/fake/devices/visual_effects" },
    h("span", { class: "notranslate", text: "Backgrounds and effects" }));
  tiles.append(self, phantom);
  const people = h("button", { "aria-label": "People - 1 joined", id: "people", text: "People" });
  const leave = h("button", { jsname: "CQylAd", "aria-label": "Leave call", text: "Leave" });
  leave.addEventListener("click", guarded("leave", async () => {
    await api("left", {});
    exitScreen("You left the meeting", "Rejoin", "Return to home screen");
  }));
  const toolbar = h("div", { role: "toolbar" },
    h("button", { "aria-label": "Turn on microphone", text: "Mic" }), leave, people,
    h("button", { jsname: "NakZHc", "aria-label": "More options", text: "\u22ee" }),
    h("button", { "aria-label": "Turn on captions", text: "CC" }));
  screen(tiles, toolbar);
  const show = () => { toolbar.classList.remove("hidden"); clearTimeout(toolbarTimer); toolbarTimer = setTimeout(() => toolbar.classList.add("hidden"), 5000); };
  document.addEventListener("mousemove", show);
  show();
  await startMedia();
  hostPoll();
}

function hostPoll() {
  media.timers.push(setTimeout(async () => {
    const state = await api("poll");
    if (state.host_action === "remove") return exitScreen("You've been removed from the meeting", "Return to home screen");
    if (state.host_action === "end") return exitScreen("Your host ended the meeting for everyone", "Return to home screen");
    if (state.host_action === "dismiss") document.querySelectorAll("[role=dialog]").forEach((d) => d.remove());
    if (document.getElementById("tiles")) hostPoll();
  }, 300));
}

async function startMedia() {
  const ctx = (media.ctx = new AudioContext());
  await ctx.resume();
  const buffers = {};
  for (const p of scenario.participants) { // fetched and decoded first: the call starts on time
    const dest = ctx.createMediaStreamDestination();
    media.tracks[p.id] = dest.stream.getAudioTracks()[0];
    if (p.wav) buffers[p.id] = [await ctx.decodeAudioData(await (await fetch(`/media/${CODE}/${p.id}.wav`)).arrayBuffer()), dest];
  }
  const start = ctx.currentTime + 0.3;
  media.t0 = start;
  api("media", { t0: Date.now() / 1000 + 0.3 }); // when the call's audio begins, on the wall clock
  for (const [buffer, dest] of Object.values(buffers)) {
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(dest);
    src.start(start);
  }
  const silent = ctx.createMediaStreamDestination().stream.getAudioTracks()[0];
  media.silent = silent;
  await connectSfu();
  media.timers.push(setInterval(tick, 100));
  for (const e of scenario.events) media.timers.push(setTimeout(() => act(e.action), (start - ctx.currentTime + e.t) * 1000));
}

async function connectSfu() {
  // the "SFU": a peer connection sending on N channels, and the page's own receiving one
  const sfu = (media.sfu = new RTCPeerConnection());
  const client = (media.client = new RTCPeerConnection());
  sfu.onicecandidate = (e) => e.candidate && client.addIceCandidate(e.candidate);
  client.onicecandidate = (e) => e.candidate && sfu.addIceCandidate(e.candidate);
  media.senders = [];
  for (let i = 0; i < scenario.channels; i++) media.senders.push(sfu.addTrack(media.silent.clone(), new MediaStream()));
  media.assigned = new Array(scenario.channels).fill(null);
  client.ontrack = (e) => {
    const el = h("audio", { autoplay: "" });
    el.srcObject = new MediaStream([e.track]);
    document.body.append(el); // Meet's three <audio> are children of body, not of the tiles
  };
  const offer = await sfu.createOffer();
  await sfu.setLocalDescription(offer);
  await client.setRemoteDescription(offer);
  const answer = await client.createAnswer();
  await client.setLocalDescription(answer);
  await sfu.setRemoteDescription(answer);
}

function now() {
  return media.ctx.currentTime - media.t0;
}

function speaking(p, t, lagOn = 0, lagOff = 0) {
  return p.segments.some(([a, b]) => t >= a + lagOn && t < b + lagOff);
}

function present(p, t) {
  return t >= p.join_at && (p.leave_at === null || t < p.leave_at);
}

function tick() {
  const t = now();
  const g = scenario.glow;
  const tiles = document.getElementById("tiles");
  if (!tiles) return;
  let count = 1;
  for (const p of scenario.participants) {
    const id = `spaces/fake/devices/${p.id}`;
    let tile = tiles.querySelector(`[data-participant-id="${id}"]`);
    if (!present(p, t)) { if (tile) tile.remove(); continue; }
    count++;
    const name = p.rename && t >= p.rename[0] ? p.rename[1] : p.name;
    if (!tile) {
      tile = h("div", { "data-participant-id": id }, h("div", { class: `ring ${g.silent_class}` }), h("span", { class: "notranslate", text: name }));
      tiles.append(tile);
    }
    tile.querySelector(".notranslate").textContent = name;
    let on = speaking(p, t, g.on_lag_s, g.off_lag_s);
    if (on && g.flicker > 0 && Math.random() < g.flicker) on = false;
    tile.querySelector(".ring").className = `ring ${on ? g.speaking_class : g.silent_class}`;
  }
  const people = document.getElementById("people");
  if (people) people.setAttribute("aria-label", `People - ${count} joined`);
  assignChannels(t);
}

function assignChannels(t) {
  // the loudest (here: the speaking) participants get the channels; a channel keeps its
  // speaker while they speak and goes to the next who starts, so channels rotate
  const talking = scenario.participants.filter((p) => present(p, t) && speaking(p, t, -0.2, 0.3)).map((p) => p.id);
  for (const id of talking) {
    if (media.assigned.includes(id)) continue;
    let free = media.assigned.findIndex((a) => a === null || !talking.includes(a));
    if (free < 0) continue;
    media.assigned[free] = id;
    media.senders[free].replaceTrack(media.tracks[id]);
  }
}

async function act(action) {
  if (action === "remove") return exitScreen("You've been removed from the meeting", "Return to home screen");
  if (action === "end") return exitScreen("Your host ended the meeting for everyone", "Return to home screen");
  if (action === "everyone_leaves") {
    const t = now();
    for (const p of scenario.participants) if (present(p, t)) p.leave_at = t;
  }
  if (action === "recording_dialog") {
    const ok = h("button", { "data-mdc-dialog-action": "ok", text: "Join now" });
    const d = h("div", { "aria-modal": "true", role: "dialog" }, h("p", { text: "This video call is being recorded" }), ok);
    ok.addEventListener("click", guarded("recording ok", () => d.remove()));
    document.body.append(d);
  }
  if (action === "consent_dialog") {
    document.body.append(h("div", { "aria-modal": "true", role: "dialog" },
      h("p", { text: "Gemini is taking notes. Do you want Gemini to take notes for me?" }),
      h("button", { text: "Yes" }), h("button", { text: "No" })));
  }
  if (action === "renegotiate") {
    // the call's connection is rebuilt: new tracks, new <audio> elements
    const old = [media.sfu, media.client];
    document.querySelectorAll("body > audio").forEach((a) => a.remove());
    await connectSfu();
    old.forEach((pc) => pc.close());
  }
}

function stopMedia() {
  media.timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
  media.timers = [];
  for (const pc of [media.sfu, media.client]) if (pc) pc.close();
  media.sfu = media.client = null;
  document.querySelectorAll("body > audio").forEach((a) => a.remove());
  if (media.ctx) media.ctx.close();
  media.ctx = null;
}

prejoin();
