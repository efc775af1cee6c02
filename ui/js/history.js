// Sparkline history: fetched once per series from GET /api/history, then extended by live values.

import {api} from "./auth.js";

export class HistoryLoader {
  constructor(store, {hours = 6} = {}) {
    this.store = store;
    this.hours = hours;
    this.requested = new Set();
    this.available = true; // false once the server says it keeps no history
  }

  /** Ask for a series' past once; `onLoaded` runs when points arrived. */
  want(key, onLoaded) {
    if (!key || !this.available || this.requested.has(key)) return;
    this.requested.add(key);
    const query = new URLSearchParams({series: key, hours: String(this.hours)});
    api(`/api/history?${query}`)
      .then((data) => {
        const points = (data?.points ?? [])
          .map((p) => [Date.parse(p.t), Number(p.avg ?? p.last)])
          .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
        if (points.length) {
          this.store.addHistory(key, points);
          onLoaded();
        }
      })
      .catch((err) => {
        if (err.status === 404) this.available = false;
      });
  }
}
