// Status words for domains and sources, computed from the store as hypervision/picture.py does.

export const SEVERITIES = ["info", "warning", "critical", "emergency"];
export const rank = (severity) => SEVERITIES.indexOf(severity);

// Until the hello frame brings the server's allowances (hypervision/picture.py, STALE_AFTER).
const DEFAULT_STALE_AFTER_S = 3600;

/** As the server judges it: nothing received for longer than the domain allows, or the feed is down. */
export function readingStale(reading, store, now = Date.now()) {
  const health = store.sources.get(reading.source);
  if (health?.stale) return true;
  const allowance = (store.staleAfterS[reading.domain] ?? DEFAULT_STALE_AFTER_S) * 1000;
  return now - Date.parse(reading.received_at ?? reading.observed_at) > allowance;
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
