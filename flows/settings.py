"""Settings from the environment, read by the shell when it needs them (never at import)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

PREFECT_QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_CLI_PROMPT": "false",
}


def quiet_prefect(env: dict[str, str] | None = None) -> None:
    """Defaults that keep Prefect quiet and offline; anything the user set wins. Call before importing prefect."""
    target = os.environ if env is None else env
    for key, value in PREFECT_QUIET_DEFAULTS.items():
        target.setdefault(key, value)


def rounds_home(env: Mapping[str, str] | None = None) -> Path:
    """State that spans rounds (the awards ledger): ROUNDS_HOME or a per-user data folder."""
    env = os.environ if env is None else env
    if env.get("ROUNDS_HOME"):
        return Path(env["ROUNDS_HOME"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rounds"


def api_server_configured() -> bool:
    """True when a Prefect server outlives this process (PREFECT_API_URL is set)."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())
