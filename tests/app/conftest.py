"""AppTest runs of the dashboard show full error details: the served app redacts them for web
users (.streamlit/config.toml), but a failing test should say what failed."""

from __future__ import annotations

import pytest
from streamlit import config


@pytest.fixture(autouse=True, scope="session")
def _full_error_details():
    config.set_option("client.showErrorDetails", "full")
    yield
