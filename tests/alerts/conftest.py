"""Fixtures of the rules tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.alerts.rulekit import Driver, engine_for


@pytest.fixture
def driver_for() -> Any:
    return lambda text: Driver(engine_for(text))
