/* Boutik simulator page: plain JavaScript, no framework, no network beyond this server.
 *
 * Each phone polls /simulator/api/messages and redraws only when its version changes; what a
 * person does goes to /simulator/api/send, which posts the provider's signed payload to the
 * real webhook. The page keeps which phones are on screen in localStorage.
 */
"use strict";

const API = "/simulator/api";
const STORE_KEY = "boutik-simulator-phones-v1";
const KIND_LABEL = { wa: "WhatsApp", tg: "Telegram", sms: "SMS" };
const ROLE_LABEL = { buyer: "buyer", seller: "seller", courier: "courier", admin: "admin" };
const PROVIDER_LABEL = { twilio: "Twilio", meta: "Meta" };

const state = {
  config: null,
  phones: [], // [{phone, name, role, number}]
  views: new Map(), // phone id -> {el, version, busy, messages}
  selected: null,
  provider: "twilio", // who carries WhatsApp: the running deployment's [whatsapp] provider
};

// ------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function kindOf(phoneId) { return phoneId.split(":")[0]; }
function addressOf(phoneId) { return phoneId.slice(phoneId.indexOf(":") + 1); }

function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toISOString().slice(11, 16);
}

function formatNow(iso) {
  const d = new Date(iso);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  return `${days[d.getUTCDay()]} ${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

/* WhatsApp formatting: *bold* and _italic_, built as nodes (never innerHTML). */
function waText(text) {
  const out = [];
  const pattern = /\*([^*\n]+)\*|_([^_\n]+)_/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.push(text.slice(last, match.index));
    out.push(match[1] !== undefined ? el("b", {}, match[1]) : el("i", {}, match[2]));
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// GSM-7 segment counting, the same rules as channels_adapters/sms_text.py.
const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
const GSM7_EXT = new Set("\f^{}\\[~]|€");

function smsSegments(text) {
  const chars = Array.from(text);
  const gsm = chars.every((c) => GSM7_BASIC.has(c) || GSM7_EXT.has(c));
  const units = gsm
    ? chars.map((c) => (GSM7_EXT.has(c) ? 2 : 1))
    : chars.map((c) => (c.codePointAt(0) > 0xffff ? 2 : 1));
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  const total = units.reduce((a, b) => a + b, 0);
  if (total <= single) return { encoding: gsm ? "GSM-7" : "UCS-2", segments: 1, units: total, limit: single };
  let parts = 1, used = 0;
  for (const u of units) { if (used + u > multi) { parts += 1; used = 0; } used += u; }
  return { encoding: gsm ? "GSM-7" : "UCS-2", segments: parts, units: total, limit: multi * parts };
}

function channelTag(kind) {
  return kind === "wa" ? `WhatsApp · ${PROVIDER_LABEL[state.provider] || state.provider}` : KIND_LABEL[kind];
}

// ------------------------------------------------------------------ WhatsApp provider

function drawProvider() {
  for (const button of document.querySelectorAll("#wa-provider button")) {
    const active = button.dataset.provider === state.provider;
    button.classList.toggle("active", active);
    button.setAttribute("aria-pressed", String(active));
  }
  for (const [id, view] of state.views) {
    if (kindOf(id) === "wa") {
      const tag = view.el.querySelector(".channel-tag");
      tag.textContent = channelTag("wa");
      tag.dataset.provider = state.provider;
    }
  }
}

function setProvider(provider) {
  if (!provider || provider === state.provider) return;
  state.provider = provider;
  drawProvider();
  refreshPanel();
}

async function switchProvider(provider) {
  try {
    const data = await api("/whatsapp-provider", { provider });
    setProvider(data.provider);
  } catch (error) {
    alert(`Not switched: ${error.message}`);
  }
}

// ------------------------------------------------------------------ phones on screen

function savePhones() {
  localStorage.setItem(STORE_KEY, JSON.stringify(state.phones));
}

function loadPhones() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (Array.isArray(saved) && saved.length && saved.every((p) => p && p.phone)) return saved;
  } catch (e) { /* a broken entry: start again from the defaults */ }
  return state.config.phones.slice();
}

function addPhone(persona) {
  if (!state.phones.some((p) => p.phone === persona.phone)) {
    state.phones.push(persona);
    savePhones();
    drawPhones();
  }
  select(persona.phone);
  const view = state.views.get(persona.phone);
  if (view) view.el.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "nearest" });
}

function removePhone(phoneId) {
  state.phones = state.phones.filter((p) => p.phone !== phoneId);
  savePhones();
  drawPhones();
}

function drawPhones() {
  const host = document.getElementById("phones");
  const wanted = new Set(state.phones.map((p) => p.phone));
  for (const [id, view] of state.views) {
    if (!wanted.has(id)) { view.el.remove(); state.views.delete(id); }
  }
  for (const persona of state.phones) {
    if (!state.views.has(persona.phone)) {
      const view = buildPhone(persona);
      state.views.set(persona.phone, view);
      host.append(view.el);
      poll(persona.phone);
    }
  }
  // Only a phone out of place moves: a node taken out of the page and put back loses the
  // scroll position of its chat.
  let previous = null;
  for (const persona of state.phones) {
    const node = state.views.get(persona.phone).el;
    const wanted = previous ? previous.nextElementSibling : host.firstElementChild;
    if (node !== wanted) host.insertBefore(node, wanted);
    previous = node;
  }
  if (!state.selected || !wanted.has(state.selected)) select(state.phones[0] && state.phones[0].phone);
}

function buildPhone(persona) {
  const kind = kindOf(persona.phone);
  const node = document.getElementById("phone-template").content.firstElementChild.cloneNode(true);
  node.classList.add(kind);
  node.dataset.phone = persona.phone;
  node.dataset.role = persona.role;
  node.querySelector(".name").textContent = persona.name || addressOf(persona.phone);
  const sub = kind === "tg"
    ? `${ROLE_LABEL[persona.role] || ""} · Telegram id ${addressOf(persona.phone)}`
    : `${ROLE_LABEL[persona.role] || ""} · ${addressOf(persona.phone)}`;
  node.querySelector(".sub").textContent = sub;
  node.querySelector(".avatar").textContent = (persona.name || "?").trim().charAt(0).toUpperCase();
  node.querySelector(".channel-tag").textContent = channelTag(kind);
  node.querySelector(".phone-head").addEventListener("click", (event) => {
    if (!event.target.classList.contains("close")) select(persona.phone);
  });
  node.querySelector(".close").addEventListener("click", () => removePhone(persona.phone));
  const input = node.querySelector(".input");
  input.placeholder = kind === "sms" ? "Text message" : "Message";
  const counter = node.querySelector(".counter");
  if (kind === "sms") {
    counter.hidden = false;
    const update = () => {
      const s = smsSegments(input.value);
      counter.textContent = `${s.units}/${s.limit} · ${s.segments} SMS${s.encoding === "UCS-2" ? " · UCS-2" : ""}`;
      counter.classList.toggle("multi", s.segments > 1);
    };
    input.addEventListener("input", update);
    update();
  }
  node.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    input.dispatchEvent(new Event("input"));
    send(persona, { text });
  });
  node.querySelector(".attach").addEventListener("click", () => toggleAttach(persona, node));
  // follow: the chat shows its end and keeps showing it as messages and images arrive, until
  // the person scrolls up to read; images: the <img> of each picture, kept across redraws so
  // a redraw neither reloads them nor changes the height of the chat under the reader.
  const view = { el: node, version: "", busy: false, messages: [], follow: true, images: new Map(), shownEndAt: 0 };
  const screen = node.querySelector(".screen");
  screen.addEventListener("scroll", () => {
    // The page's own scroll to the end says nothing of the reader (a picture may have made the
    // chat taller since): only a scroll to somewhere else does.
    if (screen.scrollTop !== view.shownEndAt) view.follow = atEnd(screen);
  });
  return view;
}

function atEnd(screen) {
  return screen.scrollHeight - screen.scrollTop - screen.clientHeight < 40;
}

function showEnd(view) {
  const screen = view.el.querySelector(".screen");
  screen.scrollTop = screen.scrollHeight;
  view.shownEndAt = screen.scrollTop;
  view.follow = true;
}

/* The picture's <img>, the same node from one redraw to the next (key: its source and how
 * many times it appeared before in this draw); once it has loaded, a chat that follows its end
 * scrolls again, since the picture made it taller. */
function picture(view, draw, src, alt) {
  const n = (draw.count.get(src) || 0) + 1;
  draw.count.set(src, n);
  const key = `${n}|${src}`;
  let img = view.images.get(key);
  if (!img) {
    img = el("img", { src, alt });
    img.addEventListener("load", () => { if (view.follow) showEnd(view); });
    view.images.set(key, img);
  }
  draw.used.add(key);
  return img;
}

function toggleAttach(persona, node) {
  const menu = node.querySelector(".attach-menu");
  if (!menu.hidden) { menu.hidden = true; return; }
  menu.replaceChildren();
  const kind = kindOf(persona.phone);
  if (kind === "sms") {
    menu.append(el("span", { class: "none" }, "An SMS carries text only: no location, photo or contact."));
  } else {
    menu.append(el("button", { type: "button", onclick: () => { menu.hidden = true; pickLocation(persona); } }, "📍 Location"));
    menu.append(el("button", { type: "button", onclick: () => { menu.hidden = true; pickPhoto(persona); } }, "📷 Photo"));
    if (kind === "tg") {
      menu.append(el("button", { type: "button", onclick: () => { menu.hidden = true; send(persona, { contact: {} }); } }, "👤 My phone number"));
    }
  }
  menu.hidden = false;
}

async function send(persona, action) {
  try {
    await api("/send", { phone: persona.phone, name: persona.name, ...action });
  } catch (error) {
    alert(`Not sent: ${error.message}`);
  }
  poll(persona.phone, true);
  refreshPanel();
}

// ------------------------------------------------------------------ drawing a timeline

function ticks(status) {
  if (status === "read") return el("span", { class: "ticks read", title: "read" }, "✓✓");
  if (status === "delivered") return el("span", { class: "ticks", title: "delivered" }, "✓✓");
  if (status === "sent") return el("span", { class: "ticks", title: "sent" }, "✓");
  if (status === "failed" || status === "undelivered") return el("span", { class: "ticks failed", title: status }, "⚠");
  return el("span", { class: "ticks", title: status || "queued" }, "🕓");
}

function inboundBubble(m, kind, pictures) {
  const body = [];
  if (m.kind === "location") {
    body.push(el("span", { class: "tag" }, "📍 Location"), `${m.label || "Pin"}\n${m.lat.toFixed(5)}, ${m.lng.toFixed(5)}`);
  } else if (m.kind === "photo") {
    body.push(pictures(m.photo, "photo"));
    if (m.text) body.push(m.text);
  } else if (m.kind === "contact") {
    body.push(el("span", { class: "tag" }, "👤 Contact shared"), m.text);
  } else if (m.kind === "button") {
    body.push(el("span", { class: "tag" }, kind === "tg" ? "⌨ button" : "↩ reply"), m.text);
  } else {
    body.push(m.text);
  }
  if (m.webhook && m.webhook >= 300) {
    body.push(el("span", { class: "webhook-error" }, `⚠ the webhook answered ${m.webhook}`));
  }
  const meta = el("span", { class: "meta" }, hhmm(m.at));
  if (kind === "sms" && m.segments > 1) meta.prepend(`${m.segments} SMS · `);
  if (m.webhook === null) meta.append(" 🕓");
  else if (m.webhook < 300 && kind === "wa") meta.append(el("span", { class: "ticks read" }, " ✓✓"));
  return el("div", { class: "bubble in" }, ...body, meta);
}

function outboundBubble(m, kind, persona, pictures) {
  const parts = [];
  const nodes = [];
  if (m.channel === "sms" && kind === "wa") parts.push(el("span", { class: "tag" }, "✉ SMS (fallback)"));
  if (m.channel === "whatsapp" && kind === "sms") parts.push(el("span", { class: "tag" }, "WhatsApp"));
  for (const url of m.media || []) parts.push(pictures(url, "image"));
  if (m.photo) parts.push(pictures(m.photo, "photo"));
  if (m.document) parts.push(el("span", { class: "tag" }, `📄 ${m.document}`));
  if (m.template) parts.push(el("span", { class: "tag", title: m.template }, "template"));
  if (m.text) parts.push(...(m.channel === "whatsapp" ? waText(m.text) : [m.text]));
  const meta = el("span", { class: "meta" }, hhmm(m.at));
  if (m.channel === "whatsapp") meta.append(ticks(m.status));
  if (m.channel === "sms") {
    const multi = m.segments > 1;
    parts.push(el("span", { class: "sms-meta" + (multi ? " multi" : "") },
      `${m.chars} chars · ${m.segments} segment${multi ? "s" : ""} · ${m.encoding}`));
    meta.append(` · ${m.status}`);
  }
  nodes.push(el("div", { class: "bubble out" + (m.channel === "sms" && kind !== "sms" ? " via-sms" : "") }, ...parts, meta));
  if (m.rejected) nodes.push(el("div", { class: "refused" }, m.rejected));
  if (m.buttons && m.buttons.length && !m.rejected) {
    nodes.push(el("div", { class: "wa-buttons" }, m.buttons.map((b) =>
      el("button", { type: "button", dataset: { id: b.id }, onclick: () => send(persona, { button: { id: b.id, title: b.title, message_id: m.sid } }) }, b.title))));
  }
  if (m.location_request) {
    nodes.push(el("div", { class: "wa-buttons" }, el("button", {
      type: "button", class: "wa-location-request", onclick: () => pickLocation(persona),
    }, "📍 Send location")));
  }
  if (m.list && !m.rejected) {
    nodes.push(el("div", { class: "wa-buttons" }, el("button", {
      type: "button", class: "wa-list-open", dataset: { rows: m.list.rows.map((r) => r.id).join(" ") },
      onclick: () => openList(persona, m.list, m.sid),
    }, `☰ ${m.list.button || "Options"}`)));
  }
  if (m.inline_keyboard) {
    nodes.push(el("div", { class: "tg-keyboard" }, m.inline_keyboard.map((row) =>
      el("div", { class: "row" }, row.map((b) => el("button", {
        type: "button",
        dataset: { id: b.callback_data || "" },
        onclick: () => b.url
          ? window.open(b.url, "_blank", "noopener")
          : send(persona, { callback: { data: b.callback_data, message_id: m.message_id, text: b.text } }),
      }, b.text))))));
  }
  return nodes;
}

function drawTimeline(phoneId, data) {
  const view = state.views.get(phoneId);
  if (!view) return;
  const persona = state.phones.find((p) => p.phone === phoneId);
  const kind = kindOf(phoneId);
  const screen = view.el.querySelector(".screen");
  const readingAt = screen.scrollTop;
  const draw = { count: new Map(), used: new Set() };
  const pictures = (src, alt) => picture(view, draw, src, alt);
  const nodes = [];
  for (const m of data.messages) {
    if (m.dir === "in") nodes.push(inboundBubble(m, kind, pictures));
    else if (m.dir === "error") nodes.push(el("div", { class: "refused", dataset: { code: m.code } }, m.text));
    else nodes.push(...outboundBubble(m, kind, persona, pictures));
  }
  screen.replaceChildren(...nodes);
  for (const key of [...view.images.keys()]) if (!draw.used.has(key)) view.images.delete(key);
  if (view.follow || view.messages.length !== data.messages.length) showEnd(view);
  else screen.scrollTop = readingAt;
  view.messages = data.messages;
  drawReplyKeyboard(view, persona, data);
}

function drawReplyKeyboard(view, persona, data) {
  const box = view.el.querySelector(".reply-keyboard");
  const last = data.messages[data.messages.length - 1];
  const keyboard = data.reply_keyboard;
  if (!keyboard || (last && last.dir === "in")) { box.hidden = true; return; }
  box.replaceChildren(...keyboard.map((row) => el("div", { class: "row" }, row.map((b) => {
    const label = typeof b === "string" ? b : b.text;
    const action = () => {
      if (b.request_contact) send(persona, { contact: {} });
      else if (b.request_location) pickLocation(persona);
      else send(persona, { text: label });
    };
    return el("button", { type: "button", onclick: action },
      (b.request_contact ? "👤 " : b.request_location ? "📍 " : "") + label);
  }))));
  box.hidden = false;
}

async function poll(phoneId, now = false) {
  const view = state.views.get(phoneId);
  if (!view || (view.busy && !now)) return;
  view.busy = true;
  try {
    const seen = document.visibilityState === "visible" ? "&seen=1" : "";
    const data = await api(`/messages?phone=${encodeURIComponent(phoneId)}&after=${view.version}${seen}`);
    if (data.changed) { drawTimeline(phoneId, data); view.version = data.version; }
  } catch (error) {
    /* the server restarted or is busy: the next round tries again */
  } finally {
    view.busy = false;
  }
}

// ------------------------------------------------------------------ pickers

function openModal(title, ...content) {
  document.getElementById("modal-title").textContent = title;
  document.getElementById("modal-body").replaceChildren(...content);
  document.getElementById("modal").hidden = false;
}
function closeModal() { document.getElementById("modal").hidden = true; }

/* A WhatsApp list opens as WhatsApp opens it: a sheet over the bottom of that phone's screen
 * (a tap outside it, or ×, closes it), not a dialog over the whole page. */
function openList(persona, list, messageId) {
  const view = state.views.get(persona.phone);
  if (!view) return;
  for (const open of view.el.querySelectorAll(".list-sheet")) open.remove();
  const title = list.button || "Options";
  const sheet = el("div", { class: "list-sheet", role: "dialog", "aria-label": title },
    el("div", { class: "list-sheet-box" },
      el("header", {},
        el("button", { type: "button", class: "list-close", title: "Close", onclick: () => sheet.remove() }, "×"),
        el("strong", {}, title)),
      el("div", { class: "list-rows" }, list.rows.map((row) => el("button", {
        type: "button",
        dataset: { id: row.id },
        onclick: () => { sheet.remove(); send(persona, { button: { id: row.id, title: row.title, list: true, message_id: messageId } }); },
      }, row.title, row.description ? el("small", {}, row.description) : null)))));
  sheet.addEventListener("click", (event) => { if (event.target === sheet) sheet.remove(); });
  view.el.append(sheet);
}

function pickPhoto(persona) {
  openModal("Send a photo", el("div", { class: "samples" }, state.config.samples.map((name) =>
    el("button", { type: "button", title: name, onclick: () => { closeModal(); send(persona, { photo: name }); } },
      el("img", { src: `/simulator/static/samples/${name}.jpg`, alt: name })))));
}

function nearest(lat, lng) {
  let best = null, bestD = Infinity;
  for (const q of state.config.quartiers) {
    const d = (q.lat - lat) ** 2 + (q.lng - lng) ** 2;
    if (d < bestD) { best = q; bestD = d; }
  }
  return best;
}

function hull(points) {
  const pts = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [], upper = [];
  for (const p of pts) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop(); lower.push(p); }
  for (const p of pts.reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop(); upper.push(p); }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

function pickLocation(persona) {
  const qs = state.config.quartiers;
  const svgNS = "http://www.w3.org/2000/svg";
  const W = 520, H = 360, pad = 30;
  const lats = qs.map((q) => q.lat), lngs = qs.map((q) => q.lng);
  const minLat = Math.min(...lats), maxLat = Math.max(...lats);
  const minLng = Math.min(...lngs), maxLng = Math.max(...lngs);
  const scale = Math.min((W - 2 * pad) / (maxLng - minLng), (H - 2 * pad) / (maxLat - minLat));
  const x = (lng) => pad + (lng - minLng) * scale;
  const y = (lat) => H - pad - (lat - minLat) * scale;
  const toLatLng = (px, py) => ({ lat: minLat + (H - pad - py) / scale, lng: minLng + (px - pad) / scale });
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "map");
  const mk = (tag, attrs, text) => {
    const n = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    svg.append(n);
    return n;
  };
  const outline = hull(qs.map((q) => [x(q.lng), y(q.lat)]));
  mk("polygon", { class: "land", points: outline.map((p) => p.join(",")).join(" ") });
  const colours = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#b91c1c"];
  const communes = [...new Set(qs.map((q) => q.commune))];
  const choose = (lat, lng, label) => {
    closeModal();
    send(persona, { location: { lat, lng, label } });
  };
  svg.addEventListener("click", (event) => {
    if (event.target.tagName === "circle") return;
    const box = svg.getBoundingClientRect();
    const px = (event.clientX - box.left) * (W / box.width);
    const py = (event.clientY - box.top) * (H / box.height);
    const p = toLatLng(px, py);
    const q = nearest(p.lat, p.lng);
    choose(p.lat, p.lng, q ? `près de ${q.name}, ${q.commune}` : "");
  });
  for (const q of qs) {
    const c = mk("circle", { cx: x(q.lng), cy: y(q.lat), r: 4.5, fill: colours[communes.indexOf(q.commune) % colours.length] });
    c.addEventListener("click", (event) => { event.stopPropagation(); choose(q.lat, q.lng, `${q.name}, ${q.commune}`); });
    const t = document.createElementNS(svgNS, "title");
    t.textContent = `${q.name} (${q.commune})`;
    c.append(t);
    mk("text", { x: x(q.lng) + 6, y: y(q.lat) + 3 }, q.name);
  }
  const list = el("div", { class: "quartier-list" });
  for (const commune of communes) {
    list.append(el("h4", {}, commune));
    for (const q of qs.filter((q) => q.commune === commune)) {
      list.append(el("button", { type: "button", onclick: () => choose(q.lat, q.lng, `${q.name}, ${q.commune}`) }, q.name));
    }
  }
  openModal("Share a location — Conakry", svg,
    el("p", { class: "muted small" }, "Click a quartier, or anywhere on the map to drop a pin."), list);
}

// ------------------------------------------------------------------ clock and panel

async function refreshClock() {
  try {
    const data = await api("/clock");
    document.getElementById("clock-now").textContent = formatNow(data.now);
    setProvider((await api("/whatsapp-provider")).provider); // another tab may have switched
  } catch (e) { /* next round */ }
}

function jumpLabel(h) {
  if (h % 24 === 0) { const d = h / 24; return d === 7 ? "+7 days" : d === 1 ? "+24 h" : `+${d} days`; }
  return `+${h} h`;
}

function drawClock() {
  const box = document.getElementById("clock-jumps");
  box.replaceChildren(...state.config.clock_jumps_h.map((h) => el("button", {
    type: "button",
    onclick: async () => {
      const result = await api("/clock", { hours: h });
      document.getElementById("clock-now").textContent = formatNow(result.now);
      const ran = Object.entries(result.ran).map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`).join(", ");
      document.getElementById("clock-result").textContent = ran;
      for (const p of state.phones) poll(p.phone, true);
      refreshPanel();
    },
  }, jumpLabel(h))));
}

