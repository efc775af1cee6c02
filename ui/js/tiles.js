// One tile per domain: status colour, the two or three figures that matter, a sparkline, staleness.

import {fill, h} from "./dom.js";
import {clock, duration, number, since} from "./format.js";
import {sparkline} from "./sparkline.js";
import {domainStatus} from "./status.js";

const pct = (v) => number(v * 100, 0);

// figure: label, metric, agg (max | min | sum | above | on | any), unit, format(value) -> text
export const TILES = [
  {domain: "air", title: "Air", spark: "pm10", figures: [
    {label: "PM10 max", metric: "pm10", agg: "max", unit: "µg/m³", where: true},
    {label: "ATMO index", metric: "atmoIndex", agg: "max", unit: "/ 6"},
    {label: "NO₂ max", metric: "no2", agg: "max", unit: "µg/m³"},
  ]},
  {domain: "call_line", title: "Helpline", spark: "callersWaiting", figures: [
    {label: "Callers waiting", metric: "callersWaiting", agg: "sum"},
    {label: "Longest hold", metric: "longestHoldTime", agg: "max", format: clock},
    {label: "Abandoned", metric: "abandonRate", agg: "max", unit: "%", format: pct},
  ]},
  {domain: "mask_drive", title: "Mask drive", spark: "stockOnHand", figures: [
    {label: "Masks in stock", metric: "stockOnHand", agg: "sum", unit: "k", format: (v) => number(v / 1000, v < 10_000 ? 1 : 0)},
    {label: "Days cover", metric: "daysOfCover", agg: "min", unit: "d", digits: 1},
    {label: "Queue wait", metric: "queueWait", agg: "max", unit: "min"},
  ]},
  {domain: "hospital", title: "Hospital", spark: "bedOccupancy", figures: [
    {label: "Beds occupied", metric: "bedOccupancy", agg: "max", unit: "%", where: true},
    {label: "ICU occupied", metric: "icuOccupancy", agg: "max", unit: "%"},
    {label: "In hospital", metric: "hospitalized", agg: "sum"},
  ]},
  {domain: "waste", title: "Waste", spark: "fillingLevel", figures: [
    {label: "Fullest container", metric: "fillingLevel", agg: "max", unit: "%", format: pct, where: true},
    {label: "Bins ≥ 80 %", metric: "fillingLevel", agg: "above", threshold: 0.8},
    {label: "Waste centre", metric: "isOpen", agg: "any", format: (v) => (v ? "open" : "closed")},
  ]},
  {domain: "lighting", title: "Lighting", spark: "activePower", figures: [
    {label: "Cabinets on", metric: "powerState", agg: "on"},
    {label: "Lamps out", metric: "lampFailure", agg: "sum"},
    {label: "Power", metric: "activePower", agg: "sum", unit: "kW", format: (v) => number(v / 1000, 1)},
  ]},
  {domain: "pollen", title: "Pollen", spark: "pollenBirch", figures: [
    {label: "Allergy risk", metric: "allergenRisk", agg: "max", unit: "/ 5"},
    {label: "Birch /m³", metric: "pollenBirch", agg: "max"},
    {label: "Grass /m³", metric: "pollenGrass", agg: "max"},
  ]},
];

/** The figure's value over the domain's readings of its metric; null when none arrived yet. */
export function aggregate(figure, readings) {
  const rs = readings.filter((r) => r.metric === figure.metric);
  if (!rs.length) return null;
  const nums = rs.map((r) => Number(r.value)).filter(Number.isFinite);
  switch (figure.agg) {
    case "on": {
      const on = rs.filter((r) => String(r.value).toLowerCase() === "on" || Number(r.value) > 0).length;
      return `${on} / ${rs.length}`;
    }
    case "above":
      return nums.filter((v) => v >= figure.threshold).length;
    case "any":
      return nums.some((v) => v > 0);
    case "sum":
      return nums.length ? nums.reduce((a, b) => a + b, 0) : null;
    case "min":
      return nums.length ? Math.min(...nums) : null;
    default:
      return nums.length ? Math.max(...nums) : null;
  }
}

function showFigure(figure, value) {
  if (value === null || value === undefined) return "–";
  if (figure.format) return figure.format(value);
  return typeof value === "number" ? number(value, figure.digits ?? 0) : String(value);
}

/** The reading with the highest value of `metric` (the lowest when `agg` is "min"), or null. */
function extreme(metric, agg, readings) {
  const rs = readings.filter((r) => r.metric === metric && Number.isFinite(Number(r.value)));
  if (!rs.length) return null;
  const better = agg === "min" ? (a, b) => Number(b.value) < Number(a.value) : (a, b) => Number(b.value) > Number(a.value);
  return rs.reduce((a, b) => (better(a, b) ? b : a));
}

/** The zone of the reading that gives a max or min figure ("PM10 max · valmont-centre"). */
function whereOf(figure, readings, store) {
  return figure.where ? store.zoneName(extreme(figure.metric, figure.agg, readings)?.zone) : null;
}

/** The series the sparkline follows: the source with the most extreme value of the tile's metric. */
function sparkKey(tile, readings) {
  const figure = tile.figures.find((f) => f.metric === tile.spark);
  const best = extreme(tile.spark, figure?.agg, readings);
  return best ? (best.key ?? `${best.source}|${best.metric}`) : null;
}

const STATUS_WORD = {
  ok: "OK", stale: "STALE", unknown: "NO DATA", info: "INFO", warning: "WARNING", critical: "CRITICAL",
  emergency: "EMERGENCY",
};

/** Render every tile; `wantHistory(key)` is told which series each sparkline follows. */
export function renderTiles(container, store, {now = Date.now(), wantHistory = () => {}} = {}) {
  fill(container, TILES.map((tile) => renderTile(tile, store, now, wantHistory)));
}

function renderTile(tile, store, now, wantHistory) {
  const readings = store.readings(tile.domain);
  const {status, stale, sources} = domainStatus(tile.domain, store, now);
  const key = sparkKey(tile, readings);
  wantHistory(key);
  const newest = readings.reduce((m, r) => Math.max(m, Date.parse(r.observed_at)), 0);
  const footer = stale.length
    ? h("div", {class: "tile-foot stale-note"},
      `STALE · ${stale.length}/${sources} source${sources > 1 ? "s" : ""} silent · last ${duration(since(new Date(newest).toISOString(), now))} ago`)
    : h("div", {class: "tile-foot"},
      sources ? `${sources} source${sources > 1 ? "s" : ""} · updated ${duration((now - newest) / 1000)} ago` : "waiting for data");
  return h("article", {class: `tile status-${status}`, dataset: {domain: tile.domain, status}},
    h("header", {},
      h("h2", {}, tile.title),
      h("span", {class: "pill"}, STATUS_WORD[status] ?? status)),
    h("div", {class: "figures"},
      tile.figures.map((figure) => h("div", {class: "figure", dataset: {metric: figure.metric, agg: figure.agg}},
        h("span", {class: "value"}, showFigure(figure, aggregate(figure, readings)),
          figure.unit ? h("small", {class: "unit"}, ` ${figure.unit}`) : null),
        h("span", {class: "label"}, [figure.label, whereOf(figure, readings, store)].filter(Boolean).join(" · "))))),
    key ? sparkline(store.history.get(key) ?? [], {now}) : h("div", {class: "spark"}),
    footer);
}
