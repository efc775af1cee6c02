"""The wall screen in a real browser: sign-in, tiles, alerts, roles, acknowledgement, reconnects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.simulator.world import world_readings
from hypervision.domain import DOMAINS, Reading
from hypervision.models.user import Role, TokenKind
from tests.support import reading
from tests.ui.conftest import UiServer

pytestmark = pytest.mark.browser

WALL = {"width": 1920, "height": 1080}
NO_SCROLL = (
    "[document.documentElement.scrollHeight > innerHeight, document.documentElement.scrollWidth > innerWidth]"
)


async def test_a_silent_helpline_turns_its_tile_stale(browser: Any, ui_server: UiServer) -> None:
    page = await browser.new_page(viewport=WALL)
    await page.clock.install()  # the page's own clock, so ten minutes can pass in a second
    await ui_server.sign_in(page, "/", Role.OPERATOR)
    waiting = reading(
        source="call_line:queue:allo-mairie", domain="call_line", metric="callersWaiting", value=3, unit=""
    )
    await ui_server.ingest([waiting])
    fresh = ".tile[data-domain=call_line]:not([data-status=unknown]):not([data-status=stale])"
    await page.wait_for_selector(fresh)
    assert await page.locator(".tile[data-domain=call_line] .stale-note").count() == 0

    # the line reports every few seconds; ten minutes of silence is more than the server's 5 minutes
    await page.clock.fast_forward("10:00")
    await page.wait_for_selector(".tile[data-domain=call_line][data-status=stale] .stale-note")
    # the air feed publishes hourly: the same ten minutes do not make it stale
    await ui_server.ingest([reading(observed_at=(datetime.now(UTC) - timedelta(minutes=50)).isoformat())])
    await page.wait_for_selector(".tile[data-domain=air]:not([data-status=unknown]):not([data-status=stale])")
    await page.close()


async def test_operator_signs_in_and_tiles_fill(browser: Any, ui_server: UiServer, artifacts: Path) -> None:
    page = await browser.new_page(viewport=WALL)
    await page.goto(ui_server.url + "/login.html")
    await page.fill("input[name=username]", "nobody")
    await page.fill("input[name=password]", "wrong password")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#message:has-text('Wrong user name or password')")
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
    marker = ".marker[data-source='air:station:FR-VAL-01']"
    await page.wait_for_selector(f"{marker}[data-status=ok]")
    await page.click(marker)
    details = await page.text_content("#map-details")
    assert details is not None and "pm10" in details and "Valmont Centre" in details, details
    await page.click("#map-details .close")
    await page.wait_for_selector("#map-details", state="hidden")
    # nothing scrolls at 1920x1080
    overflow = await page.evaluate(NO_SCROLL)
    assert overflow == [False, False]
    await page.screenshot(path=str(artifacts / "wall-1920x1080.png"))
    await page.set_viewport_size({"width": 3840, "height": 2160})
    assert await page.evaluate(NO_SCROLL) == [False, False]
    await page.screenshot(path=str(artifacts / "wall-3840x2160.png"))


def atmo_peak(insee: str = "21999", zone: str = "valmont-centre") -> dict[str, Any]:
    """An ATMO index of 5 ("very bad"): the shipped rule raises a critical alert at once."""
    return reading(source=f"air:atmo:{insee}", metric="atmoIndex", value=5.0, unit="", zone=zone)


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
    assert await operator.text_content(f"{row} .zone") == "Valmont Centre"  # name from zones.geojson
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


async def test_server_restart_shows_reconnecting_then_resumes_from_the_cursor(
    browser: Any, ui_server: UiServer, artifacts: Path
) -> None:
    # kiosk set-up: the screen link carries a screen token; the page keeps it and hides it from the URL
    screen = ui_server.token(TokenKind.SCREEN)
    page = await browser.new_page(viewport=WALL)
    await page.goto(f"{ui_server.url}/?token={screen}")
    await page.wait_for_selector("#connection[data-status=live]")
    assert "token" not in page.url
    assert await page.evaluate("localStorage.getItem('hv_token')") == screen
    await ui_server.ingest(world_readings(datetime.now(UTC)))
    await ui_server.ingest([atmo_peak()])
    await page.wait_for_selector(".alert[data-state=firing]:has-text('air:atmo:21999')")
    before = await page.evaluate("window.hv.connection.cursor")

    await ui_server.stop()
    await page.wait_for_selector("#connection[data-status=reconnecting]")
    assert "reconnecting" in (await page.text_content("#connection") or "")
    await page.screenshot(path=str(artifacts / "wall-reconnecting-1920x1080.png"))
    # while the screen is cut off, a reading that raises an alert reaches the bus (same Redis)
    await ui_server.runtime.ingestor.accept([Reading.model_validate(atmo_peak("21998", "valmont-nord"))])

    await ui_server.start()
    await page.wait_for_selector("#connection[data-status=live]", timeout=20_000)
    await page.wait_for_selector(".alert[data-state=firing]:has-text('air:atmo:21998')")
    # it resumed from its cursor (a replay, not a fresh snapshot) ...
    assert await page.evaluate("window.hv.connection.starts") == ["snapshot", "replay"]
    after = await page.evaluate("window.hv.connection.cursor")
    assert after != before
    # ... and nothing is shown twice: each logbook line and alert once
    seqs = await page.evaluate("window.hv.store.logbook.map((e) => e.seq)")
    assert len(seqs) == len(set(seqs)) and len(seqs) >= 2, seqs
    ids = await page.locator(".alert").evaluate_all("rows => rows.map((r) => r.dataset.alert)")
    assert len(ids) == len(set(ids)), ids
