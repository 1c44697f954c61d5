"""A sample round before it is written: plain Python values, and the real computation run on them.

`Draft` holds everything a workspace will contain. `evaluate_draft` runs the
round through the core's own intake checks (`scoring.intake`, the functions
`flows.intake.load_workspace` calls once it has read the files) and
`scoring.pipeline.evaluate_round`, so a draw is judged by exactly what
`rounds run` will compute. `Sampler` is how one programme's sample differs from
the common part.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import pandas as pd

from flows.sample.people import Namer
from flows.workspace import load_programme
from scoring import columns as C
from scoring.intake import parse_excluded_products, parse_experts, parse_prior_awards, parse_submissions
from scoring.intake_scores import parse_scores
from scoring.pipeline import RoundResult, evaluate_round
from scoring.rules import Programme, RoundConfig, parse_round_config


@dataclass(frozen=True)
class EarlierAward:
    """A project paid by an earlier round of the same sample set, as the awards ledger will show it.

    A later round's sample re-submits it (the same applicant and title), so the
    run shows 就高不重复 across programmes through the ledger under ROUNDS_HOME.
    """

    round_id: str
    submission_id: str
    programme_name: str
    year: int
    applicant: dict
    title: str
    amount_yuan: int

    def as_prior_award(self) -> dict:
        """The row `scoring.ledger_rules.prior_awards` makes of it for a later round."""
        return {
            C.CREDIT_CODE: self.applicant[C.CREDIT_CODE], C.PROJECT_TITLE: self.title,
            C.POLICY: f"{self.programme_name} {self.year}", C.AMOUNT_YUAN: self.amount_yuan, C.YEAR: self.year,
        }


@dataclass
class Draft:
    """Everything a sample round holds, as plain Python values; rendered by `render_files`."""

    programme: Programme
    config: dict
    submissions: list[dict]
    experts: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)          # expert_id, submission_id, criterion, score (Decimal)
    prior_awards: list[dict] = field(default_factory=list)
    excluded_products: list[dict] = field(default_factory=list)
    intended: dict[str, str] = field(default_factory=dict)   # submission_id -> intended ineligible reason code
    expected: dict[str, str] = field(default_factory=dict)   # submission_id -> another reason code it must show
    reserved: set[str] = field(default_factory=set)          # rows a programme's intended cases depend on
    topup_id: str | None = None                              # the project with a prior award in references/
    ledger_prior: list[dict] = field(default_factory=list)   # what the awards ledger will show (never written)
    from_ledger: dict[str, str] = field(default_factory=dict)  # submission_id -> round that paid it before

    @property
    def year(self) -> int:
        return int(self.config["year"])

    @property
    def scored(self) -> bool:
        return self.programme.kind in ("scored", "composite")

    def set_overrides(self, **tables: dict) -> None:
        """Round overrides (e.g. award={"budget_yuan": ...}) into round.toml."""
        self.config.setdefault("overrides", {}).update(tables)

    def rules(self) -> Programme:
        """The programme as the round applies it: with round.toml's overrides merged."""
        overrides = self.config.get("overrides")
        if not overrides:
            return self.programme
        return load_programme(self.programme.id, overrides, source="sample round.toml")

    def row(self, submission_id: str) -> dict:
        return next(r for r in self.submissions if r[C.SUBMISSION_ID] == submission_id)

    def protect(self, *rows: dict) -> None:
        """Keep these rows out of the common ineligible cases and later edits."""
        self.reserved.update(r[C.SUBMISSION_ID] for r in rows)


class Redraw(Exception):
    """A draw that cannot hold a programme's intended cases (too few suitable rows): draw again."""


def pick_rows(rng: random.Random, draft: Draft, k: int, *, alone: bool = False) -> list[dict]:
    """k distinct rows for a programme's intended cases, never the last submitted (it may be made late).

    `alone`: only rows whose applicant has no other application, so that a case
    built on them is not changed by the applicant's other rows.
    """
    rows = draft.submissions[:-1]
    codes = [r[C.CREDIT_CODE] for r in draft.submissions]
    free = [r for r in rows if r[C.SUBMISSION_ID] not in draft.reserved
            and (not alone or codes.count(r[C.CREDIT_CODE]) == 1)]
    if len(free) < k:
        raise Redraw(f"{k} rows wanted, {len(free)} free")
    picked = rng.sample(free, k)
    draft.protect(*picked)
    return picked


def _no_references(rng: random.Random, draft: Draft) -> None:
    return None


def _nothing_more(draft: Draft, result: RoundResult) -> bool:
    return True


