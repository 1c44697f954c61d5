"""Builders of typed frames for the programme tests (every programme file, not only scenario)."""
from __future__ import annotations

import tomllib
from decimal import Decimal

import pandas as pd

from flows.workspace import PROGRAMMES_DIR
from scoring import columns as C
from scoring.rules import Programme, RoundConfig, merge_overrides, parse_programme
from scoring.uscc import make_uscc


def load(pid: str, **overrides) -> Programme:
    """data/programmes/<pid>.toml with `overrides` deep-merged (as round.toml [overrides] would)."""
    with (PROGRAMMES_DIR / f"{pid}.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return parse_programme(merge_overrides(data, overrides), f"{pid} (test)")


def config(pid: str, year: int = 2026, **kw) -> RoundConfig:
    return RoundConfig(programme=pid, year=year, **kw)


def code(i: int) -> str:
    return make_uscc(f"91350100MB{i:07d}")


def subs(rows: list[dict]) -> pd.DataFrame:
    """One application per dict; the common columns get defaults (S01.., a valid code per row)."""
    out = []
    for i, given in enumerate(rows):
        sid = given.get(C.SUBMISSION_ID, f"S{i + 1:02d}")
        row = {
            C.SUBMISSION_ID: sid,
            C.ENTERPRISE_NAME: f"福州样例{i + 1}科技有限公司",
            C.CREDIT_CODE: code(i + 1),
            C.CONTACT_NAME: "陈明",
            C.CONTACT_EMAIL: f"a{i + 1}@example.cn",
            C.TITLE: f"样例项目{i + 1}",
            C.SUBMITTED_AT: pd.Timestamp("2026-07-01 09:00") + pd.Timedelta(minutes=i),
        }
        row.update(given)
        out.append(row)
    frame = pd.DataFrame(out)
    for col in frame.columns:
        if col.endswith("_on"):
            frame[col] = pd.to_datetime(frame[col])
    return frame


def uniform_scores(prog: Programme, totals: dict[str, list[str]]) -> pd.DataFrame:
    """Each expert's total as given: every criterion scored total% of its max (exact; needs enough decimals)."""
    assert prog.scoring is not None
    unit = 10**prog.scoring.score_decimals
    rows = []
    for sid, experts in totals.items():
        for e, total in enumerate(experts):
            for c in prog.criteria:
                units = c.max_points * Decimal(total) / 100 * unit
                assert units == int(units), f"{total} on {c.id} needs more score decimals"
                rows.append({C.EXPERT_ID: f"E{e + 1}", C.SUBMISSION_ID: sid, C.CRITERION: c.id,
                             C.SCORE_UNITS: int(units)})
    return pd.DataFrame(rows, columns=[C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS])


def no_scores() -> pd.DataFrame:
    return pd.DataFrame(columns=[C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS])


def outcomes(result) -> dict[str, dict]:
    """submission_id → its ranking row."""
    return {r[C.SUBMISSION_ID]: r for r in result.ranking.to_dict("records")}


def prior(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    """(credit_code, project_title, policy, amount_yuan, year) rows as references/prior_awards."""
    return pd.DataFrame(rows, columns=list(C.PRIOR_AWARD_COLUMNS))


def excluded(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """(product_name, enterprise_name, credit_code, level, year) rows as references/excluded_products."""
    return pd.DataFrame(rows, columns=list(C.EXCLUDED_PRODUCT_COLUMNS))
