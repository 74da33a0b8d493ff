// Bots: send one into a meeting (a Google Meet link, its name, the languages), the bots sent
// (newest first), and one bot's page: its states as they happen, the captions of its session,
// its screenshots, Pause / Resume captions, and Leave.
import { api, followEvents, el, languageName, toast } from "./api.js";
import { Captions } from "./captions.js";

const ACTIVE = new Set(["scheduled", "joining", "in_waiting_room", "needs_help", "in_call_not_recording",
  "in_call_recording", "paused", "leaving"]);
const WORDS = {
  scheduled: "Scheduled", joining: "Joining", in_waiting_room: "In the waiting room", needs_help: "Needs a person",
  in_call_not_recording: "In the call", in_call_recording: "Captioning", paused: "Paused", leaving: "Leaving",
  call_ended: "Left the call", done: "Done", fatal: "Failed",
};

export function stateLabel(status) {
  const word = WORDS[status.code] || status.code;
  return status.sub_code ? `${word} (${status.sub_code.replaceAll("_", " ")})` : word;
}

export async function botsPage(root) {
  let languages, defaults, page;
  try {
    [languages, { defaults }, page] = await Promise.all([api("/v1/languages"), api("/v1/settings"), api("/v1/bots?limit=50")]);
  } catch (err) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const link = el("input", { type: "url", id: "meeting-url", required: true, size: 40, placeholder: "https://meet.google.com/abc-defg-hij", "aria-label": "Meeting link" });
  const name = el("input", { type: "text", id: "bot-name", maxlength: 100, placeholder: "LiveTranslate", "aria-label": "Bot name" });
  const spoken = el("select", { id: "bot-language" },
    languages.asr.detection ? el("option", { value: "" }, "Detect automatically") : null,
    languages.asr.languages.map((l) => el("option", { value: l.code, selected: l.code === defaults.language }, l.name)));
  const targets = Array.isArray(languages.translation.targets) ? languages.translation.targets : [];
  const targetBox = el("fieldset", { class: "targets", id: "bot-targets" }, el("legend", {}, "Translate into"),
    targets.map((t) => el("label", {}, el("input", { type: "checkbox", value: t, name: "bot-target", checked: defaults.targets.includes(t) }), languageName(t))));
  const send = el("button", { type: "submit", id: "send-bot" }, "Send bot");
  const problem = el("p", { class: "error", id: "bot-problem", role: "alert", hidden: true });
  const form = el("form", { class: "controls", id: "bot-form" },
    el("label", {}, "Meeting link", link), el("label", {}, "Bot name", name), el("label", {}, "Spoken language", spoken),
    targetBox, send);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    problem.hidden = true;
    send.disabled = true;
    const body = { meeting_url: link.value.trim(), language: spoken.value || null,
      targets: [...form.querySelectorAll('input[name="bot-target"]:checked')].map((i) => i.value) };
    if (name.value.trim()) body.bot_name = name.value.trim();
    try {
      const bot = await api("/v1/bots", { method: "POST", body });
      location.hash = `#/bots/${bot.id}`;
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
    } finally {
      send.disabled = false;
    }
  });
  const rows = page.items.map((b) => el("tr", { "data-bot": b.id },
    el("td", {}, el("a", { href: `#/bots/${b.id}` }, b.meeting_id)),
    el("td", {}, b.bot_name),
    el("td", { class: "bot-state", "data-state": b.status.code }, stateLabel(b.status)),
    el("td", {}, new Date(b.created_at).toLocaleString()),
    el("td", {}, el("a", { href: `#/sessions/${b.session_id}` }, "Transcript"))));
  const list = page.items.length
    ? el("table", { id: "bots" }, el("thead", {}, el("tr", {}, ["Meeting", "Name", "State", "Sent", ""].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
    : el("p", {}, "No bots yet. Paste a Google Meet link above: the bot asks to join, and its captions appear here.");
  root.replaceChildren(el("h1", {}, "Meeting bots"), form, problem, el("h2", {}, "Bots sent"), list);
}

export function botPage(root, id) {
  const page = { closed: false, events: null, timer: 0 };
  show(root, id, page);
  return () => { page.closed = true; page.events?.close(); clearTimeout(page.timer); };
}

async function show(root, id, page) {
  let bot;
  try {
    bot = await api(`/v1/bots/${id}`);
  } catch (err) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, err.status === 404 ? `There is no bot “${id}”.` : err.message),
      el("a", { href: "#/bots" }, "← All bots"));
    return;
  }
  if (page.closed) return;
  const state = el("p", { id: "bot-state", class: "bot-state", "aria-live": "polite" });
  const timeline = el("ol", { id: "bot-timeline", class: "timeline" });
  const leave = el("button", { type: "button", id: "leave-bot", class: "ghost" }, "Leave");
  const shots = el("div", { id: "bot-shots", class: "shots" });
  const captionsRoot = el("section", { id: "captions", "aria-live": "polite", "aria-label": "Captions" });
  const session = await api(`/v1/sessions/${bot.session_id}`).catch(() => null);
  if (page.closed) return; // the person went elsewhere meanwhile
  const captions = new Captions(captionsRoot, { targets: session?.targets || [] });
  leave.addEventListener("click", async () => {
    leave.disabled = true;
    try { draw(await api(`/v1/bots/${id}/leave`, { method: "POST" })); } catch (err) { toast(err.message); leave.disabled = false; }
  });
  const pause = el("button", { type: "button", id: "pause-bot", class: "ghost" }, "Pause captions");
  pause.addEventListener("click", async () => {
    pause.disabled = true;
    const what = bot.status.code === "paused" ? "resume" : "pause";
    try { bot = await api(`/v1/bots/${id}/${what}`, { method: "POST" }); draw(bot); } catch (err) { toast(err.message); }
    pause.disabled = false;
  });
  root.replaceChildren(
    el("p", {}, el("a", { href: "#/bots" }, "← All bots")),
    el("h1", {}, `Bot “${bot.bot_name}” in ${bot.meeting_id}`),
    el("div", { class: "status" }, state, pause, leave, el("a", { href: `#/sessions/${bot.session_id}` }, "Transcript and exports")),
    el("h2", {}, "What it did"), timeline, captionsRoot, el("h2", {}, "Screenshots"), shots);

  function draw(b) {
    state.textContent = stateLabel(b.status) + (b.status.message ? ` — ${b.status.message}` : "");
    state.dataset.state = b.status.code;
    leave.hidden = !ACTIVE.has(b.status.code);
    pause.hidden = !["in_call_recording", "paused"].includes(b.status.code);
    pause.textContent = b.status.code === "paused" ? "Resume captions" : "Pause captions";
    timeline.replaceChildren(...(b.status_changes || []).map((c) => el("li", { "data-state": c.new },
      el("time", {}, new Date(c.created_at).toLocaleTimeString()), " ", stateLabel({ code: c.new, sub_code: c.sub_code }),
      c.message ? el("span", { class: "muted" }, ` — ${c.message}`) : null, el("span", { class: "muted" }, ` (${c.source})`))));
    if (shots.childElementCount !== b.screenshots) {
      shots.replaceChildren(...Array.from({ length: b.screenshots }, (_, i) =>
        el("a", { href: `/v1/bots/${id}/screenshots/${i + 1}`, target: "_blank" },
          el("img", { src: `/v1/bots/${id}/screenshots/${i + 1}`, alt: `Screenshot ${i + 1}`, loading: "lazy" }))));
    }
  }
  draw(bot);
  page.events = followEvents(bot.session_id, 0, (e) => { if (e.type !== "bot.status") captions.apply(e); });
  const poll = async () => {
    if (page.closed) return;
    try { bot = await api(`/v1/bots/${id}`); draw(bot); } catch { /* the next poll says */ }
    if (ACTIVE.has(bot.status.code) || bot.status.code === "call_ended") page.timer = setTimeout(poll, 1000);
  };
  page.timer = setTimeout(poll, 1000);
}
