// REST helpers: every failure becomes an Error whose message a person can read.

export class ApiError extends Error {
  constructor(message, status, code) { super(message); this.status = status; this.code = code; }
}

let shareToken = null;
/** A share link's token (from its #…?token=): sent instead of a sign-in on every call. */
export function useToken(token) { shareToken = token || null; }

export async function api(path, { method = "GET", body, form } = {}) {
  const init = { method, headers: shareToken ? { authorization: `Bearer ${shareToken}` } : {} };
  if (form) init.body = form;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["content-type"] = "application/json"; }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError("The LiveTranslate server cannot be reached. Is it running?", 0, "unreachable");
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const message = data?.error?.message || `The server answered ${res.status}.`;
    if (res.status === 401 && !path.startsWith("/v1/auth/")) dispatchEvent(new CustomEvent("lt:signed-out"));
    throw new ApiError(message, res.status, data?.error?.code);
  }
  return data;
}

export function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

/** A session's events after afterSeq, each once: after a drop it reconnects from the last seq
 * seen; close() ends it for good (a reconnect already waiting is called off). */
export function followEvents(id, afterSeq, onEvent) {
  let last = afterSeq, socket = null, timer = 0, closed = false;
  const open = () => {
    const url = wsUrl(`/v1/sessions/${id}/events?after_seq=${last}`);
    socket = shareToken ? new WebSocket(url, ["lt-token", shareToken]) : new WebSocket(url);
    socket.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.seq !== undefined) { if (e.seq <= last) return; last = e.seq; }
      onEvent(e);
    };
    socket.onclose = (e) => {
      if (e.code === 4401) { closed = true; dispatchEvent(new CustomEvent("lt:signed-out")); return; }
      if (!closed && e.code !== 1000) timer = setTimeout(open, 1000);
    };
  };
  open();
  return { close() { closed = true; clearTimeout(timer); socket.close(); } };
}

export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 8000);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const DISPLAY = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;

export function languageName(code) {
  try { return DISPLAY?.of(code) || code; } catch { return code; }
}

/** A session is not translated into the language it is spoken in: that box is off and cannot be ticked. */
export function spokenIsNoTarget(box, spokenLanguage, enabled = true) {
  for (const input of box.querySelectorAll('input[type="checkbox"]')) {
    const spoken = Boolean(spokenLanguage) && input.value === spokenLanguage;
    if (spoken) input.checked = false;
    input.disabled = spoken || !enabled;
    input.closest("label").title = spoken ? "The spoken language: captions are already in it" : "";
  }
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(r).padStart(2, "0")}`;
}
