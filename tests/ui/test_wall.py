"""The wall screen in a real browser: sign-in, tiles, alerts, roles, acknowledgement, reconnects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.simulator.world import world_readings
from hypervision.domain import DOMAINS
from hypervision.models.user import Role
from tests.support import reading
from tests.ui.conftest import UiServer

pytestmark = pytest.mark.browser

WALL = {"width": 1920, "height": 1080}


async def test_operator_signs_in_and_tiles_fill(browser: Any, ui_server: UiServer, artifacts: Path) -> None:
    page = await browser.new_page(viewport=WALL)
    await ui_server.sign_in(page, "/", Role.OPERATOR)
    for domain in DOMAINS:
        assert await page.get_attribute(f".tile[data-domain={domain}]", "data-status") == "unknown"

    await ui_server.ingest(world_readings(datetime.now(UTC)))

    for domain in DOMAINS:
        # filled: fresh data, whatever the status (a real rule may already fire on simulated values)
        tile = f".tile[data-domain={domain}]:not([data-status=unknown]):not([data-status=stale])"
        await page.wait_for_selector(tile)
    pm10 = await page.text_content(".tile[data-domain=air] .figure[data-metric=pm10] .value")
    assert pm10 is not None and pm10.strip()[0].isdigit(), pm10
    waiting = await page.text_content(
        ".tile[data-domain=call_line] .figure[data-metric=callersWaiting] .value"
    )
    assert waiting is not None and waiting.strip().isdigit(), waiting
    # every located source is on the map
    await page.wait_for_selector(".marker[data-source='air:station:FR-VAL-01'][data-status=ok]")
    # nothing scrolls at 1920x1080
    overflow = await page.evaluate(
        "[document.documentElement.scrollHeight > innerHeight,"
        " document.documentElement.scrollWidth > innerWidth]"
    )
    assert overflow == [False, False]
    await page.screenshot(path=str(artifacts / "wall-1920x1080.png"))


def atmo_peak(value: float = 5.0) -> dict[str, Any]:
    """An ATMO index of 5 ("very bad"): the shipped rule raises a critical alert at once."""
    return reading(source="air:atmo:21999", metric="atmoIndex", value=value, unit="", zone="valmont-centre")


async def test_threshold_alert_appears_and_only_a_manager_acknowledges(
    browser: Any, ui_server: UiServer, artifacts: Path
) -> None:
    operator = await browser.new_page(viewport=WALL)
    manager = await browser.new_page(viewport=WALL)
    await ui_server.sign_in(operator, "/", Role.OPERATOR)
    await ui_server.sign_in(manager, "/", Role.MANAGER)
    await ui_server.ingest(world_readings(datetime.now(UTC)))
    await ui_server.ingest([atmo_peak()])

    row = ".alert[data-severity=critical][data-state=firing]:has-text('Indice ATMO')"
    await operator.wait_for_selector(row)
    await manager.wait_for_selector(row)
    # a new critical alert flashes, and the tile turns critical
    assert "flash" in (await operator.get_attribute(row, "class") or "")
    assert await operator.get_attribute(".tile[data-domain=air]", "data-status") == "critical"
    assert "valmont-centre" in (await operator.text_content(row) or "")
    alert_id = await operator.get_attribute(row, "data-alert")

    # the operator sees no button, and the API refuses them anyway
    assert await operator.locator(f".alert[data-alert='{alert_id}'] button").count() == 0
    operator_token = await operator.evaluate("localStorage.getItem('hv_token')")
    async with ui_server.client(operator_token) as client:
        refused = await client.post(f"/api/alerts/{alert_id}/ack", json={"comment": "not mine to ack"})
    assert refused.status_code == 403, refused.text
    await operator.screenshot(path=str(artifacts / "wall-critical-alert-1920x1080.png"))

    # the manager acknowledges with a comment; both screens follow
    await manager.click(f".alert[data-alert='{alert_id}'] .act-ack")
    await manager.fill("dialog.comment-dialog textarea", "Préfecture prévenue, mesures en cours")
    await manager.click("dialog.comment-dialog button[type=submit]")
    acked = f".alert[data-alert='{alert_id}'][data-state=acknowledged]"
    await manager.wait_for_selector(acked)
    await operator.wait_for_selector(acked)
    assert "flash" not in (await operator.get_attribute(acked, "class") or "")
    assert await manager.locator(f"{acked} .act-ack").count() == 0
    assert await manager.locator(f"{acked} .act-resolve").count() == 1

    # resolving removes it everywhere
    await manager.click(f"{acked} .act-resolve")
    await manager.fill("dialog.comment-dialog textarea", "Épisode terminé")
    await manager.click("dialog.comment-dialog button[type=submit]")
    for page in (manager, operator):
        await page.wait_for_selector(f".alert[data-alert='{alert_id}']", state="detached")
