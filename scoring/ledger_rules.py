"""The awards ledger's rules, without the database: what is recorded and what is read back.

The ledger (kept by `flows.ledger` in ROUNDS_HOME/ledger.sqlite) holds every final
award of every round, one row per (round_id, submission_id). Two things are read
back into later rounds:

* prior awards for 就高不重复: every award of *another* round for a year up to
  this round's year, as rows shaped like references/prior_awards (credit_code,
  project_title, policy = "<programme name> <year>", amount_yuan, year), so the
  same matching (credit code + near-identical name) applies to both sources;
* what an enterprise already received this year under the programmes its annual
  cap covers (the programme itself and `award.enterprise_cap_programmes`).

A round never reads its own rows: rerunning a round gives the same result
whether or not it was recorded before.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from scoring import columns as C
from scoring.rules import Programme, RoundConfig

ROUND_ID = "round_id"
PROGRAMME = "programme"
PROGRAMME_NAME = "programme_name"

LEDGER_COLUMNS: tuple[str, ...] = (
    ROUND_ID,
    C.SUBMISSION_ID,
    PROGRAMME,
    PROGRAMME_NAME,
    C.YEAR,
    C.CREDIT_CODE,
    C.ENTERPRISE_NAME,
    C.TITLE,
    C.PROJECT_TITLE,
    C.AMOUNT_YUAN,
    C.REASON_CODE,
)


def empty_ledger() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c in (C.YEAR, C.AMOUNT_YUAN) else object)
                         for c in LEDGER_COLUMNS})


def award_rows(ranking: pd.DataFrame, programme: Programme, config: RoundConfig) -> pd.DataFrame:
    """The rows a final ranking adds to the ledger: every selected application with money, by id."""
    paid = ranking[(ranking[C.OUTCOME] == C.SELECTED) & (ranking[C.AMOUNT_YUAN] > 0)]
    paid = paid.sort_values(C.SUBMISSION_ID, kind="stable")
    name_col = programme.award.project_column
    out = pd.DataFrame(
        {
            ROUND_ID: config.round_id,
            C.SUBMISSION_ID: paid[C.SUBMISSION_ID].astype(str).to_numpy(),
            PROGRAMME: programme.id,
            PROGRAMME_NAME: programme.name,
            C.YEAR: config.year,
            C.CREDIT_CODE: paid[C.CREDIT_CODE].astype(str).to_numpy(),
            C.ENTERPRISE_NAME: paid[C.ENTERPRISE_NAME].astype(str).to_numpy(),
            C.TITLE: paid[C.TITLE].astype(str).to_numpy(),
            C.PROJECT_TITLE: paid[name_col].astype(str).to_numpy(),
            C.AMOUNT_YUAN: paid[C.AMOUNT_YUAN].astype("int64").to_numpy(),
            C.REASON_CODE: paid[C.REASON_CODE].astype(str).to_numpy(),
        },
        columns=list(LEDGER_COLUMNS),
    )
    return out.astype({C.YEAR: "int64", C.AMOUNT_YUAN: "int64"}).reset_index(drop=True)


@dataclass(frozen=True)
class Changes:
    """How a round's recorded awards differ from a new set (by submission_id)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def none(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def describe(self) -> str:
        parts = []
        for label, ids in (("added", self.added), ("removed", self.removed), ("changed", self.changed)):
            if ids:
                parts.append(f"{label}: {', '.join(ids)}")
        return "; ".join(parts) or "no change"


def compare(old: pd.DataFrame, new: pd.DataFrame) -> Changes:
    """Rows added, removed or changed (any recorded field) between two sets of one round's awards."""
    def keyed(frame: pd.DataFrame) -> dict[str, tuple]:
        cols = [c for c in LEDGER_COLUMNS if c != C.SUBMISSION_ID]
        return {str(r[C.SUBMISSION_ID]): tuple(str(r[c]) for c in cols) for r in frame.to_dict("records")}

    a, b = keyed(old), keyed(new)
    return Changes(
        added=tuple(sorted(set(b) - set(a))),
        removed=tuple(sorted(set(a) - set(b))),
        changed=tuple(sorted(k for k in set(a) & set(b) if a[k] != b[k])),
    )


def prior_awards(ledger: pd.DataFrame, config: RoundConfig) -> pd.DataFrame:
    """Awards of other rounds up to this round's year, shaped like references/prior_awards."""
    rows = ledger[(ledger[ROUND_ID] != config.round_id) & (ledger[C.YEAR].astype("int64") <= config.year)]
    rows = rows.sort_values([C.YEAR, ROUND_ID, C.SUBMISSION_ID], kind="stable")
    out = pd.DataFrame(
        {
            C.CREDIT_CODE: rows[C.CREDIT_CODE].astype(str).to_numpy(),
            C.PROJECT_TITLE: rows[C.PROJECT_TITLE].astype(str).to_numpy(),
            C.POLICY: [f"{n} {y}" for n, y in zip(rows[PROGRAMME_NAME], rows[C.YEAR])],
            C.AMOUNT_YUAN: rows[C.AMOUNT_YUAN].astype("int64").to_numpy(),
            C.YEAR: rows[C.YEAR].astype("int64").to_numpy(),
        },
        columns=list(C.PRIOR_AWARD_COLUMNS),
    )
    return out.astype({C.AMOUNT_YUAN: "int64", C.YEAR: "int64"}).reset_index(drop=True)


def combine_prior_awards(*frames: pd.DataFrame | None) -> pd.DataFrame:
    """references/prior_awards (paid elsewhere) and the ledger's prior awards (paid by rounds) as one table.

    Exact duplicate rows are kept once, so a manager who also copies a ledger row
    into the reference file does not double the money deducted.
    """
    parts = [f[list(C.PRIOR_AWARD_COLUMNS)] for f in frames if f is not None and len(f)]
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c in (C.AMOUNT_YUAN, C.YEAR) else object)
                             for c in C.PRIOR_AWARD_COLUMNS})
    out = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    return out.astype({C.AMOUNT_YUAN: "int64", C.YEAR: "int64"})


def cap_programmes(programme: Programme) -> tuple[str, ...]:
    """The programmes whose awards in a year count towards this programme's per-enterprise cap."""
    return tuple(dict.fromkeys((programme.id, *programme.award.enterprise_cap_programmes)))


def enterprise_awarded(ledger: pd.DataFrame, config: RoundConfig, programme: Programme) -> dict[str, int]:
    """credit code → yuan already received this year, in other rounds, under the programmes of the cap."""
    if programme.award.enterprise_cap_yuan is None or ledger.empty:
        return {}
    rows = ledger[
        (ledger[ROUND_ID] != config.round_id)
        & (ledger[C.YEAR].astype("int64") == config.year)
        & ledger[PROGRAMME].isin(cap_programmes(programme))
    ]
    totals = rows.groupby(C.CREDIT_CODE, sort=True)[C.AMOUNT_YUAN].sum()
    return {str(k): int(v) for k, v in totals.items()}
