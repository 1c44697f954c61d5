"""The whole computation of a round, as one pure function of its inputs.

`evaluate_round` takes typed frames (from intake), the frozen rules and the
recorded decisions, and returns the ranking with an outcome, amount and reason
for every application. Same inputs → same frame, byte for byte once written.

By the programme's kind:
* "scored": expert panel score → rank → caps;
* "composite" (platform): panel score and service indicators → composite →
  grade (`scoring.composite`) → rank → caps;
* "filing" and "claim": no experts; every eligible application in paying
  order (`scoring.filings`) → caps; a filing of a model filed twice is paid once.

State that spans rounds arrives as data: `prior_awards` (the reference file and
the awards ledger, combined by the shell) and `enterprise_awarded` (what each
enterprise already received this year in the programmes its cap covers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring import composite
from scoring.aggregation import TOTAL_NUM, format_cents, score_panels
from scoring.caps import PRIOR_NOTE, PRIOR_YUAN, apply_caps
from scoring.eligibility import ReviewContext, review
from scoring.errors import ConfigError, InputError, Problem
from scoring.filings import mark_same_model, order_claims
from scoring.ranking import ORDER, TIE_NOTE, TieDecision, rank_applications
from scoring.rules import Programme, RoundConfig
from scoring.similarity import match_by_code_and_name


@dataclass(frozen=True)
class RoundResult:
    ranking: pd.DataFrame                 # one row per application, the columns of out/ranking.csv
    expert_totals: pd.DataFrame           # one row per (application, expert)
    review: pd.DataFrame                  # formal review per application
    prior_matches: pd.DataFrame = field(default_factory=pd.DataFrame)


def extra_columns(programme: Programme) -> list[str]:
    return composite.output_columns(programme) if programme.kind == "composite" else []


def output_columns(programme: Programme) -> list[str]:
    return [
        C.SUBMISSION_ID,
        C.ENTERPRISE_NAME,
        C.CREDIT_CODE,
        C.TITLE,
        *(c.id for c in programme.columns),
        C.N_EXPERTS,
        C.SCORE,
        C.RANK,
        C.OUTCOME,
        C.AMOUNT_YUAN,
        C.REASON_CODE,
        C.REASON,
        *extra_columns(programme),
        TIE_NOTE,
    ]


def match_prior_awards(
    subs: pd.DataFrame, prior: pd.DataFrame | None, threshold: float, name_column: str = C.TITLE
) -> pd.DataFrame:
    """Money already received for the same project (same credit code, near-identical name).

    `name_column` is the programme's `award.project_column` (the title, or e.g.
    the model name). Returns per matched submission: prior_yuan (sum received)
    and prior_note (what and when).
    """
    empty = pd.DataFrame(columns=[C.SUBMISSION_ID, PRIOR_YUAN, PRIOR_NOTE, "matched"])
    if prior is None or prior.empty or subs.empty:
        return empty
    pairs = match_by_code_and_name(subs, C.CREDIT_CODE, name_column, prior, C.CREDIT_CODE, C.PROJECT_TITLE, threshold)
    if pairs.empty:
        return empty
    rows = []
    for item, grp in pairs.groupby("item", sort=False):
        listed = prior.loc[grp["listing"]]
        rows.append(
            {
                C.SUBMISSION_ID: subs.at[item, C.SUBMISSION_ID],
                PRIOR_YUAN: int(listed[C.AMOUNT_YUAN].sum()),
                PRIOR_NOTE: "、".join(
                    f"{p}（{y}年，“{t}”）" for p, y, t in zip(listed[C.POLICY], listed[C.YEAR], listed[C.PROJECT_TITLE])
                ),
                "matched": "; ".join(
                    f"{t} ({s:.2f})" for t, s in zip(listed[C.PROJECT_TITLE], grp["similarity"])
                ),
            }
        )
    return pd.DataFrame(rows).sort_values(C.SUBMISSION_ID, kind="stable").reset_index(drop=True)


def evaluate_round(
    *,
    submissions: pd.DataFrame,
    scores: pd.DataFrame,
    programme: Programme,
    config: RoundConfig,
    excluded_products: pd.DataFrame | None = None,
    prior_awards: pd.DataFrame | None = None,
    decisions: Mapping[frozenset[str], TieDecision] | None = None,
    enterprise_awarded: Mapping[str, int] | None = None,
    removed: Mapping[str, str] | None = None,
) -> RoundResult:
    if programme.scoring is not None and programme.scoring.rank_by != "raw":
        raise ConfigError(
            f"programme {programme.id!r}: scoring.rank_by = {programme.scoring.rank_by!r} is not available yet; use 'raw'"
        )
    ctx = ReviewContext(
        programme=programme,
        config=config,
        excluded_products=excluded_products if excluded_products is not None else pd.DataFrame(),
    )
    reviewed = review(submissions, ctx)
    eligible = submissions[C.SUBMISSION_ID].to_numpy()[reviewed[C.ELIGIBLE].to_numpy(dtype=bool)]
    eligible_ids = set(eligible)
    subs_eligible = submissions[submissions[C.SUBMISSION_ID].isin(eligible)]
    priors = match_prior_awards(
        subs_eligible, prior_awards, programme.eligibility.similarity_threshold, programme.award.project_column
    )

    if programme.kind in ("scored", "composite"):
        totals, panel = score_panels(scores, programme, eligible)
        _check_panels(eligible_ids, panel, programme)
        if programme.kind == "composite":
            panel = composite.composite_scores(panel, subs_eligible, programme)
        carried = dict.fromkeys([C.SUBMISSION_ID, C.CREDIT_CODE, C.SUBMITTED_AT, *programme.award.column_refs().values()])
        panel = _left_join(panel, subs_eligible[list(carried)])
        panel = _with_priors(panel, priors)
        ranked = rank_applications(panel, programme, decisions)
    else:
        totals = pd.DataFrame(columns=[C.SUBMISSION_ID, C.EXPERT_ID, TOTAL_NUM, C.EXPERT_TOTAL])
        cands = subs_eligible.drop(columns=[C.SOURCE_FILE, C.SOURCE_ROW], errors="ignore").copy()
        cands[C.N_EXPERTS] = 0
        cands[C.SCORE_CENTS] = pd.Series([pd.NA] * len(cands), index=cands.index, dtype="Int64")
        ranked = _with_priors(order_claims(cands, programme), priors)
        if programme.kind == "filing":
            ranked = mark_same_model(ranked, programme)
    capped = apply_caps(ranked, programme, enterprise_awarded=enterprise_awarded, removed=removed)

    ranking = _assemble(submissions, reviewed, capped, programme)
    return RoundResult(ranking=ranking, expert_totals=totals, review=reviewed, prior_matches=priors)


def _with_priors(frame: pd.DataFrame, priors: pd.DataFrame) -> pd.DataFrame:
    """`frame` with prior_yuan (0 when none) and prior_note ("" when none) of each application."""
    if frame[C.SUBMISSION_ID].duplicated().any() or priors[C.SUBMISSION_ID].duplicated().any():
        out = frame.merge(priors[[C.SUBMISSION_ID, PRIOR_YUAN, PRIOR_NOTE]], on=C.SUBMISSION_ID, how="left")
        out[PRIOR_YUAN] = [0 if pd.isna(v) else int(v) for v in out[PRIOR_YUAN]]
        out[PRIOR_NOTE] = ["" if pd.isna(v) else v for v in out[PRIOR_NOTE]]
        return out
    yuan = dict(zip(priors[C.SUBMISSION_ID], priors[PRIOR_YUAN]))
    note = dict(zip(priors[C.SUBMISSION_ID], priors[PRIOR_NOTE]))
    ids = frame[C.SUBMISSION_ID].tolist()
    out = frame.reset_index(drop=True)  # a new frame, as a merge gives
    out[PRIOR_YUAN] = [0 if pd.isna(v := yuan.get(i)) else int(v) for i in ids] if yuan else [0] * len(ids)
    out[PRIOR_NOTE] = [("" if pd.isna(v := note.get(i)) else v) for i in ids] if note else [""] * len(ids)
    return out


def _check_panels(eligible_ids: set[str], panel: pd.DataFrame, programme: Programme) -> None:
    assert programme.scoring is not None
    need = programme.scoring.min_experts
    ids = panel[C.SUBMISSION_ID]
    low = (panel[C.N_EXPERTS] < need).to_numpy()
    counts = dict(zip(ids[low], panel.loc[low, C.N_EXPERTS]))
    # usually none: the few short ones are sorted, not the whole cohort
    short = (eligible_ids - set(ids)) | (eligible_ids & set(counts))
    problems = []
    for sid in sorted(short):
        n = int(counts.get(sid, 0))
        what = "no scores" if n == 0 else f"scores from {n} expert(s)"
        problems.append(Problem("scores/", f"application {sid} has {what}; at least {need} needed"))
    if problems:
        raise InputError(problems)


def _as_written(frame: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Programme columns as a person writes them in the ranking: dates as 2026-03-10, yes/no as 是/否."""
    out = frame.copy()
    for spec in programme.columns:
        values = out[spec.id]
        if spec.type == "date":
            out[spec.id] = ["" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]
        elif spec.type == "datetime":
            out[spec.id] = ["" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S") for v in values]
        elif spec.type == "bool":
            out[spec.id] = ["" if pd.isna(v) else ("是" if bool(v) else "否") for v in values]
    return out


def _assemble(subs: pd.DataFrame, reviewed: pd.DataFrame, capped: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    cols = output_columns(programme)
    extra = extra_columns(programme)
    base = subs[[C.SUBMISSION_ID, C.ENTERPRISE_NAME, C.CREDIT_CODE, C.TITLE, *(c.id for c in programme.columns)]]
    scored = capped[[C.SUBMISSION_ID, C.N_EXPERTS, C.SCORE_CENTS, C.RANK, C.OUTCOME, C.AMOUNT_YUAN,
                     C.REASON_CODE, C.REASON, *extra, TIE_NOTE, ORDER]]
    ranked = _join_in_order(base, scored)
    ranked[C.SCORE] = _score_texts(ranked[C.SCORE_CENTS])

    inel_mask = ~reviewed[C.ELIGIBLE].to_numpy(dtype=bool)
    inel = base[inel_mask].copy()
    inel[C.N_EXPERTS] = 0
    inel[C.SCORE] = ""
    inel[C.RANK] = pd.NA
    inel[C.OUTCOME] = C.INELIGIBLE
    inel[C.AMOUNT_YUAN] = 0
    inel[C.REASON_CODE] = reviewed.loc[inel_mask, C.REASON_CODE].to_numpy()
    inel[C.REASON] = reviewed.loc[inel_mask, C.REASON].to_numpy()
    for col in (*extra, TIE_NOTE):
        inel[col] = ""
    inel = inel.sort_values(C.SUBMISSION_ID, kind="stable")

    parts = [p[cols] for p in (ranked, inel) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else ranked[cols].reset_index(drop=True)
    out = _as_written(out, programme)
    out[C.RANK] = out[C.RANK].astype("Int64")
    out[C.N_EXPERTS] = out[C.N_EXPERTS].astype("int64")
    out[C.AMOUNT_YUAN] = out[C.AMOUNT_YUAN].astype("int64")
    return out


def _join_in_order(base: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """base ⋈ scored on submission_id, in `order`: the inner merge sorted by order, without hashing twice.

    When the ids of `base` are unique, every scored id is among them and `order`
    strictly increases, each scored row takes its base row by position; otherwise
    (never for frames from intake) the merge itself.
    """
    index = pd.Index(base[C.SUBMISSION_ID])
    order = scored[ORDER].to_numpy()
    if index.is_unique and (len(order) < 2 or (np.diff(order) > 0).all()):
        at = index.get_indexer(scored[C.SUBMISSION_ID])
        if (at >= 0).all():
            left = base.iloc[at].reset_index(drop=True)
            right = scored.drop(columns=[C.SUBMISSION_ID]).reset_index(drop=True)
            return pd.concat([left, right], axis=1)
    return base.merge(scored, on=C.SUBMISSION_ID, how="inner").sort_values(ORDER, kind="stable")


def _score_texts(cents: pd.Series) -> list[str] | np.ndarray:
    """Each score in hundredths as shown ("86.33"), "" where there is none; formatted once per distinct value."""
    if cents.dtype.kind not in "iu" or not len(cents):
        return ["" if pd.isna(c) else format_cents(int(c)) for c in cents]
    values, inverse = np.unique(cents.to_numpy(), return_inverse=True)
    return np.array([format_cents(int(v)) for v in values], dtype=object)[inverse.reshape(-1)]


def _left_join(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """left ⟕ right on submission_id: the merge, by position when every left id is once in `right`."""
    index = pd.Index(right[C.SUBMISSION_ID])
    if index.is_unique:
        at = index.get_indexer(left[C.SUBMISSION_ID])
        if (at >= 0).all():
            out = left.reset_index(drop=True)
            for col in right.columns:
                if col != C.SUBMISSION_ID:
                    out[col] = right[col].iloc[at].reset_index(drop=True)  # keeps nullable dtypes
            return out
    return left.merge(right, on=C.SUBMISSION_ID, how="left")
