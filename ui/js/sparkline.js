// A sparkline as inline SVG: the last hours of one series, no library.

import {h} from "./dom.js";

export function sparkline(points, {width = 100, height = 24, hours = 6, now = Date.now()} = {}) {
  const recent = points.filter(([t]) => t >= now - hours * 3_600_000);
  const svg = h("svg:svg", {
    class: "spark", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true",
  });
  if (recent.length < 2) return svg;
  const values = recent.map((p) => p[1]);
  // At least 10 % of the value as vertical range, so sensor noise does not look like a cliff.
  const floor = 0.1 * Math.max(Math.abs(Math.min(...values)), Math.abs(Math.max(...values)));
  const pad = Math.max(0, floor - (Math.max(...values) - Math.min(...values))) / 2;
  const lo = Math.min(...values) - pad;
  const hi = Math.max(...values) + pad;
  const t0 = recent[0][0];
  const span = Math.max(1, recent[recent.length - 1][0] - t0);
  const y = (v) => (hi === lo ? height / 2 : height - 2 - ((v - lo) / (hi - lo)) * (height - 4));
  const coords = recent.map(([t, v]) => `${(((t - t0) / span) * width).toFixed(1)},${y(v).toFixed(1)}`);
  svg.append(
    h("svg:polyline", {points: coords.join(" "), fill: "none", "vector-effect": "non-scaling-stroke"}),
  );
  return svg;
}
