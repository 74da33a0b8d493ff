// Settings: the defaults of new sessions (stored on the server, applied at once), what
// this server runs, your limits and their use; a Health panel with its checks and a few
// live figures from /metrics; the audit log (for admins).
import { api, el, toast, languageName, spokenIsNoTarget } from "./api.js";

export async function settingsPage(root) {
  root.replaceChildren(el("h1", {}, "Settings"), el("p", {}, "Loading…"));
  let settings, languages;
  try {
    [settings, languages] = await Promise.all([api("/v1/settings"), api("/v1/languages")]);
  } catch (err) {
    root.lastChild.replaceWith(el("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  const d = settings.defaults;
  const targets = Array.isArray(languages.translation.targets) ? languages.translation.targets : [];
  const language = el("select", { id: "default-language" },
    languages.asr.detection ? el("option", { value: "", selected: d.language === null }, "Detect automatically") : null,
    languages.asr.languages.map((l) => el("option", { value: l.code, selected: l.code === d.language }, l.name)));
  const engine = el("select", { id: "default-engine" },
    el("option", { value: "" }, `Server default (${settings.server.default_engine})`),
    Object.keys(settings.server.translation_engines).map((e) => el("option", { value: e, selected: e === d.translation_engine }, e)));
  const targetBox = el("fieldset", { class: "targets", id: "default-targets" }, el("legend", {}, "Translate new sessions into"),
    targets.map((t) => el("label", {}, el("input", { type: "checkbox", value: t, name: "default-target", checked: d.targets.includes(t) }), languageName(t))));
  language.addEventListener("change", () => spokenIsNoTarget(targetBox, language.value));
  spokenIsNoTarget(targetBox, language.value);
  const keep = el("input", { type: "text", id: "glossary-keep", value: d.glossary.keep.join(", "), placeholder: "Acme, Kubernetes" });
  const terms = el("textarea", { id: "glossary-terms", rows: 4, cols: 50, placeholder: "standup = es: reunión diaria, fr: point quotidien" });
  terms.value = Object.entries(d.glossary.terms).map(([term, tr]) => `${term} = ${Object.entries(tr).map(([l, v]) => `${l}: ${v}`).join(", ")}`).join("\n");
  const box = (id, label, checked) => el("label", {}, el("input", { type: "checkbox", id, checked }), label);
  const capture = el("fieldset", {}, el("legend", {}, "Microphone"),
    box("echo", "Echo cancellation", d.echo_cancellation), box("noise", "Noise suppression", d.noise_suppression),
    box("gain", "Automatic gain", d.auto_gain));
  const saved = el("span", { id: "saved", role: "status" });
  const form = el("form", { id: "defaults" },
    el("h2", {}, "New sessions"),
    el("div", { class: "controls" }, el("label", {}, "Spoken language", language), el("label", {}, "Translation engine", engine)),
    el("div", { class: "controls" }, targetBox),
    el("div", { class: "controls" }, el("label", {}, "Glossary: never translate (comma-separated)", keep),
      el("label", {}, "Glossary: fixed translations, one term per line", terms)),
    el("div", { class: "controls" }, capture),
    el("div", { class: "controls" }, el("button", { type: "submit", id: "save" }, "Save"), saved));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    saved.textContent = "";
    let glossaryTerms;
    try {
      glossaryTerms = parseTerms(terms.value);
    } catch (err) {
      saved.textContent = err.message;
      saved.className = "error";
      return;
    }
    try {
      await api("/v1/settings", {
        method: "PATCH",
        body: {
          language: language.value || null,
          translation_engine: engine.value || null,
          targets: [...targetBox.querySelectorAll("input:checked")].map((i) => i.value),
          glossary: { keep: keep.value.split(",").map((s) => s.trim()).filter(Boolean), terms: glossaryTerms },
          echo_cancellation: form.querySelector("#echo").checked,
          noise_suppression: form.querySelector("#noise").checked,
          auto_gain: form.querySelector("#gain").checked,
        },
      });
      saved.textContent = "Saved. New sessions use these settings.";
      saved.className = "";
    } catch (err) {
      saved.textContent = err.message;
      saved.className = "error";
    }
  });

  const s = settings.server;
  const server = el("table", { id: "server" }, el("tbody", {},
    [["Version", s.version], ["Speech model", s.model], ["Other languages", s.multilingual_model || "English only"],
     ["Compute", `${s.compute_type} on ${s.device}`], ["Translation engines", Object.keys(s.translation_engines).join(", ") || "none"],
     ["Speakers", s.speakers ? "told apart by voice" : "off"], ["Store", s.store], ["Session audio", s.store_audio ? "kept" : "not kept"]]
      .map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, v)))));
  const health = el("section", { id: "health", "aria-live": "polite" }, el("p", {}, "Checking…"));
  const audit = el("section", { id: "audit" }, el("p", {}, "Loading…"));
  root.replaceChildren(el("h1", {}, "Settings"), form, el("h2", {}, "This server"), server,
    el("h2", {}, "Your limits"), limitsTable(settings.limits), el("h2", {}, "Health"), health,
    el("h2", {}, "Audit log"), audit);
  renderAudit(audit);
  await renderHealth(health);
  const timer = setInterval(() => renderHealth(health), 5000);
  return () => clearInterval(timer);
}

