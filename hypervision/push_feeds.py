"""The long-lived feeds the settings switch on: MQTT uplinks, the Asterisk AMI client, the queue_log tail."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from pydantic import SecretStr

from adapters.ami_client import AmiConfig
from adapters.link_health import SourceHealth
from hypervision.call_line import QueueLogConfig, QueueLogFeed, ami_client
from hypervision.mqtt_ingest import MqttConfig, MqttIngest
from hypervision.runtime import Runtime


class PushFeed(Protocol):
    health: SourceHealth

    def run(self) -> Coroutine[Any, Any, None]: ...


def push_feeds(runtime: Runtime) -> list[PushFeed]:
    """One object per configured feed; run each with `asyncio.create_task(feed.run())`, read `feed.health`."""
    s = runtime.settings
    feeds: list[PushFeed] = []
    if s.mqtt_host:
        mqtt = MqttConfig(
            host=s.mqtt_host,
            port=s.mqtt_port,
            topic=s.mqtt_topic,
            username=s.mqtt_username,
            password=s.mqtt_password,
        )
        feeds.append(MqttIngest(runtime, mqtt))
    if s.ami_host:
        ami = AmiConfig(
            host=s.ami_host,
            port=s.ami_port,
            username=s.ami_username,
            secret=s.ami_secret or SecretStr(""),
            source_prefix=s.call_line_source,
            zone=s.call_line_zone,
            interval_s=s.ami_interval_s,
        )
        feeds.append(ami_client(runtime, ami))
    if s.queue_log_path:
        log_config = QueueLogConfig(
            path=s.queue_log_path, source_prefix=s.call_line_source, zone=s.call_line_zone
        )
        feeds.append(QueueLogFeed(runtime, log_config))
    return feeds
