"""Test settings shared by every layer.

Prefect: one session-wide `prefect_test_harness`, started only by tests that
run flows (the `prefect_harness` fixture), with analytics off and a private
PREFECT_HOME. Every test gets its own ROUNDS_HOME so no state leaks between
tests or into the user's folder.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="rounds-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
for _var in ("ROUNDS_SMTP_HOST", "ROUNDS_SMTP_PORT", "ROUNDS_SMTP_USER", "ROUNDS_SMTP_PASSWORD",
             "ROUNDS_SMTP_STARTTLS", "ROUNDS_MAIL_FROM"):
    os.environ.pop(_var, None)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _rounds_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("rounds-home")
    monkeypatch.setenv("ROUNDS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def scenario():
    from flows.workspace import load_programme

    return load_programme("scenario")
