from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from notices.catcher import MailCatcher

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def catcher(tmp_path, monkeypatch):
    with MailCatcher(tmp_path / "mailbox") as c:
        monkeypatch.setenv("ROUNDS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROUNDS_SMTP_PORT", str(c.port))
        monkeypatch.setenv("ROUNDS_MAIL_FROM", "福州市工业和信息化局 <noreply@gxj.example.cn>")
        yield c


@pytest.fixture
def handwritten(tmp_path) -> Path:
    dst = tmp_path / "round"
    shutil.copytree(FIXTURES / "handwritten-scenario", dst)
    return dst
