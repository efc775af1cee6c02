"""Settings: one pydantic-settings class, every field overridable by an ``HV_`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; see the README's configuration table for each variable."""

    model_config = SettingsConfigDict(env_prefix="HV_", env_file=".env", extra="ignore")

    # Where state lives
    data_dir: Path = Path("./var")
    redis_url: str | None = Field(
        default=None, description="unset: start an embedded redis-server under data_dir"
    )
    database_url: str | None = Field(default=None, description="unset: SQLite file under data_dir")
    secret_key: SecretStr | None = Field(
        default=None, description="required by `serve`; the demo generates one"
    )

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    token_ttl_s: int = 12 * 3600
    login_max_failures: int = 5
    login_window_s: int = 300
    login_max_failures_per_address: int = 20

    # Bus
    reading_shards: int = Field(default=4, ge=1, le=256)
    readings_maxlen: int = 200_000
    events_maxlen: int = 100_000
    deadletter_maxlen: int = 10_000
    deadletter_raw_max: int = 4096
    worker_batch: int = 500
    worker_block_ms: int = 200
    lease_ttl_ms: int = 10_000
    claim_idle_ms: int = 30_000
    max_deliveries: int = 5
    tick_interval_s: float = 1.0
    housekeeping_interval_s: float = 15.0

    # Rules
    rules_files: list[Path] = Field(default_factory=list, description="empty: the shipped rule set")

    # Hub
    hub_tick_ms: int = Field(default=250, ge=0, description="picture deltas merged per tick (0: off)")
    hub_heartbeat_s: float = 20.0
    hub_client_timeout_s: float = 60.0
    hub_queue_max: int = Field(default=1000, ge=2, description="frames queued per client")
    hub_replay_max: int = Field(default=10_000, description="past this many events, resync instead")
    hub_max_resyncs: int = Field(default=3, description="overflows per minute before closing 4429")
    hub_auth_timeout_s: float = 10.0
    hub_token_recheck_s: float = Field(default=60.0, description="revoked/expired tokens closed within")

    # Territory and publishing
    territory_tz: str = "Europe/Paris"
    opendata_licence: str = "Licence Ouverte / Open Licence 2.0"
    opendata_licence_url: str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    cap_sender: str = Field(
        default="hypervision@territoire.example", description="CAP <sender>: no spaces, commas, < or &"
    )
    cap_sender_name: str = "Centre de supervision du territoire"
    zones_file: Path | None = Field(default=None, description="unset: the shipped ui/zones.geojson")
    sources_file: Path | None = None
    retention_days: int = 90

    # Pushed feeds (docs/lorawan.md, docs/asterisk.md); unset hosts/paths: the feed is off
    mqtt_host: str | None = Field(default=None, description="ChirpStack MQTT broker")
    mqtt_port: int = 1883
    mqtt_topic: str = "application/+/device/+/event/up"
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    ami_host: str | None = Field(default=None, description="Asterisk manager interface of the helpline")
    ami_port: int = 5038
    ami_username: str = "hypervision"
    ami_secret: SecretStr | None = None
    ami_interval_s: float = Field(default=15.0, gt=0)
    call_line_source: str = Field(default="call_line:queue", description="queue q becomes source `{this}:q`")
    call_line_zone: str | None = None
    queue_log_path: Path | None = Field(default=None, description="Asterisk queue_log to follow")

    # Operations (docs/operations.md)
    metrics_token: SecretStr | None = Field(
        default=None, description="set: /metrics needs `Authorization: Bearer <token>`"
    )
    metrics_port: int | None = Field(
        default=None, description="set: a worker or poller serves /metrics on this port"
    )
    metrics_host: str = "127.0.0.1"
    ready_max_lag: int = Field(
        default=50_000, ge=0, description="/readyz fails when the readings backlog exceeds this (0: off)"
    )
    history_bucket_s: int = Field(default=60, ge=1)
    history_hours: int = Field(default=24, ge=1, le=24 * 31)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hypervision.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