function select(phoneId) {
  state.selected = phoneId || null;
  for (const [id, view] of state.views) view.el.classList.toggle("selected", id === phoneId);
  refreshPanel();
}

function kv(pairs) {
  return el("div", { class: "kv" }, pairs.flatMap(([k, v]) => [el("span", {}, k), el("span", {}, v ?? "—")]));
}

async function refreshPanel() {
  const phoneId = state.selected;
  const body = document.getElementById("panel-body");
  document.getElementById("panel-phone").textContent = phoneId || "";
  if (!phoneId) { body.replaceChildren(); return; }
  let data;
  try { data = await api(`/state?phone=${encodeURIComponent(phoneId)}`); } catch (e) { return; }
  if (state.selected !== phoneId) return;
  const nodes = [];
  const provider = data.whatsapp_provider || state.provider;
  nodes.push(el("p", { class: "small provider-line" }, "WhatsApp goes through ",
    el("strong", { class: "provider-name", dataset: { provider } }, PROVIDER_LABEL[provider] || provider),
    provider === "meta" ? " (Cloud API, emulator at /emu/meta)" : " (emulator at /emu/twilio)"));
  nodes.push(el("h3", {}, "User"));
  nodes.push(data.user ? kv([
    ["id", data.user.id], ["name", data.user.name], ["roles", data.user.roles.join(", ") || "—"],
    ["phone", data.user.phone], ["telegram id", data.user.telegram_id], ["language", data.user.language],
    ["opted out", data.user.opted_out ? "yes (STOP)" : "no"], ["loyalty points", data.user.loyalty_points],
  ]) : el("p", { class: "muted small" }, "Not known yet: the bot creates the user at the first message."));
  if (data.window) {
    nodes.push(el("h3", {}, "WhatsApp 24 h window"));
    nodes.push(kv([["state", data.window.open ? "open" : "closed (templates or SMS only)"], ["last inbound", data.window.last_inbound_at]]));
  }
  nodes.push(el("h3", {}, "Conversations"));
  if (!data.conversations.length) nodes.push(el("p", { class: "muted small" }, "No conversation state yet."));
  for (const c of data.conversations) {
    nodes.push(kv([
      ["channel", `${c.channel}${c.this_phone ? " (this phone)" : ""}`], ["flow", c.flow], ["state", c.state],
      ["human mode", c.human_mode ? "yes" : "no"], ["updated", c.updated_at],
    ]));
    nodes.push(el("pre", {}, JSON.stringify(c.data, null, 1)));
  }
  nodes.push(el("h3", {}, "Last outbox rows"));
  if (!data.outbox.length) nodes.push(el("p", { class: "muted small" }, "Nothing sent to this person yet."));
  else {
    nodes.push(el("table", {},
      el("tr", {}, ["id", "kind", "channel", "status", "try", "error"].map((h) => el("th", {}, h))),
      data.outbox.map((r) => el("tr", { title: r.last_error || "" },
        el("td", {}, r.id), el("td", {}, r.kind + (r.essential ? " ★" : "")), el("td", {}, r.channel),
        el("td", {}, el("span", { class: `status ${r.status}` }, r.status)), el("td", {}, r.attempts),
        el("td", {}, r.error_code || "")))));
  }
  document.getElementById("panel-body").replaceChildren(...nodes);
}

