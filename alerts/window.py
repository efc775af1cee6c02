"""Sliding time window kept as at most ~256 buckets, so a 24 h window of 1 s readings stays small."""

from __future__ import annotations

from typing import Any

import orjson

BUCKETS = 256

# bucket = [t_first, t_last, count, sum, min, max, first_value, last_value]
_T0, _T1, _N, _SUM, _MIN, _MAX, _FIRST, _LAST = range(8)


class Window:
    """Numeric samples of the last `span` seconds (by observation time), bucketed by span/256.

    Aggregates are exact while readings are further apart than the bucket width (5.6 min for a
    24 h window); denser readings are merged, and the oldest bucket may stick out of the window by
    at most one bucket width.
    """

    __slots__ = ("_closed_json", "_closed_sizes", "buckets", "count", "span", "total", "width")

    def __init__(self, span: float, buckets: list[list[float]] | None = None) -> None:
        self.span = span
        self.width = span / BUCKETS
        self.buckets: list[list[float]] = buckets or []
        # Running totals make mean and count O(1) per evaluation; recomputed on eviction (no drift).
        self._retotal()
        # Every bucket but the last is closed (never changes again): its JSON is kept, so saving the
        # window after each reading serialises one bucket, not up to 256 (see dump_json).
        self._closed_json = b""
        self._closed_sizes: list[int] = []
        for bucket in self.buckets[:-1]:
            self._close(bucket)

    def _close(self, bucket: list[float]) -> None:
        part = orjson.dumps(bucket)
        self._closed_json += part + b","
        self._closed_sizes.append(len(part) + 1)

    def _retotal(self) -> None:
        self.count = sum(b[_N] for b in self.buckets)
        self.total = sum(b[_SUM] for b in self.buckets)

    def add(self, t: float, value: float) -> bool:
        """Add a sample; returns False (ignored) if it is older than the newest one."""
        buckets = self.buckets
        if buckets:
            last = buckets[-1]
            if t < last[_T1]:
                return False
            if t - last[_T0] < self.width:
                last[_T1] = t
                last[_N] += 1
                last[_SUM] += value
                last[_MIN] = min(last[_MIN], value)
                last[_MAX] = max(last[_MAX], value)
                last[_LAST] = value
                self.count += 1
                self.total += value
                self._evict(t)
                return True
        if buckets:
            self._close(buckets[-1])
        buckets.append([t, t, 1, value, value, value, value, value])
        self.count += 1
        self.total += value
        self._evict(t)
        return True

    def _evict(self, now: float) -> None:
        cutoff = now - self.span
        buckets = self.buckets
        drop = 0
        while drop < len(buckets) - 1 and buckets[drop][_T1] <= cutoff:
            drop += 1
        if drop:
            del buckets[:drop]
            self._retotal()
            cut = sum(self._closed_sizes[:drop])
            del self._closed_sizes[:drop]
            self._closed_json = self._closed_json[cut:]

    def aggregate(self, agg: str) -> float | None:
        """mean, max, min, count, or rate (change per hour between the first and last sample)."""
        buckets = self.buckets
        if not buckets:
            return None
        if agg == "mean":
            return self.total / self.count
        if agg == "max":
            return max(b[_MAX] for b in buckets)
        if agg == "min":
            return min(b[_MIN] for b in buckets)
        if agg == "count":
            return float(self.count)
        if agg == "rate":
            dt = buckets[-1][_T1] - buckets[0][_T0]
            if dt <= 0:
                return None
            return (buckets[-1][_LAST] - buckets[0][_FIRST]) / dt * 3600.0
        raise ValueError(f"unknown aggregate {agg!r}")

    def dump(self) -> list[list[float]]:
        return self.buckets

    def dump_json(self) -> orjson.Fragment:
        """``orjson.dumps(self.dump())``, ready to embed, without serialising closed buckets again."""
        if not self.buckets:
            return orjson.Fragment(b"[]")
        return orjson.Fragment(b"[" + self._closed_json + orjson.dumps(self.buckets[-1]) + b"]")

    @classmethod
    def load(cls, span: float, data: Any) -> Window:
        if not isinstance(data, list) or not all(isinstance(b, list) and len(b) == 8 for b in data):
            raise ValueError("bad window state")
        return cls(span, [[float(x) for x in b] for b in data])
