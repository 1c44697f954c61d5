"""Browser tests need Debian's `chromium` and a CJK font (fonts-noto-cjk).

The session fixture installs them with `make browser-deps` when they are missing
(as root, which CI and the developers' machines are); set
ROUNDS_BROWSER_INSTALL=0 to never install. Where they still cannot be had the
tests are skipped with the reason, visible in pytest's summary (-ra).
ROUNDS_BROWSER_ARTIFACTS=DIR keeps the screenshots and PDFs there for a look.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.round_report import chromium_binary

REPO = Path(__file__).resolve().parents[2]


def _missing() -> list[str]:
    missing = []
    if chromium_binary() is None:
        missing.append("chromium")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False) \
        if shutil.which("fc-list") else None
    if fonts is None or not fonts.stdout.strip():
        missing.append("a CJK font (fonts-noto-cjk)")
    return missing


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        import PIL  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Pillow: pip install -e '.[test]'")
    missing = _missing()
    note = ""
    if missing and os.environ.get("ROUNDS_BROWSER_INSTALL", "1") != "0" and shutil.which("make"):
        done = subprocess.run(["make", "-s", "browser-deps"], cwd=REPO, capture_output=True, text=True,
                              timeout=900, check=False)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:]
        if done.returncode and last:
            note = f" (make browser-deps failed: {last[0]})"
        missing = _missing()
    if missing:
        pytest.skip(f"browser tests need {' and '.join(missing)}{note}; install them with `make browser-deps` as root")
    binary = chromium_binary()
    assert binary is not None
    return binary


@pytest.fixture
def artifacts(tmp_path, request) -> Path:
    """Where a test writes its screenshots; copied to ROUNDS_BROWSER_ARTIFACTS when set."""
    folder = tmp_path / "shots"
    folder.mkdir()
    yield folder
    keep = os.environ.get("ROUNDS_BROWSER_ARTIFACTS")
    if keep:
        dst = Path(keep) / request.node.name
        shutil.copytree(folder, dst, dirs_exist_ok=True)