@dataclass(frozen=True)
class Sampler:
    """How one programme's sample data differs from the common part."""

    prefix: str                                                  # submission_id prefix, "SC" → SC2026-001
    fill: Callable[[random.Random, Draft], None]                 # titles, programme columns, its intended cases
    shows: Callable[[Draft, RoundResult], bool] = _nothing_more  # what a good draw shows beyond the intended codes
    references: Callable[[random.Random, Draft], None] = _no_references   # references/*.csv rows
    finish: Callable[[random.Random, Draft, RoundResult], None] | None = None  # after a good first evaluation
    sizes: tuple[int, int] = (30, 60)                            # applications drawn when no size is given
    ineligible: tuple[str, ...] | None = None                    # common failures; None: 3–5 drawn
    namer: Namer | None = None                                   # applicant names; None: technology companies
    repeat_rate: float = 0.08                                    # chance that a row is another of an applicant's
    title_suffix: str = ""                                       # round title: "<year>年度<programme name><suffix>"
    plain_seed: bool = False                                     # seed the generator with the bare integer

    def rng(self, programme_id: str, seed: int) -> random.Random:
        """The draw's generator. Mixing the programme id into the seed keeps the programmes of one
        sample set from drawing the same enterprises; scenario keeps its bare integer seeds, so its
        samples are the ones written before other programmes had samplers."""
        return random.Random(seed if self.plain_seed else f"{programme_id}/{seed}")


# --- the real computation on a draft ------------------------------------------------------------


def text(value: object) -> str:
    """A cell as the intake sees it once read from a file."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)


def _raw(records: list[dict], columns: list[str] | tuple[str, ...], label: str) -> pd.DataFrame:
    """A table as `flows.intake` hands it to the core: stripped strings, `_file`, `_row`."""
    raw = pd.DataFrame({c: pd.Series([text(r.get(c)) for r in records], dtype=object) for c in columns})
    raw[C.SOURCE_FILE] = pd.Series([label] * len(records), dtype=object)
    raw[C.SOURCE_ROW] = pd.Series(range(2, len(records) + 2), dtype="int64")
    raw.attrs["file"] = label
    return raw


def submission_columns(programme: Programme) -> list[str]:
    return [*C.SUBMISSION_COLUMNS, *(c.id for c in programme.columns)]


def evaluate_draft(draft: Draft) -> RoundResult:
    """The real round computation on a draft, through the core's own intake checks.

    The awards ledger of a fresh ROUNDS_HOME is empty; a draft that re-submits a
    project of an earlier round of its set (`ledger_prior`) is evaluated with the
    rows the ledger will hold by then, which is what its run will see.
    """
    programme = draft.rules()
    config: RoundConfig = parse_round_config(draft.config, "round.toml")
    subs = parse_submissions(_raw(draft.submissions, submission_columns(programme), "submissions.xlsx"), programme)
    experts = parse_experts(_raw(draft.experts, C.EXPERT_COLUMNS, "experts.xlsx"))
    sheets = [
        _raw([s for s in draft.scores if s[C.EXPERT_ID] == e[C.EXPERT_ID]], C.SCORE_COLUMNS, f"scores/{e[C.EXPERT_ID]}.csv")
        for e in draft.experts
    ]
    scores = parse_scores(sheets, programme, subs, experts)
    return evaluate_round(
        submissions=subs,
        scores=scores,
        programme=programme,
        config=config,
        excluded_products=parse_excluded_products(
            _raw(draft.excluded_products, C.EXCLUDED_PRODUCT_COLUMNS, "references/excluded_products.csv")),
        prior_awards=parse_prior_awards(
            _raw(draft.prior_awards + draft.ledger_prior, C.PRIOR_AWARD_COLUMNS, "references/prior_awards.csv")),
    )


def shows_intended(draft: Draft, result: RoundResult) -> bool:
    """Every intended ineligible case and every expected reason code is what the round computes."""
    r = result.ranking
    codes = dict(zip(r[C.SUBMISSION_ID], r[C.REASON_CODE]))
    return (
        all(codes[sid] == code for sid, code in draft.intended.items())
        and int((r[C.OUTCOME] == C.INELIGIBLE).sum()) == len(draft.intended)
        and all(codes[sid] == code for sid, code in draft.expected.items())
    )


def by_id(result: RoundResult) -> pd.DataFrame:
    return result.ranking.set_index(C.SUBMISSION_ID)


def count(result: RoundResult, *, outcome: str | None = None, code: str | None = None) -> int:
    r = result.ranking
    mask = pd.Series(True, index=r.index)
    if outcome is not None:
        mask &= r[C.OUTCOME] == outcome
    if code is not None:
        mask &= r[C.REASON_CODE] == code
    return int(mask.sum())


def capped_at(result: RoundResult, column: str, cap: int) -> bool:
    """Some selected application asked for more than `cap` and was paid exactly `cap`."""
    r = result.ranking
    sel = r[(r[C.OUTCOME] == C.SELECTED) & (r[C.REASON_CODE] == "")]
    return bool(((sel[column].astype("int64") > cap) & (sel[C.AMOUNT_YUAN] == cap)).any())
