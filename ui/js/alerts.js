// The alerts panel: open alerts by severity then age; new critical ones flash (and beep); managers act.

import {api, canAct} from "./auth.js";
import {askComment} from "./dialog.js";
import {fill, h} from "./dom.js";
import {duration, number, since, timeOfDay} from "./format.js";
import {beep} from "./sound.js";
import {rank} from "./status.js";

const FLASH_MS = 120_000;

/** Rule values arrive as text ("50.32962962962962", "off"): numbers are shown rounded. */
const showValue = (value) => (value !== "" && Number.isFinite(Number(value)) ? number(Number(value), 1) : value);

export class AlertsPanel {
  constructor(container, store, {onFlash} = {}) {
    this.container = container;
    this.store = store;
    this.onFlash = onFlash ?? (() => {});
    this.flashing = new Map(); // alert id -> flash until (ms)
    store.subscribe((change) => change.kind === "alert" && this.#onAlert(change));
  }

  #onAlert({alert, before}) {
    const urgent = rank(alert.severity) >= rank("critical") && alert.state === "firing";
    const wasUrgent = before && rank(before.severity) >= rank(alert.severity) && before.state === "firing";
    if (urgent && !wasUrgent) {
      this.flashing.set(String(alert.id), Date.now() + FLASH_MS);
      beep({frequency: alert.severity === "emergency" ? 1320 : 880});
      this.onFlash(alert);
    }
    if (alert.state !== "firing") this.flashing.delete(String(alert.id));
  }

  sorted() {
    const opened = (a) => Date.parse(a.firing_at ?? a.opened_at);
    // Pending alerts are not confirmed yet: they go below the active ones, whatever their severity.
    const pending = (a) => Number(a.state === "pending");
    return [...this.store.alerts.values()].sort(
      (a, b) => pending(a) - pending(b) || rank(b.severity) - rank(a.severity) || opened(a) - opened(b) || a.id - b.id,
    );
  }

  render(now = Date.now()) {
    const alerts = this.sorted();
    const manager = canAct(this.store.role);
    if (!alerts.length) {
      fill(this.container, h("li", {class: "empty"}, "No open alert"));
      return;
    }
    fill(this.container, alerts.map((alert) => {
      const id = String(alert.id);
      const flash = (this.flashing.get(id) ?? 0) > now;
      return h("li", {
        class: `alert sev-${alert.severity} state-${alert.state}${flash ? " flash" : ""}`,
        dataset: {alert: id, severity: alert.severity, state: alert.state},
      },
      h("span", {class: "sev"}, alert.severity.toUpperCase()),
      h("div", {class: "alert-main"},
        h("div", {class: "alert-title"}, alert.title),
        h("div", {class: "alert-meta"},
          h("span", {class: "state"}, alert.state === "acknowledged" ? `ack. by ${alert.acknowledged_by ?? "?"}` : alert.state),
          h("span", {class: "zone"}, this.store.zoneName(alert.zone) ?? "no zone"),
          alert.value !== null && alert.value !== undefined ? h("span", {class: "alert-value"}, `value ${showValue(alert.value)}`) : null,
          h("span", {title: `opened ${timeOfDay(alert.opened_at)}`}, `open ${duration(since(alert.firing_at ?? alert.opened_at, now))}`))),
      manager ? this.#buttons(alert) : null);
    }));
  }

  #buttons(alert) {
    const act = (verb, label) => h("button", {
      class: `act act-${verb}`,
      onclick: () => askComment(`${label}: ${alert.title}`,
        (comment) => api(`/api/alerts/${alert.id}/${verb}`, {method: "POST", body: {comment}}),
        {confirmLabel: label, required: true}),
    }, label);
    return h("div", {class: "alert-actions"},
      alert.state === "firing" ? act("ack", "Acknowledge") : null,
      alert.state !== "pending" ? act("resolve", "Resolve") : null);
  }
}
