"""The team view on a phone: a dispatched task arrives without reload and is completed there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.simulator.world import world_readings
from hypervision.models.user import Role
from tests.ui.conftest import UiServer

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

NOTIFICATION_RECORDER = """
window.shown = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.shown.push({title, body: options?.body}); }
};
"""


async def team_page(browser: Any, server: UiServer, team: str) -> Any:
    context = await browser.new_context(**PHONE)
    # Headless chromium has no notification centre: record what the page asks the Notification API
    # to show, with the permission already granted.
    await context.add_init_script(NOTIFICATION_RECORDER)
    page = await context.new_page()
    await server.sign_in(page, "/team", Role.TEAM, teams=[team])
    return page


async def dispatch(server: UiServer, manager_token: str, **task: Any) -> dict[str, Any]:
    async with server.client(manager_token) as client:
        response = await client.post("/api/tasks", json=task)
        assert response.status_code == 201, response.text
        return dict(response.json())


async def test_dispatched_task_reaches_the_team_page_and_is_done_there(
    browser: Any, ui_server: UiServer, artifacts: Path
) -> None:
    page = await team_page(browser, ui_server, "helpline")
    assert "No task" in (await page.text_content("#tasks") or "")
    wall = await browser.new_page(viewport={"width": 1920, "height": 1080})
    await ui_server.sign_in(wall, "/", Role.OPERATOR)
    await ui_server.ingest(world_readings(datetime.now(UTC)))
    manager = await ui_server.login(*ui_server.user(Role.MANAGER))
    now = datetime.now(UTC)
    overdue = await dispatch(
        ui_server,
        manager,
        team="helpline",
        title="Rappeler les appelants en attente",
        due_at=(now - timedelta(minutes=20)).isoformat(),
        priority="critical",
    )
    task = await dispatch(
        ui_server,
        manager,
        team="helpline",
        title="Renfort de deux agents à l'accueil téléphonique",
        details="Ouvrir la salle B, postes 3 et 4",
        zone="valmont-centre",
        due_in_s=3600,
    )
    other = await dispatch(ui_server, manager, team="mask_drive", title="Réassort gymnase sud")

    card = f".card[data-task='{task['id']}']"
    await page.wait_for_selector(f"{card}[data-state=open]")
    late = f".card[data-task='{overdue['id']}']"
    await page.wait_for_selector(f"{late}.overdue")
    assert "overdue" in (await page.text_content(f"{late} .due") or "")
    shown = await page.evaluate("window.shown")
    assert {"title": f"New task: {task['title']}", "body": "Valmont Centre"} in shown, shown
    # another team's task never reaches this page
    assert await page.locator(f".card[data-task='{other['id']}']").count() == 0
    # the most urgent (overdue) card comes first
    assert await page.locator(".card").first.get_attribute("data-task") == str(overdue["id"])
    await page.screenshot(path=str(artifacts / "team-phone-390x844.png"), full_page=True)
    # the wall's board shows the same tasks, by team
    await wall.wait_for_selector(f".team-column[data-team=helpline] .task[data-task='{task['id']}']")
    await wall.wait_for_selector(f".team-column[data-team=mask_drive] .task[data-task='{other['id']}']")
    await wall.wait_for_selector(f".task[data-task='{overdue['id']}'].overdue")

    await page.click(f"{card} .move-accept")
    await page.wait_for_selector(f"{card}[data-state=accepted]")
    await page.click(f"{card} .move-start")
    await page.wait_for_selector(f"{card}[data-state=in_progress]")
    await page.click(f"{card} .comment")
    await page.fill("dialog.comment-dialog textarea", "Deux agents en place")
    await page.click("dialog.comment-dialog button[type=submit]")
    await page.wait_for_selector("dialog.comment-dialog", state="detached")
    await page.click(f"{card} .move-complete")
    await page.wait_for_selector(f"{card}[data-state=done]")
    await wall.wait_for_selector(f".task[data-task='{task['id']}'][data-state=done]")
    await wall.wait_for_selector(".log:has-text('Deux agents en place'), .log:has-text('done')")
    await wall.screenshot(path=str(artifacts / "wall-tasks-1920x1080.png"))

    async with ui_server.client(manager) as client:
        detail = (await client.get(f"/api/tasks/{task['id']}")).json()
    assert detail["state"] == "done"
    assert detail["assignee"] is not None
    assert any(h.get("comment") == "Deux agents en place" for h in detail["history"]), detail["history"]
