// The tail of the crisis logbook (main courante), newest at the top.

import {fill, h} from "./dom.js";
import {timeOfDay} from "./format.js";

export function renderLogbook(container, store, {limit = 12} = {}) {
  const entries = store.logbook.slice(-limit).reverse();
  if (!entries.length) {
    fill(container, h("li", {class: "empty"}, "Logbook empty"));
    return;
  }
  fill(container, entries.map((entry) =>
    h("li", {class: `log kind-${entry.kind ?? "note"}`, dataset: {seq: String(entry.seq ?? "")}},
      h("time", {datetime: entry.at}, timeOfDay(entry.at)),
      h("span", {class: "summary"}, entry.summary ?? entry.text ?? ""),
      h("span", {class: "actor"}, entry.actor ?? ""))));
}
