"""A configured pulled source: where to fetch, how often, and how to label what it yields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hypervision.domain import Domain, SourceId, ZoneId

DEFAULT_MAX_BYTES = 2_000_000


class SourceConfig(BaseModel):
    """One row of the sources file (or of the sources table): validated, immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: SourceId
    kind: str = Field(min_length=1, max_length=64)
    url: str = Field(default="", max_length=2048)
    interval_s: float = Field(default=60.0, gt=0, le=86_400)
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)
    # A source is stale after this many intervals without newer observations (a feed published daily
    # but polled hourly wants about 26 here).
    stale_after: int = Field(default=3, ge=1, le=100_000)
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, le=100_000_000)
    credentials: SecretStr | None = None
    zone: ZoneId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    domain: Domain | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)
