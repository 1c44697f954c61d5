"""Small builders of typed frames for unit tests of the pure core (no files)."""
from __future__ import annotations

import tomllib
from decimal import Decimal

import pandas as pd

from flows.workspace import PROGRAMMES_DIR
from scoring.rules import Programme, RoundConfig, merge_overrides, parse_programme
from scoring.uscc import make_uscc


def programme(**overrides) -> Programme:
    with (PROGRAMMES_DIR / "scenario.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return parse_programme(merge_overrides(data, overrides), "test")


def two_criteria(**overrides) -> Programme:
    """quality 60 + impact 40 (max 10 each), tie-break impact then quality."""
    base = {
        "criteria": [
            {"id": "quality", "name": "质量", "weight": 60, "max": 10},
            {"id": "impact", "name": "影响", "weight": 40, "max": 10},
        ],
        "scoring": {"tie_break": ["impact", "quality"], "score_decimals": 4},
    }
    return programme(**merge_overrides(base, overrides))


def config(**kw) -> RoundConfig:
    return RoundConfig(programme="scenario", year=2026, **kw)


def code(i: int) -> str:
    return make_uscc(f"91350100MA{i:07d}")


def submissions(n: int, **per_row) -> pd.DataFrame:
    rows = []
    for i in range(n):
        sid = f"S{i + 1:02d}"
        row = {
            "submission_id": sid,
            "enterprise_name": f"福州测试{i + 1}科技有限公司",
            "credit_code": code(i + 1),
            "contact_name": "王五",
            "contact_email": f"s{i + 1}@example.cn",
            "title": f"测试项目{i + 1}",
            "submitted_at": pd.Timestamp("2026-07-01 09:00") + pd.Timedelta(minutes=i),
            "category": "scenario",
            "district": "鼓楼区",
        }
        for col, values in per_row.items():
            if sid in values:
                row[col] = values[sid]
        rows.append(row)
    return pd.DataFrame(rows)


def scores(table: dict[str, list[dict[str, str]]], decimals: int = 4) -> pd.DataFrame:
    """{submission_id: [ {criterion: "score", ...} per expert ]} → long frame with exact units."""
    rows = []
    for sid, experts in table.items():
        for e, crit in enumerate(experts):
            for cid, value in crit.items():
                units = Decimal(value) * (10**decimals)
                assert units == int(units)
                rows.append({"expert_id": f"E{e + 1}", "submission_id": sid, "criterion": cid, "score_units": int(units)})
    return pd.DataFrame(rows)


def uniform(sid_totals: dict[str, list[str]]) -> pd.DataFrame:
    """Scores giving each expert the stated total with two_criteria(): quality = impact = total/10."""
    table = {}
    for sid, totals in sid_totals.items():
        table[sid] = [{"quality": str(Decimal(t) / 10), "impact": str(Decimal(t) / 10)} for t in totals]
    return scores(table, decimals=4)
