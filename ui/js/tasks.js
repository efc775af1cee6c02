// Tasks: the wall's board by team, and the helpers the team view shares (state words, overdue, moves).

import {fill, h} from "./dom.js";
import {duration, since, timeOfDay} from "./format.js";
import {rank} from "./status.js";

export const CLOSED = new Set(["done", "cancelled"]);
const SHOW_CLOSED_MS = 15 * 60_000;

export const STATE_WORD = {
  open: "new", accepted: "accepted", in_progress: "in progress", done: "done", cancelled: "cancelled",
};

export const isOverdue = (task, now = Date.now()) =>
  Boolean(task.due_at) && !CLOSED.has(task.state) && Date.parse(task.due_at) < now;

/** Open tasks first, the most urgent first: overdue, then priority, then due time, then age. */
export function byUrgency(now = Date.now()) {
  const due = (t) => (t.due_at ? Date.parse(t.due_at) : Infinity);
  return (a, b) =>
    Number(CLOSED.has(a.state)) - Number(CLOSED.has(b.state)) ||
    Number(isOverdue(b, now)) - Number(isOverdue(a, now)) ||
    rank(b.priority) - rank(a.priority) ||
    due(a) - due(b) ||
    Date.parse(a.created_at) - Date.parse(b.created_at);
}

/** Closed tasks stay visible a little while, so the room sees them done. */
export function visibleTasks(tasks, now = Date.now()) {
  return [...tasks].filter(
    (t) => !CLOSED.has(t.state) || now - Date.parse(t.closed_at ?? t.updated_at) < SHOW_CLOSED_MS,
  );
}

export function dueText(task, now = Date.now()) {
  if (!task.due_at) return "no due time";
  const left = -since(task.due_at, now);
  return left < 0 ? `overdue ${duration(-left)}` : `due ${timeOfDay(task.due_at)} (in ${duration(left)})`;
}

export function renderBoard(container, store, now = Date.now()) {
  const teams = new Map();
  for (const task of visibleTasks(store.tasks.values(), now)) {
    if (!teams.has(task.team)) teams.set(task.team, []);
    teams.get(task.team).push(task);
  }
  if (!teams.size) {
    fill(container, h("p", {class: "empty"}, "No task in progress"));
    return;
  }
  fill(container, [...teams].sort(([a], [b]) => a.localeCompare(b)).map(([team, tasks]) =>
    h("section", {class: "team-column", dataset: {team}},
      h("h3", {}, team.replaceAll("_", " "), h("small", {}, ` ${tasks.filter((t) => !CLOSED.has(t.state)).length} open`)),
      h("ul", {}, tasks.sort(byUrgency(now)).map((task) =>
        h("li", {
          class: `task state-${task.state} prio-${task.priority}${isOverdue(task, now) ? " overdue" : ""}`,
          dataset: {task: String(task.id), state: task.state},
        },
        h("span", {class: "task-state"}, STATE_WORD[task.state] ?? task.state),
        h("span", {class: "task-title"}, task.title),
        h("span", {class: "task-due"}, CLOSED.has(task.state) ? (task.assignee ?? "") : dueText(task, now))))))));
}
