// Status words for domains and sources, computed from the store as hypervision/picture.py does.

export const SEVERITIES = ["info", "warning", "critical", "emergency"];
export const rank = (severity) => SEVERITIES.indexOf(severity);

// Mirrors STALE_AFTER in hypervision/picture.py (minutes): feeds publish at different paces.
const STALE_AFTER_MIN = {
  lighting: 30, waste: 30, mask_drive: 30, air: 180, pollen: 26 * 60, call_line: 5, hospital: 36 * 60,
};

export function readingStale(reading, store, now = Date.now()) {
  const health = store.sources.get(reading.source);
  if (health?.stale) return true;
  const allowance = (STALE_AFTER_MIN[reading.domain] ?? 60) * 60_000;
  return now - Date.parse(reading.observed_at) > allowance;
}

function worst(alerts) {
  let found = null;
  for (const a of alerts) if (found === null || rank(a.severity) > rank(found)) found = a.severity;
  return found;
}

/** ok | stale | unknown | a severity; plus the stale sources of the domain. */
export function domainStatus(domain, store, now = Date.now()) {
  const readings = store.readings(domain);
  const sources = new Map();
  for (const r of readings) {
    const fresh = !readingStale(r, store, now);
    sources.set(r.source, (sources.get(r.source) ?? false) || fresh);
  }
  const stale = [...sources].filter(([, fresh]) => !fresh).map(([id]) => id);
  const severity = worst(store.activeAlerts().filter((a) => a.domain === domain));
  let status = "ok";
  if (severity) status = severity;
  else if (sources.size === 0) status = "unknown";
  else if (stale.length === sources.size) status = "stale";
  return {status, stale, sources: sources.size};
}

/** A source's state for the map: its worst active alert, else stale or ok. */
export function sourceStatus(source, store, now = Date.now()) {
  const severity = worst(store.activeAlerts().filter((a) => a.source === source));
  if (severity) return severity;
  const readings = [...store.picture.values()].filter((r) => r.source === source);
  if (readings.length && readings.every((r) => readingStale(r, store, now))) return "stale";
  return readings.length ? "ok" : "unknown";
}
