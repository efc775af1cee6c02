// Formatting of values, durations and times for screens read from across the room.

const TZ = "Europe/Paris";

export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return Number(value).toLocaleString("fr-FR", {maximumFractionDigits: digits, minimumFractionDigits: 0});
}

/** "4 min", "2 h 05", "3 d" — how long ago or how long for, coarse enough to read at a glance. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}`;
  return `${Math.floor(s / 86400)} d`;
}

/** Seconds as m:ss (hold times). */
export function clock(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  const s = Math.max(0, Math.round(Number(seconds)));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function since(iso, now = Date.now()) {
  if (!iso) return null;
  return (now - Date.parse(iso)) / 1000;
}

export function timeOfDay(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString("fr-FR", {timeZone: TZ, hour: "2-digit", minute: "2-digit"});
}

export function dateTime(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString("fr-FR", {
    timeZone: TZ, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}
