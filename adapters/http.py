"""The thin fetch shared by pulled adapters: one GET, status checked, body size capped."""

from __future__ import annotations

import httpx

from adapters.errors import AdapterError
from adapters.source import SourceConfig


class FetchError(AdapterError):
    """A fetch failed; ``retryable`` says whether trying again may help (timeouts, 5xx, 429), and
    ``category`` (timeout, status, too_large, transport, url) labels the failure in metrics."""

    def __init__(
        self, reason: str, *, source: str | None = None, retryable: bool = True, category: str = "transport"
    ) -> None:
        super().__init__(reason, source=source)
        self.retryable = retryable
        self.category = category


def _headers(source: SourceConfig, credentials_header: str) -> dict[str, str]:
    headers = {"Accept": "application/json, text/csv;q=0.9, */*;q=0.5"}
    if source.credentials is not None:
        name = source.option("credentials_header", credentials_header)
        headers[str(name)] = source.credentials.get_secret_value()
    return headers


async def fetch_bytes(
    client: httpx.AsyncClient,
    url: str,
    *,
    source: SourceConfig,
    credentials_header: str = "Authorization",
) -> bytes:
    """GET ``url`` and return the body; refuse it as soon as it grows past ``source.max_bytes``."""
    limit = source.max_bytes
    try:
        async with client.stream(
            "GET", url, headers=_headers(source, credentials_header), timeout=source.timeout_s
        ) as resp:
            if resp.status_code >= 400:
                retryable = resp.status_code >= 500 or resp.status_code in (408, 429)
                raise FetchError(
                    f"HTTP {resp.status_code} from the feed",
                    source=source.id,
                    retryable=retryable,
                    category="status",
                )
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(
                    f"body of {declared} bytes is over the {limit}-byte limit",
                    source=source.id,
                    retryable=False,
                    category="too_large",
                )
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchError(
                        f"body is over the {limit}-byte limit",
                        source=source.id,
                        retryable=False,
                        category="too_large",
                    )
            return bytes(body)
    except httpx.TimeoutException as err:
        raise FetchError(
            f"timed out after {source.timeout_s:g} s", source=source.id, category="timeout"
        ) from err
    except httpx.InvalidURL as err:
        raise FetchError(f"invalid URL: {err}", source=source.id, retryable=False, category="url") from err
    except httpx.HTTPError as err:
        raise FetchError(f"transport error: {type(err).__name__}: {err}", source=source.id) from err


async def fetch(client: httpx.AsyncClient, source: SourceConfig) -> bytes:
    """The default fetch: GET the configured URL."""
    return await fetch_bytes(client, source.url, source=source)
