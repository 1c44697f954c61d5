"""Tie notes of the ranking: the vectorised notes equal the row-by-row rule they replaced."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.ranking import TIE_GROUP, TIE_NOTE, TieDecision, rank_applications
from scoring.rules import parse_programme

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = parse_programme(
    tomllib.loads((ROOT / "data/programmes/scenario.toml").read_text(encoding="utf-8")), "scenario.toml"
)


def notes_row_by_row(out: pd.DataFrame, tb: list[str], names: dict[str, str], decided: list[str]) -> list[str]:
    """The original loop: one row at a time, first differing criterion, then time, else tied."""
    notes = list(decided)
    for i in range(1, len(out)):
        if out[C.SCORE_CENTS].iat[i] != out[C.SCORE_CENTS].iat[i - 1] or notes[i]:
            continue
        prev = out[C.SUBMISSION_ID].iat[i - 1]
        g = out[TIE_GROUP].iat[i]
        if g != -1 and g == out[TIE_GROUP].iat[i - 1]:
            notes[i] = f"与{prev}各项得分及提交时间均相同，并列"
            continue
        for c in tb:
            if out[c].iat[i] != out[c].iat[i - 1]:
                notes[i] = f"与{prev}总分相同，按“{names[c]}”得分排在其后"
                break
        else:
            if out[C.SUBMITTED_AT].iat[i] != out[C.SUBMITTED_AT].iat[i - 1]:
                notes[i] = f"与{prev}总分及各项得分相同，按提交时间排在其后"
    return notes


def random_panel(n: int, seed: int) -> pd.DataFrame:
    """Few distinct values per key, so every kind of tie (and full ties) occurs many times."""
    rng = np.random.default_rng(seed)
    tb = list(PROGRAMME.scoring.tie_break)
    frame = pd.DataFrame({
        C.SUBMISSION_ID: [f"S{i:04d}" for i in rng.permutation(n)],
        C.SCORE_CENTS: rng.integers(7000, 7006, n),
        C.SUBMITTED_AT: pd.Timestamp("2026-07-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="h"),
    })
    for c in tb:
        frame[c] = rng.integers(0, 3, n)
    return frame


def test_notes_equal_the_row_by_row_rule_on_many_ties():
    tb = list(PROGRAMME.scoring.tie_break)
    names = {c.id: c.name for c in PROGRAMME.criteria}
    for seed in range(5):
        panel = random_panel(600, seed)
        out = rank_applications(panel, PROGRAMME)
        expected = notes_row_by_row(out, tb, names, [""] * len(out))
        assert out[TIE_NOTE].tolist() == expected
        kinds = {note[note.index("，") + 1:][:4] if note else "" for note in expected}
        assert len(kinds) >= 3  # criterion, time and full-tie notes all occur


def test_decided_notes_are_kept_and_the_rest_follow_the_rule():
    tb = list(PROGRAMME.scoring.tie_break)
    names = {c.id: c.name for c in PROGRAMME.criteria}
    panel = random_panel(300, 9)
    first = rank_applications(panel, PROGRAMME)
    tied = first[first[TIE_GROUP] != -1].groupby(TIE_GROUP)[C.SUBMISSION_ID].apply(list)
    members = tied.iloc[0]
    decision = TieDecision(order=tuple(reversed(members)), decided_by="李四", reason="现场答辩")
    out = rank_applications(panel, PROGRAMME, {decision.members: decision})
    decided = [n if "李四" in n else "" for n in out[TIE_NOTE]]
    assert sum(bool(d) for d in decided) == len(members)
    assert out[TIE_NOTE].tolist() == notes_row_by_row(out, tb, names, decided)


def test_single_row_and_no_ties():
    one = random_panel(1, 0)
    assert rank_applications(one, PROGRAMME)[TIE_NOTE].tolist() == [""]
    distinct = random_panel(4, 1).assign(**{C.SCORE_CENTS: [7000, 7100, 7200, 7300]})
    assert rank_applications(distinct, PROGRAMME)[TIE_NOTE].tolist() == [""] * 4
