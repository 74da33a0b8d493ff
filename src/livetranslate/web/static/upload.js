// A recording from this computer (picked or dropped) becomes a session: created with its
// languages, its bytes streamed over the audio socket as a container the server probes
// ("format": "auto"), with progress, then "stop" and its transcript.
import { api, el, wsUrl, languageName, spokenIsNoTarget } from "./api.js";

const CHUNK = 256 * 1024; // under the server's max_frame_bytes (1 MiB)
const IN_FLIGHT = 2 * 1024 * 1024; // bytes queued on the socket before reading more of the file

export async function uploadBox() {
  let languages, defaults;
  try {
    [languages, { defaults }] = await Promise.all([api("/v1/languages"), api("/v1/settings")]);
  } catch (err) {
    return el("p", { class: "error", role: "alert" }, err.message);
  }
  const targets = Array.isArray(languages.translation.targets) ? languages.translation.targets : [];
  const file = el("input", { type: "file", id: "upload-file", accept: "audio/*,video/*,.mp3,.wav,.m4a,.ogg,.opus,.webm,.flac,.mp4" });
  const spoken = el("select", { id: "upload-language" },
    languages.asr.detection ? el("option", { value: "", selected: defaults.language === null }, "Detect automatically") : null,
    languages.asr.languages.map((l) => el("option", { value: l.code, selected: l.code === defaults.language }, l.name)));
  const targetBox = el("fieldset", { class: "targets", id: "upload-targets" }, el("legend", {}, "Translate into"),
    targets.map((t) => el("label", {}, el("input", { type: "checkbox", value: t, name: "upload-target", checked: defaults.targets.includes(t) }), languageName(t))));
  spoken.addEventListener("change", () => spokenIsNoTarget(targetBox, spoken.value));
  spokenIsNoTarget(targetBox, spoken.value);
  const send = el("button", { type: "submit", id: "upload-start" }, "Transcribe");
  const progress = el("progress", { id: "upload-progress", max: 1, value: 0, hidden: true, "aria-label": "Upload progress" });
  const state = el("span", { id: "upload-state", role: "status" });
  const drop = el("label", { class: "drop", id: "upload-drop" }, "Drop an audio or video file here, or choose one: ", file);
  const form = el("form", { class: "upload", id: "upload", "aria-label": "Transcribe a recording" },
    el("h2", {}, "Transcribe a recording"), drop,
    el("div", { class: "controls" }, el("label", {}, "Spoken language", spoken), targets.length ? targetBox : null, send),
    el("div", { class: "status" }, progress, state));

  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) file.files = e.dataTransfer.files;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) { state.textContent = "Choose a file first."; return; }
    send.disabled = true;
    const show = (text, error = false) => { state.textContent = text; state.classList.toggle("error", error); };
    try {
      const session = await api("/v1/sessions", { method: "POST", body: {
        title: chosen.name.replace(/\.[^.]+$/, ""), language: spoken.value || null,
        targets: [...form.querySelectorAll('input[name="upload-target"]:checked')].map((i) => i.value) } });
      progress.hidden = false;
      await streamFile(session.id, chosen, { progress, show });
      location.hash = `#/sessions/${session.id}`;
    } catch (err) {
      show(err.message, true);
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

/** Send the file on the session's audio socket; resolves once the session has ended. */
function streamFile(id, file, { progress, show }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(`/v1/sessions/${id}/audio`));
    let lines = 0;
    let failure = null;
    ws.onopen = () => ws.send(JSON.stringify({ type: "start", format: "auto" }));
    ws.onmessage = async (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "ready") {
        await sendAll(ws, file, (sent) => {
          progress.value = sent / file.size;
          show(`Sent ${Math.round((100 * sent) / file.size)} % · ${lines} lines so far`);
        });
        show(`Transcribing the rest… ${lines} lines so far`);
        ws.send(JSON.stringify({ type: "stop" }));
      } else if (msg.type === "segment" && msg.status === "final" && msg.text) {
        lines += 1;
      } else if (msg.type === "error") {
        failure = msg.message;
      }
    };
    ws.onclose = async (e) => {
      if (e.code === 1000) return resolve();
      const why = failure || `the connection closed (${e.code})`;
      if (!lines) await api(`/v1/sessions/${id}`, { method: "DELETE" }).catch(() => {}); // nothing came of it: no empty session left
      reject(new Error(`The file could not be transcribed: ${why}`));
    };
  });
}

async function sendAll(ws, file, sent) {
  for (let at = 0; at < file.size && ws.readyState === WebSocket.OPEN; at += CHUNK) {
    // the browser has no drain event for a WebSocket: wait while its queue is full
    while (ws.bufferedAmount > IN_FLIGHT) await new Promise((r) => setTimeout(r, 50));
    ws.send(await file.slice(at, at + CHUNK).arrayBuffer());
    sent(Math.min(file.size, at + CHUNK));
  }
}
