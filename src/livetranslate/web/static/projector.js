// Captions only, large, one language — for a room screen; ?overlay=1 gives a transparent
// background for OBS. Follows the session live through the events socket.
import { wsUrl, el } from "./api.js";
import { Captions } from "./captions.js";

export function projectorPage(root, id, params) {
  const lang = params.get("lang");
  document.body.classList.toggle("overlay", params.get("overlay") === "1");
  const box = el("section", { class: "projector", id: "projector", "aria-live": "polite" });
  root.replaceChildren(box);
  const captions = new Captions(box, { targets: lang ? [lang] : [], original: !lang, limit: 3 });
  let socket = null;
  let closed = false;
  const open = () => {
    socket = new WebSocket(wsUrl(`/v1/sessions/${id}/events?after_seq=${captions.lastSeq}`));
    socket.onmessage = (m) => captions.apply(JSON.parse(m.data));
    socket.onclose = (e) => { if (!closed && e.code !== 1000) setTimeout(open, 1000); };
  };
  open();
  return () => { closed = true; socket?.close(); document.body.classList.remove("overlay"); };
}