function limitsTable(l) {
  const of = (now, most, unit = "") => (most == null ? `${now}${unit} (no limit)` : `${now}${unit} of ${most}${unit}`);
  const hours = (l.audio_seconds_today / 3600).toFixed(2);
  return el("table", { id: "limits" }, el("tbody", {},
    [["Sessions live at once", of(l.live_sessions_now, l.live_sessions)],
     ["Audio today (UTC)", of(hours, l.audio_hours_per_day, " h")],
     ["Bots at once", l.bots ?? "no limit"],
     ["Requests a second, each key", l.key_requests_per_s ?? "no limit"],
     ["Requests a second, all keys", l.requests_per_s ?? "no limit"],
     ["Largest upload", `${(l.upload_bytes / 2 ** 20).toFixed(1)} MiB`]]
      .map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, String(v))))));
}

async function renderAudit(node, before = null, rows = []) {
  let page;
  try {
    page = await api(`/v1/audit?limit=50${before ? `&before=${before}` : ""}`);
  } catch (err) {
    node.replaceChildren(el("p", {}, err.status === 403 ? "Only an admin key sees the audit log." : err.message));
    return;
  }
  rows = rows.concat(page.items);
  if (!rows.length) {
    node.replaceChildren(el("p", {}, "Nothing recorded yet."));
    return;
  }
  const who = (e) => (e.via === "cli" ? "command line" : e.key_id ? `key ${e.key_id.slice(0, 8)}` : "open server");
  const detail = (d) => Object.entries(d).filter(([, v]) => v != null).map(([k, v]) => `${k}: ${Array.isArray(v) || typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
  const table = el("table", { id: "audit-log" },
    el("thead", {}, el("tr", {}, ["When", "Who", "What", "To", "Detail"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((e) => el("tr", {},
      el("td", {}, new Date(e.at).toLocaleString()), el("td", {}, who(e)), el("td", {}, e.action),
      el("td", {}, e.target ? e.target.slice(0, 12) : ""), el("td", {}, detail(e.detail))))));
  node.replaceChildren(el("p", {}, `${page.total} recorded, newest first.`), table);
  if (page.next_before) {
    const more = el("button", { type: "button", id: "audit-older" }, "Older");
    more.addEventListener("click", () => renderAudit(node, page.next_before, rows));
    node.append(more);
  }
}

function parseTerms(text) {
  const terms = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const [term, rest] = line.split("=");
    if (!rest) throw new Error(`Glossary line ${i + 1}: write “term = es: translation, fr: translation”.`);
    terms[term.trim()] = {};
    for (const part of rest.split(",")) {
      const [lang, value] = part.split(":");
      if (!value) throw new Error(`Glossary line ${i + 1}: “${part.trim()}” needs a language and a translation, like “es: hola”.`);
      terms[term.trim()][lang.trim()] = value.trim();
    }
  }
  return terms;
}

async function renderHealth(node) {
  let ready, text;
  try {
    const r = await fetch("/health/ready");
    ready = await r.json();
    text = await (await fetch("/metrics")).text();
  } catch {
    node.replaceChildren(el("p", { class: "error", role: "alert" }, "The LiveTranslate server cannot be reached."));
    return;
  }
  const m = parseMetrics(text);
  const mean = (name) => (m[`${name}_count`] ? (m[`${name}_sum`] / m[`${name}_count`]).toFixed(2) + " s" : "–");
  node.replaceChildren(
    el("p", { id: "ready", class: ready.status === "ready" ? "" : "error" }, ready.status === "ready" ? "Ready" : `Not ready: ${(ready.reasons || []).join("; ")}`),
    el("table", {}, el("tbody", {},
      [...Object.entries(ready.checks).map(([k, v]) => [k, v]),
       ["Live sessions", m.livetranslate_active_sessions ?? 0],
       ["Audio received", `${Math.round(m.livetranslate_audio_seconds_received_total ?? 0)} s`],
       ["Finals", m['livetranslate_segments_total{status="final"}'] ?? 0],
       ["Mean final latency", mean("livetranslate_final_latency_seconds")],
       ["Decodes waiting", m.livetranslate_asr_queue_depth ?? 0]]
        .map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, String(v)))))));
}

function parseMetrics(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    const key = line.slice(0, i);
    out[key] = (out[key] || 0) + Number(line.slice(i + 1));
    const bare = key.split("{")[0];
    if (bare !== key && !bare.endsWith("_bucket")) out[bare] = (out[bare] || 0) + Number(line.slice(i + 1));
  }
  return out;
}
