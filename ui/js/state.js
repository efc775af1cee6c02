// What a screen knows: the picture, open alerts, tasks, logbook tail and source health, kept from the
// hub's snapshot and events, plus the recent values of each series for sparklines.

const HISTORY_POINTS = 240;

export class Store {
  constructor() {
    this.picture = new Map(); // "source|metric" -> latest reading
    this.alerts = new Map(); // id -> open alert
    this.tasks = new Map(); // id -> task
    this.logbook = []; // oldest first
    this.sources = new Map(); // source id -> health
    this.history = new Map(); // "source|metric" -> [[ms, value], ...] oldest first
    this.zoneNames = new Map(); // zone id -> name, from the zones file
    this.staleAfterS = {}; // domain -> seconds without news before a series is stale (hello frame)
    this.role = null;
    this.name = null;
    this.listeners = new Set();
  }

  /** listener(change) with change.kind in snapshot | picture | alert | task | logbook | source | hello. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  #emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  apply(frame) {
    if (frame.type === "hello") {
      this.role = frame.role;
      this.name = frame.name;
      if (frame.stale_after_s) this.staleAfterS = frame.stale_after_s;
      this.#emit({kind: "hello"});
    } else if (frame.type === "snapshot") {
      this.#applySnapshot(frame.state ?? {});
    } else if (frame.type === "event") {
      this.#applyEvent(frame.event, frame.data ?? {});
    }
  }

  #applySnapshot(state) {
    // Only the parts the subscription covers are replaced; the others are not ours to clear.
    if (state.picture) {
      this.picture.clear();
      for (const r of state.picture) this.#setReading(r);
    }
    if (state.alerts) {
      this.alerts.clear();
      for (const a of state.alerts) if (a.state !== "resolved") this.alerts.set(String(a.id), a);
    }
    if (state.tasks) {
      this.tasks.clear();
      for (const t of state.tasks) this.tasks.set(String(t.id), t);
    }
    if (state.logbook) this.logbook = [...state.logbook];
    if (state.sources) {
      this.sources.clear();
      for (const s of state.sources) this.sources.set(s.id ?? s.source, s);
    }
    this.#emit({kind: "snapshot"});
  }

  #applyEvent(type, data) {
    switch (type) {
      case "picture.delta":
        for (const r of data.readings ?? []) this.#setReading(r);
        this.#emit({kind: "picture", readings: data.readings ?? []});
        break;
      case "alert.changed": {
        const id = String(data.id);
        const before = this.alerts.get(id);
        if (data.state === "resolved") this.alerts.delete(id);
        else this.alerts.set(id, data);
        this.#emit({kind: "alert", alert: data, before});
        break;
      }
      case "task.changed": {
        const id = String(data.id);
        const before = this.tasks.get(id);
        this.tasks.set(id, data);
        this.#emit({kind: "task", task: data, before});
        break;
      }
      case "logbook.entry":
        this.logbook.push(data);
        if (this.logbook.length > 200) this.logbook.splice(0, this.logbook.length - 200);
        this.#emit({kind: "logbook", entry: data});
        break;
      case "source.health":
        this.sources.set(data.id ?? data.source, data);
        this.#emit({kind: "source", source: data});
        break;
      default:
        break;
    }
  }

  #setReading(r) {
    const key = r.key ?? `${r.source}|${r.metric}`;
    this.picture.set(key, r);
    const value = Number(r.value);
    if (!Number.isFinite(value)) return;
    this.addHistory(key, [[Date.parse(r.observed_at), value]]);
  }

  /** Merge points into a series' history, keeping it sorted and without repeated timestamps. */
  addHistory(key, points) {
    const series = this.history.get(key) ?? [];
    const known = new Set(series.map((p) => p[0]));
    for (const point of points) if (Number.isFinite(point[0]) && !known.has(point[0])) series.push(point);
    series.sort((a, b) => a[0] - b[0]);
    if (series.length > HISTORY_POINTS) series.splice(0, series.length - HISTORY_POINTS);
    this.history.set(key, series);
  }

  zoneName(id) {
    return id ? (this.zoneNames.get(id) ?? id) : null;
  }

  readings(domain) {
    return [...this.picture.values()].filter((r) => r.domain === domain);
  }

  /** Open alerts that count towards a status (pending ones are not yet confirmed). */
  activeAlerts() {
    return [...this.alerts.values()].filter((a) => a.state !== "pending");
  }
}
