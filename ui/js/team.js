// The team view: the team's tasks pushed live (with a notification where allowed), and the field moves.

import {adoptUrlToken, api, getToken, logout, toLogin} from "./auth.js";
import {Connection} from "./connection.js";
import {askComment} from "./dialog.js";
import {$, fill, h} from "./dom.js";
import {loadZones} from "./map.js";
import {Store} from "./state.js";
import {byUrgency, CLOSED, dueText, isOverdue, STATE_WORD, visibleTasks} from "./tasks.js";

// The moves a field team makes (hypervision/tasks.py TEAM_EVENTS), by the state they start from.
const MOVES = {
  open: [["accept", "Accept", true]],
  accepted: [["start", "Start", true], ["complete", "Done", false]],
  in_progress: [["complete", "Done", true]],
};
const STATUS_TEXT = {connecting: "connecting…", live: "live", reconnecting: "reconnecting…", stale: "stale"};

adoptUrlToken();
const token = getToken();
const store = new Store();
const fresh = new Set(); // tasks that arrived while the page was open

async function main() {
  if (!token) return toLogin();
  let me;
  try {
    me = await api("/api/auth/me");
  } catch (err) {
    return toLogin(err.message || `refused (${err.status})`);
  }
  const topics = me.role === "team" ? me.teams.map((t) => `tasks:${t}`) : ["tasks"];
  $("#team-name").textContent = me.role === "team" ? me.teams.join(", ") : "All teams";
  const connection = new Connection({
    token,
    topics,
    onFrame: (frame) => store.apply(frame),
    onStatus: (status) => {
      $("#connection").dataset.status = status;
      $("#connection").textContent = STATUS_TEXT[status];
    },
    onRefused: (code, reason) => toLogin(reason || `refused (${code})`),
  });
  store.subscribe((change) => {
    if (change.kind === "task") onTask(change);
    render();
  });
  setupNotifications();
  await loadZones(store); // first, so a notification already names the zone
  $("#signout").addEventListener("click", () => logout().finally(() => toLogin()));
  setInterval(render, 15_000); // due times and overdue marks move with the clock
  connection.start();
  window.hv = {store, connection};
}

function onTask({task, before}) {
  if (before || CLOSED.has(task.state)) return;
  fresh.add(String(task.id));
  const text = `New task: ${task.title}`;
  const banner = $("#banner");
  banner.textContent = text;
  banner.hidden = false;
  setTimeout(() => (banner.hidden = true), 8000);
  navigator.vibrate?.([200, 100, 200]);
  if ("Notification" in window && Notification.permission === "granted") {
    // Only the title and place: the phone's lock screen is not the place for details.
    const where = [store.zoneName(task.zone), task.location].filter(Boolean).join(" · ");
    new Notification(text, {body: where, tag: `task-${task.id}`});
  }
}

function setupNotifications() {
  const button = $("#notify");
  if (!("Notification" in window) || Notification.permission !== "default") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission === "default";
  });
}

async function move(task, event, label) {
  try {
    await api(`/api/tasks/${task.id}/transition`, {method: "POST", body: {event}});
  } catch (err) {
    flash(`${label} refused: ${err.detail ?? err.message}`);
  }
}

function flash(text) {
  const banner = $("#banner");
  banner.textContent = text;
  banner.hidden = false;
  setTimeout(() => (banner.hidden = true), 6000);
}

function render(now = Date.now()) {
  const tasks = visibleTasks(store.tasks.values(), now).sort(byUrgency(now));
  if (!tasks.length) {
    fill($("#tasks"), h("li", {class: "empty"}, "No task for your team right now."));
    return;
  }
  fill($("#tasks"), tasks.map((task) => {
    const id = String(task.id);
    return h("li", {
      class: `card state-${task.state}${isOverdue(task, now) ? " overdue" : ""}${fresh.has(id) ? " fresh" : ""}`,
      dataset: {task: id, state: task.state},
    },
    h("div", {class: "card-top"},
      h("h2", {}, task.title),
      h("span", {class: `badge sev-${task.priority}`}, task.priority)),
    h("div", {class: "meta"},
      h("span", {class: "state"}, STATE_WORD[task.state] ?? task.state),
      h("span", {class: "due"}, CLOSED.has(task.state) ? "" : dueText(task, now)),
      task.zone ? h("span", {}, store.zoneName(task.zone)) : null,
      task.location ? h("span", {}, task.location) : null,
      task.assignee ? h("span", {}, `by ${task.assignee}`) : null),
    task.details ? h("p", {class: "details"}, task.details) : null,
    CLOSED.has(task.state) ? null : h("div", {class: "actions"},
      (MOVES[task.state] ?? []).map(([event, label, primary]) =>
        h("button", {class: `move-${event}${primary ? " primary" : ""}`, onclick: () => move(task, event, label)}, label)),
      h("button", {class: "comment", onclick: () => askComment(`Comment: ${task.title}`,
        (text) => api(`/api/tasks/${task.id}/comments`, {method: "POST", body: {text}}),
        {confirmLabel: "Send", required: true})}, "Comment")));
  }));
}

main();
