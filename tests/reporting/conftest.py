"""Fixtures of the reporting tests."""

from __future__ import annotations

import pytest

from tests.reporting.synthetic import make_synthetic_run


@pytest.fixture
def synthetic_run() -> dict:
    """A two-pair run with hand-checkable fills, an equity curve and a 4-symbol universe."""
    return make_synthetic_run()
