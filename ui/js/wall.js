// The wall screen: wires the connection, the store and the panels, and ticks the clocks once a second.

import {AlertsPanel} from "./alerts.js";
import {adoptUrlToken, api, getToken, logout, toLogin} from "./auth.js";
import {Connection} from "./connection.js";
import {$, fill, h} from "./dom.js";
import {duration} from "./format.js";
import {HistoryLoader} from "./history.js";
import {renderLogbook} from "./logbook.js";
import {TerritoryMap} from "./map.js";
import {setSound, soundOn} from "./sound.js";
import {Store} from "./state.js";
import {SEVERITIES} from "./status.js";
import {renderBoard} from "./tasks.js";
import {renderTiles} from "./tiles.js";

const TOPICS = ["picture", "alerts", "tasks", "logbook", "sources"];
const STATUS_TEXT = {connecting: "connecting…", live: "live", reconnecting: "reconnecting…", stale: "stale"};

adoptUrlToken();
const token = getToken();
if (!token) toLogin();

const store = new Store();
const history = new HistoryLoader(store);
const alerts = new AlertsPanel($("#alerts"), store, {onFlash: flashScreen});
const map = new TerritoryMap($("#map"), $("#map-details"), store);
const connection = new Connection({
  token,
  topics: TOPICS,
  onFrame: (frame) => {
    // A field-team account may not follow the whole room: its place is the team view.
    if (frame.type === "hello" && frame.role === "team") location.replace("/team");
    else store.apply(frame);
  },
  onStatus: () => renderConnection(),
  onRefused: (code, reason) => toLogin(reason || `refused (${code})`),
});

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function render(now = Date.now()) {
  renderTiles($("#tiles"), store, {now, wantHistory: (key) => history.want(key, schedule)});
  renderOverview(now);
  alerts.render(now);
  map.render(now);
  renderBoard($("#tasks"), store, now);
  renderLogbook($("#logbook"), store);
  renderConnection(now);
  renderUser();
}

function renderOverview(now) {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  for (const a of store.activeAlerts()) counts[a.severity] += 1;
  const tasks = [...store.tasks.values()].filter((t) => !["done", "cancelled"].includes(t.state));
  const overdue = tasks.filter((t) => t.due_at && Date.parse(t.due_at) < now).length;
  const feeds = [...store.sources.values()];
  const failing = feeds.filter((s) => s.stale || s.ok === false).length;
  fill($("#overview"),
    h("header", {}, h("h2", {}, "Overview")),
    h("dl", {},
      ["emergency", "critical", "warning"].map((s) => [h("dt", {class: `sev-${s}`}, s), h("dd", {dataset: {count: s}}, counts[s])]),
      h("dt", {}, "tasks open"), h("dd", {dataset: {count: "tasks"}}, tasks.length),
      h("dt", {}, "overdue"), h("dd", {class: overdue ? "bad" : ""}, overdue),
      feeds.length ? [h("dt", {}, "feeds failing"), h("dd", {class: failing ? "bad" : ""}, `${failing} / ${feeds.length}`)] : null));
}

function renderConnection(now = Date.now()) {
  const el = $("#connection");
  el.dataset.status = connection.status;
  const last = connection.lastEventAt ? `last event ${duration((now - connection.lastEventAt) / 1000)} ago` : "";
  fill(el, h("span", {class: "dot"}), h("b", {}, STATUS_TEXT[connection.status]), h("small", {}, ` ${last}`));
}

function renderUser() {
  const el = $("#user");
  if (!store.role || el.dataset.role === store.role) return;
  el.dataset.role = store.role;
  fill(el, `${store.name} · ${store.role}`,
    store.role === "screen" ? null : h("button", {class: "logout", onclick: () => logout().finally(() => toLogin())}, "Sign out"));
}

function flashScreen() {
  document.body.classList.remove("alarm");
  void document.body.offsetWidth; // restart the animation when a second alert comes in
  document.body.classList.add("alarm");
  setTimeout(() => document.body.classList.remove("alarm"), 10_000);
}

function renderSoundToggle() {
  const button = $("#sound");
  button.setAttribute("aria-pressed", String(soundOn()));
  button.textContent = soundOn() ? "♪ sound on" : "sound off";
}

$("#sound").addEventListener("click", () => {
  setSound(!soundOn());
  renderSoundToggle();
});

function tickClock() {
  $("#clock").textContent = new Date().toLocaleTimeString("fr-FR", {timeZone: "Europe/Paris"});
}

if (token) {
  store.subscribe(schedule);
  renderSoundToggle();
  tickClock();
  setInterval(() => {
    tickClock();
    render();
  }, 1000);
  // Zones first, so the first alerts already carry zone names (a missing file is not fatal).
  map.load().then(() => connection.start());
  // Expose for diagnostics (and the browser tests): read-only use only.
  window.hv = {store, connection, api};
}
