"""Docs that cannot rot: the README's command reference is generated and every name is documented."""
from __future__ import annotations

import argparse
from pathlib import Path

from flows import docs
from flows.cli import build_parser
from flows.workspace import available_programmes, load_programme
from scoring import columns as C

README = Path(__file__).resolve().parents[2] / "README.md"


def test_command_reference_is_up_to_date():
    assert docs.main(["--check"]) == 0, "run `python -m flows.docs`"


def test_every_command_and_environment_variable_is_documented():
    text = README.read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"rounds {name}" in text, name
    for var in ("ROUNDS_SMTP_HOST", "ROUNDS_SMTP_PORT", "ROUNDS_SMTP_USER", "ROUNDS_SMTP_PASSWORD",
                "ROUNDS_SMTP_STARTTLS", "ROUNDS_MAIL_FROM", "ROUNDS_HOME"):
        assert f"`{var}`" in text, var


def test_every_programme_and_its_columns_are_documented():
    text = README.read_text(encoding="utf-8")
    for col in (*C.SUBMISSION_COLUMNS, *C.EXPERT_COLUMNS, *C.SCORE_COLUMNS, *C.RANKING_REQUIRED):
        assert f"`{col}`" in text, col
    for pid in available_programmes():
        prog = load_programme(pid)
        assert f"`{pid}`" in text, pid
        for col in prog.columns:
            assert f"`{col.id}`" in text, f"{pid}.{col.id}"
    for code in C.REASON_CODES:
        assert f"`{code}`" in text, code
