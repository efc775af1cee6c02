"""The thin fetch: status codes, size cap (declared and streamed), credentials, timeouts."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from adapters import openaq
from adapters.http import FetchError, fetch
from adapters.source import SourceConfig
from tests.adapters.feeds import at, fixture

SOURCE = SourceConfig(id="t:feed", kind="talq", url="http://feed.test/x", max_bytes=1000)


def client_for(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_body_is_returned() -> None:
    async with client_for(lambda r: httpx.Response(200, content=b'{"entries": []}')) as client:
        assert await fetch(client, SOURCE) == b'{"entries": []}'


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (401, False)]
)
async def test_error_status_is_a_fetch_error(status: int, retryable: bool) -> None:
    async with client_for(lambda r: httpx.Response(status)) as client:
        with pytest.raises(FetchError) as caught:
            await fetch(client, SOURCE)
    assert caught.value.reason == f"HTTP {status} from the feed"
    assert caught.value.retryable is retryable
    assert caught.value.source == "t:feed"


async def test_declared_oversize_body_is_refused() -> None:
    async with client_for(lambda r: httpx.Response(200, content=b"x" * 1001)) as client:
        with pytest.raises(FetchError, match="1001 bytes is over the 1000-byte limit") as caught:
            await fetch(client, SOURCE)
    assert caught.value.retryable is False


async def test_streamed_oversize_body_is_refused_without_reading_it_all() -> None:
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(100):
            sent += 400
            yield b"y" * 400

    async with client_for(lambda r: httpx.Response(200, content=chunks())) as client:
        with pytest.raises(FetchError, match="over the 1000-byte limit"):
            await fetch(client, SOURCE)
    assert sent < 2000


async def test_timeout_and_transport_errors_are_retryable_fetch_errors() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with client_for(hang) as client:
        with pytest.raises(FetchError, match="timed out after 10 s") as caught:
            await fetch(client, SOURCE)
    assert caught.value.retryable is True

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client_for(refuse) as client:
        with pytest.raises(FetchError, match="transport error: ConnectError"):
            await fetch(client, SOURCE)


async def test_openaq_fetch_sends_the_key_and_bundles_both_documents() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("x-api-key")))
        name = (
            "openaq_v3_locations_latest.json"
            if request.url.path.endswith("/latest")
            else "openaq_v3_location.json"
        )
        return httpx.Response(200, content=fixture("air", name))

    source = SourceConfig(
        id="air:oaq", kind="openaq", url="https://api.test/v3/locations/2178/", credentials=SecretStr("k3y")
    )
    async with client_for(handler) as client:
        body = await openaq.fetch(client, source)
    assert seen == [("/v3/locations/2178", "k3y"), ("/v3/locations/2178/latest", "k3y")]
    assert len(openaq.parse(body, received_at=at(2024, 9, 26), source=source)) == 8


@pytest.mark.parametrize(
    ("response", "category"),
    [(httpx.Response(503), "status"), (httpx.Response(200, content=b"z" * 5000), "too_large")],
)
async def test_failures_carry_a_metrics_category(response: httpx.Response, category: str) -> None:
    async with client_for(lambda r: response) as client:
        with pytest.raises(FetchError) as caught:
            await fetch(client, SOURCE)
    assert caught.value.category == category