function drawAddMenu() {
  const menu = document.getElementById("add-phone");
  menu.replaceChildren(el("option", { value: "" }, "+ add a phone / become…"));
  const fresh = el("optgroup", { label: "Someone new" },
    el("option", { value: "new:buyer" }, "a new buyer (WhatsApp, unknown number)"),
    el("option", { value: "new:courier" }, "a new courier (SMS, unknown number)"),
    el("option", { value: "new:seller" }, "a new seller (Telegram)"));
  menu.append(fresh);
  for (const role of ["admin", "buyer", "seller", "courier"]) {
    const people = state.config.personas.filter((p) => p.role === role);
    if (!people.length) continue;
    menu.append(el("optgroup", { label: role === "admin" ? "Become the admin" : `Demo ${role}s` },
      people.map((p) => el("option", { value: p.phone }, `${p.name} — ${KIND_LABEL[kindOf(p.phone)]} ${role === "seller" || role === "admin" ? "" : addressOf(p.phone)}`))));
  }
  menu.onchange = async () => {
    const value = menu.value;
    menu.value = "";
    if (!value) return;
    if (value.startsWith("new:")) {
      try { addPhone(await api("/phones", { role: value.slice(4), new: true })); } catch (e) { alert(e.message); }
    } else {
      addPhone(state.config.personas.find((p) => p.phone === value));
    }
  };
  document.getElementById("reset-phones").onclick = () => {
    state.phones = state.config.phones.slice();
    savePhones();
    drawPhones();
  };
}

async function main() {
  state.config = await api("/config");
  state.provider = state.config.whatsapp_provider || "twilio";
  for (const button of document.querySelectorAll("#wa-provider button")) {
    button.onclick = () => switchProvider(button.dataset.provider);
  }
  document.getElementById("modal-close").onclick = closeModal;
  document.getElementById("modal").addEventListener("click", (event) => { if (event.target.id === "modal") closeModal(); });
  state.phones = loadPhones();
  drawClock();
  drawAddMenu();
  drawPhones();
  drawProvider();
  refreshClock();
  setInterval(() => { for (const p of state.phones) poll(p.phone); }, 1000);
  setInterval(refreshClock, 5000);
  setInterval(refreshPanel, 2500);
}

main().catch((error) => {
  document.body.prepend(el("p", { class: "refused" }, `The simulator could not start: ${error.message}`));
});
