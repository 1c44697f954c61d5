"""The portal's settings: limits, the manager's credentials, where links point.

Read from the environment by the shell when the portal starts (never at import),
and passed to `create_app` as one frozen object so tests can set any limit
and the clock directly.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping

from flows.state import SHANGHAI

Clock = Callable[[], dt.datetime]

MB = 1024 * 1024


def shanghai_now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)


@dataclass(frozen=True)
class PortalSettings:
    """Everything the web app needs besides the workspace.

    - `max_request_bytes`: any request body above it is refused with 413 (a
      score sheet of a few hundred rows is far below 2 MB).
    - `max_unzipped_bytes`, `max_zip_entries`: an uploaded xlsx whose parts add
      up to more, or that has more parts, is refused before anything parses it
      (zip bombs).
    - `failed_limit` failed link or session checks per client address within
      `failed_window` seconds, then 429 until the window has moved on.
    - `manager_password`: HTTP Basic for /manage (any user name; it is recorded
      as the actor). Without it /manage answers only local requests
      (127.0.0.1 or ::1, and no proxy headers).
    - `base_url`: what the links in e-mails start with (the public address
      behind a reverse proxy, including its path prefix).
    - `root_path`: the path prefix a reverse proxy strips (`/portal`).
    """

    base_url: str = "http://127.0.0.1:8765"
    root_path: str = ""
    max_request_bytes: int = 2 * MB
    max_unzipped_bytes: int = 20 * MB
    max_zip_entries: int = 200
    failed_limit: int = 10
    failed_window: float = 600.0
    manager_password: str | None = None
    clock: Clock = field(default=shanghai_now, compare=False)

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure when the public address is https (TLS at the reverse proxy)."""
        return self.base_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values) -> "PortalSettings":
        """Defaults, then ROUNDS_PORTAL_* from the environment, then explicit values."""
        env = os.environ if env is None else env
        found: dict = {}
        if env.get("ROUNDS_PORTAL_MANAGER_PASSWORD"):
            found["manager_password"] = env["ROUNDS_PORTAL_MANAGER_PASSWORD"]
        for name, key, kind in (("max_request_bytes", "ROUNDS_PORTAL_MAX_REQUEST_BYTES", int),
                                ("failed_limit", "ROUNDS_PORTAL_FAILED_LIMIT", int),
                                ("failed_window", "ROUNDS_PORTAL_FAILED_WINDOW", float)):
            if env.get(key):
                try:
                    found[name] = kind(env[key])
                except ValueError:
                    from scoring.errors import ConfigError

                    raise ConfigError(f"{key}={env[key]!r} is not a number") from None
        found.update({k: v for k, v in values.items() if v is not None})
        return cls(**found)
