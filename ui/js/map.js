// The territory map: zones from ui/zones.geojson drawn as SVG (no tile server: the room may be offline),
// sources as markers coloured by state, details on click.

import {fill, h} from "./dom.js";
import {dateTime, number} from "./format.js";
import {rank, sourceStatus} from "./status.js";

const SIZE = 1000;

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

/** An equirectangular projection fitted to the given [lon, lat] points (fine at a city's scale). */
export function fitProjection(points) {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const k = Math.cos((((north + south) / 2) * Math.PI) / 180);
  const width = Math.max((east - west) * k, 1e-6);
  const height = Math.max(north - south, 1e-6);
  const scale = (SIZE * 0.9) / Math.max(width, height);
  const w = width * scale;
  const hgt = height * scale;
  const project = ([lon, lat]) => [
    SIZE * 0.05 + (lon - west) * k * scale,
    SIZE * 0.05 + (north - lat) * scale,
  ];
  return {project, viewBox: `0 0 ${(w + SIZE * 0.1).toFixed(0)} ${(hgt + SIZE * 0.1).toFixed(0)}`};
}

/** The zones file's features; their names go to the store so every panel can say "Valmont Nord". */
export async function loadZones(store, url = "/zones.geojson") {
  try {
    const response = await fetch(url);
    const features = response.ok ? ((await response.json()).features ?? []) : [];
    for (const f of features) {
      const id = f.properties?.id ?? f.id;
      if (id && f.properties?.name) store.zoneNames.set(id, f.properties.name);
    }
    return features;
  } catch (err) {
    console.warn("no zones file", err);
    return [];
  }
}

export class TerritoryMap {
  constructor(container, details, store) {
    Object.assign(this, {container, details, store});
    this.zones = [];
    this.selected = null;
    details.addEventListener("click", (event) => {
      if (event.target.closest(".close")) this.select(null);
    });
  }

  async load() {
    this.zones = await loadZones(this.store);
  }

  sources() {
    const found = new Map();
    for (const r of this.store.picture.values()) {
      if (typeof r.lat === "number" && typeof r.lon === "number" && !found.has(r.source)) {
        found.set(r.source, {id: r.source, domain: r.domain, zone: r.zone, lon: r.lon, lat: r.lat});
      }
    }
    return [...found.values()];
  }

  select(source) {
    this.selected = source;
    this.render();
  }

  render(now = Date.now()) {
    const sources = this.sources();
    const points = [...this.zones.flatMap((f) => rings(f.geometry).flat()), ...sources.map((s) => [s.lon, s.lat])];
    if (!points.length) {
      fill(this.container, h("p", {class: "empty"}, "No zones or located sources yet"));
      this.#renderDetails(now);
      return;
    }
    const {project, viewBox} = fitProjection(points);
    const zoneSeverity = new Map();
    for (const a of this.store.activeAlerts()) {
      if (a.zone && rank(a.severity) > rank(zoneSeverity.get(a.zone) ?? "info")) zoneSeverity.set(a.zone, a.severity);
    }
    const svg = h("svg:svg", {viewBox, class: "territory", preserveAspectRatio: "xMidYMid meet", role: "img", "aria-label": "Map of the zones"});
    for (const feature of this.zones) {
      const id = feature.properties?.id ?? feature.id;
      const d = rings(feature.geometry)
        .map((ring) => `M${ring.map((p) => project(p).map((c) => c.toFixed(1)).join(",")).join("L")}Z`)
        .join("");
      svg.append(h("svg:path", {d, class: `zone sev-${zoneSeverity.get(id) ?? "none"}`, "data-zone": id}));
    }
    for (const source of sources) {
      const [x, y] = project([source.lon, source.lat]);
      const status = sourceStatus(source.id, this.store, now);
      const marker = h("svg:g", {
        class: `marker st-${status}${this.selected === source.id ? " selected" : ""}`,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
        "data-source": source.id, "data-status": status, tabindex: 0,
        onclick: () => this.select(this.selected === source.id ? null : source.id),
      }, h("svg:circle", {r: 18}), h("svg:title", {}, `${source.id}: ${status}`));
      svg.append(marker);
    }
    for (const feature of this.zones) {
      const ring = rings(feature.geometry)[0] ?? [];
      if (!ring.length) continue;
      const centre = feature.properties?.centre ?? [
        ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length,
      ];
      const [x, y] = project(centre);
      svg.append(h("svg:text", {x: x.toFixed(1), y: (y + 55).toFixed(1), class: "zone-label"}, feature.properties?.name ?? ""));
    }
    fill(this.container, svg);
    this.#renderDetails(now);
  }

  #renderDetails(now) {
    const id = this.selected;
    this.details.hidden = !id;
    if (!id) return;
    const readings = [...this.store.picture.values()].filter((r) => r.source === id).sort((a, b) => a.metric.localeCompare(b.metric));
    const alerts = this.store.activeAlerts().filter((a) => a.source === id);
    const health = this.store.sources.get(id);
    fill(this.details,
      h("button", {class: "close", "aria-label": "Close"}, "×"),
      h("h3", {}, id),
      h("p", {class: `st-${sourceStatus(id, this.store, now)}`}, `${readings[0]?.domain ?? ""} · ${this.store.zoneName(readings[0]?.zone) ?? "no zone"} · ${sourceStatus(id, this.store, now)}`),
      h("table", {}, readings.map((r) => h("tr", {},
        h("th", {}, r.metric),
        h("td", {}, typeof r.value === "number" ? number(r.value, 2) : r.value, r.unit ? ` ${r.unit}` : ""),
        h("td", {class: "muted"}, dateTime(r.observed_at))))),
      alerts.map((a) => h("p", {class: `sev-${a.severity}`}, `${a.severity}: ${a.title}`)),
      health?.last_error ? h("p", {class: "muted"}, `last error: ${health.last_error}`) : null);
  }
}
