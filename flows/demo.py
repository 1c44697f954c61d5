"""`rounds demo`: a generated sample round, run end to end with an embedded mail catcher.

Nothing to install or configure: the sample workspace is written to a folder
(./demo-round by default, replaced on each demo), the notices go over real SMTP
to an aiosmtpd catcher on 127.0.0.1 that keeps every message under the round's
out/mail/, and the awards state lives in the demo folder, not the user's.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from scoring.errors import ConfigError

MARKER = ".rounds-demo"


def _fresh_folder(folder: Path) -> Path:
    folder = folder.expanduser().resolve()
    if folder.exists():
        if not (folder / MARKER).exists() and any(folder.iterdir()):
            raise ConfigError(f"{folder}: exists and is not a demo folder; choose another with --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("written by `rounds demo`; replaced on each demo\n", encoding="utf-8")
    return folder


def run_demo(folder: Path, seed: int = 7) -> int:
    from flows import report
    from flows.sample import write_sample_round
    from notices.catcher import MailCatcher

    base = _fresh_folder(folder)
    os.environ.setdefault("ROUNDS_HOME", str(base / "rounds-home"))
    info = write_sample_round(base / "scenario-2026", programme="scenario", year=2026, seed=seed)
    root = Path(info.root)
    print(f"Sample round written to {root} ({info.n_applications} applications, {info.n_experts} experts).")

    from flows.round_flow import run_round

    with MailCatcher(root / "out" / "mail") as catcher:
        os.environ.update(
            ROUNDS_SMTP_HOST="127.0.0.1",
            ROUNDS_SMTP_PORT=str(catcher.port),
            ROUNDS_SMTP_STARTTLS="false",
            ROUNDS_MAIL_FROM="福州市工业和信息化局 <rounds-demo@gxj.fuzhou.example.cn>",
        )
        for key in ("ROUNDS_SMTP_USER", "ROUNDS_SMTP_PASSWORD"):
            os.environ.pop(key, None)
        print(f"Mail catcher listening on 127.0.0.1:{catcher.port}; running the round (approval recorded as 'demo')…\n")
        result = run_round(str(root), approve_as="demo", comment="rounds demo")
        received = len(catcher.messages())
    code = report.print_run(result)
    print(f"\nThe mail catcher received {received} notices: {root / 'out' / 'mail'}")
    print(f"Run it again without sending anything twice: rounds run {root} --approve-as demo")
    return code
