// Audio in: the microphone (getUserMedia) or a tab / screen (getDisplayMedia), captured by an
// AudioWorklet in a 16 kHz context as PCM16 — the audio socket's pcm_s16le at 16000 Hz.

export const SAMPLE_RATE = 16000;

export function describeMediaError(err, source) {
  const what = source === "tab" ? "tab or screen audio" : "the microphone";
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `Access to ${what} was denied. Allow it in the browser's site settings and press Start again.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return source === "tab" ? "No audio was shared. Choose a tab and tick “Share tab audio”." : "No microphone was found.";
    case "NotReadableError":
      return `${what[0].toUpperCase() + what.slice(1)} is in use by another program or cannot be read.`;
    default:
      return `Could not capture ${what}: ${err?.message || err}`;
  }
}

export async function startCapture(source, onChunk, prefs = {}) {
  if (!navigator.mediaDevices) throw Object.assign(new Error("this page needs https or localhost to capture audio"), { name: "SecurityError" });
  // The worklet loads before the microphone opens: the device delivers from getUserMedia on,
  // and on a busy machine loading the worklet after it lost the first second of speech. A tab
  // is asked for at once (getDisplayMedia needs the click's user activation).
  const context = new AudioContext({ sampleRate: SAMPLE_RATE });
  const ready = context.audioWorklet.addModule("/worklet.js");
  let stream;
  try {
    if (source !== "tab") await ready;
    stream = await openStream(source, prefs);
    await ready;
  } catch (err) {
    ready.catch(() => {}); // its own failure, if any, is not the one to report
    stream?.getTracks().forEach((t) => t.stop());
    await context.close();
    throw err;
  }
  const input = context.createMediaStreamSource(new MediaStream(stream.getAudioTracks()));
  const node = new AudioWorkletNode(context, "pcm16-capture");
  node.port.onmessage = (m) => onChunk(m.data.pcm, m.data.level);
  input.connect(node);
  return {
    async stop() {
      input.disconnect();
      node.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      await context.close();
    },
  };
}

async function openStream(source, prefs) {
  if (source === "tab") {
    const stream = await navigator.mediaDevices.getDisplayMedia({ audio: true, video: true });
    if (stream.getAudioTracks().length === 0) {
      stream.getTracks().forEach((t) => t.stop());
      throw Object.assign(new Error("no audio track"), { name: "NotFoundError" });
    }
    return stream;
  }
  return navigator.mediaDevices.getUserMedia({
    audio: {
      channelCount: 1,
      echoCancellation: prefs.echo_cancellation ?? true,
      noiseSuppression: prefs.noise_suppression ?? true,
      autoGainControl: prefs.auto_gain ?? true,
    },
  });
}
