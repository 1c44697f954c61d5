"""The composite score of the platform assessment (measure 二), exactly.

composite = s% × indicator index + (100 − s)% × panel score, rounded half-up to
hundredths, where s is `scoring.indicator_share` (60 by default), the panel
score is the expert panel score already rounded to hundredths (as the SPEC
says), and the indicator index is the weighted mean of the service indicators,
each min-max scaled to 0..100 over the *eligible* cohort of the round:

    scaled = 100 × (x − min) / (max − min)     (higher_is_better)
    scaled = 100 × (max − x) / (max − min)     (lower is better)

Every value is an integer or a Decimal, so each scaled value, the index and the
composite are exact Fractions: no float decides a grade. Min-max scaling is
undefined where the whole cohort has the same value of an indicator (a cohort of
one included); there the indicator is scored `scoring.flat_indicator_score`
(100 by default: with nothing to compare, no platform is marked down on it).

The grade is the highest grade whose edge the rounded composite reaches;
`grade_note` says in plain words which indicators drove it.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pandas as pd

from scoring import columns as C
from scoring.aggregation import format_cents, round_half_up_cents
from scoring.rules import Programme

PANEL_CENTS = "panel_cents"
PANEL_SCORE = "panel_score"
INDEX = "indicator_index"
INDEX_EXACT = "indicator_index_exact"
GRADE = "grade"
GRADE_NOTE = "grade_note"


def scaled_column(indicator_id: str) -> str:
    return f"{indicator_id}_scaled"


def output_columns(programme: Programme) -> list[str]:
    """The extra columns a composite programme shows in its ranking, in order."""
    return [PANEL_SCORE, INDEX, *(scaled_column(i.id) for i in programme.indicators), GRADE, GRADE_NOTE]


def format_exact(value: Fraction) -> str:
    """A non-negative exact value shown with 2 decimals, rounded half-up."""
    return format_cents(round_half_up_cents(value.numerator, value.denominator))


def indicator_scores(cohort: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per application of `cohort` (the eligible ones): each indicator scaled, and the index.

    Returns submission_id, one exact Fraction column per indicator (`<id>_scaled`)
    and `indicator_index_exact`. An empty cohort gives an empty frame.
    """
    assert programme.scoring is not None
    flat = Fraction(programme.scoring.flat_indicator_score)
    out = pd.DataFrame({C.SUBMISSION_ID: cohort[C.SUBMISSION_ID].to_numpy()})
    weights = {i.id: Fraction(i.weight) for i in programme.indicators}
    index = [Fraction(0)] * len(cohort)
    for ind in programme.indicators:
        values = [_exact(v) for v in cohort[ind.id].tolist()]
        scaled = _min_max(values, flat, ind.higher_is_better)
        out[scaled_column(ind.id)] = pd.Series(scaled, dtype=object)
        index = [acc + weights[ind.id] * s for acc, s in zip(index, scaled)]
    total = sum(weights.values(), Fraction(0))
    out[INDEX_EXACT] = pd.Series([v / total for v in index], dtype=object)
    out.attrs["flat"] = tuple(i.id for i in programme.indicators if len(set(cohort[i.id].tolist())) <= 1)
    return out


def _exact(value: object) -> Fraction:
    """An indicator value (int, numpy int or Decimal) as an exact Fraction."""
    if isinstance(value, Decimal):
        return Fraction(value)
    return Fraction(int(value))  # type: ignore[call-overload]


def _min_max(values: list[Fraction], flat: Fraction, higher_is_better: bool) -> list[Fraction]:
    if not values:
        return []
    lo, hi = min(values), max(values)
    if lo == hi:
        return [flat for _ in values]
    span = hi - lo
    return [100 * ((v - lo) if higher_is_better else (hi - v)) / span for v in values]


def composite_scores(panel: pd.DataFrame, cohort: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """`panel` (from `panel_scores`) with the composite as `score_cents` and the parts beside it.

    Adds panel_cents (the expert panel score), the indicator columns, the grade
    and its note; `score_cents` becomes the rounded composite, which ranks.
    """
    assert programme.scoring is not None
    share = Fraction(programme.scoring.indicator_share) / 100
    parts = indicator_scores(cohort, programme)
    out = panel.rename(columns={C.SCORE_CENTS: PANEL_CENTS}).merge(parts, on=C.SUBMISSION_ID, how="left")
    composite = [share * idx + (1 - share) * Fraction(int(pc), 100) for idx, pc in zip(out[INDEX_EXACT], out[PANEL_CENTS])]
    out[C.SCORE_CENTS] = pd.Series([round_half_up_cents(v.numerator, v.denominator) for v in composite], dtype="int64")
    out[GRADE] = [grade_of(int(c), programme) for c in out[C.SCORE_CENTS]]
    flat = parts.attrs.get("flat", ())
    out[GRADE_NOTE] = [_note(r, programme, flat) for r in out.to_dict("records")]
    out[PANEL_SCORE] = [format_cents(int(c)) for c in out[PANEL_CENTS]]
    out[INDEX] = [format_exact(v) for v in out[INDEX_EXACT]]
    for ind in programme.indicators:
        col = scaled_column(ind.id)
        out[col] = [format_exact(v) for v in out[col]]
    return out


def grade_of(cents: int, programme: Programme) -> str:
    for g in programme.award.grades:
        if cents >= int(g.min_score * 100):
            return g.grade
    return ""


def _note(r: dict, programme: Programme, flat: tuple[str, ...]) -> str:
    """Why this grade: the composite against the edges, the two parts, and the indicators that drove it.

    Indicators on which the whole cohort is equal (`flat`) drive nothing: they are
    named apart, with the value every platform got for them.
    """
    assert programme.scoring is not None
    share = programme.scoring.indicator_share
    cents = int(r[C.SCORE_CENTS])
    grades = programme.award.grades
    grade = r[GRADE]
    if grade:
        g = next(x for x in grades if x.grade == grade)
        head = f"{grade}档（综合得分{format_cents(cents)}≥{format_cents(int(g.min_score * 100))}"
        higher = [x for x in grades if x.min_score > g.min_score]
        if higher:
            nxt = higher[-1]
            head += f"，距{nxt.grade}档差{format_cents(int(nxt.min_score * 100) - cents)}分"
        head += "）"
    else:
        lowest = grades[-1]
        head = f"未达{lowest.grade}档（综合得分{format_cents(cents)}＜{format_cents(int(lowest.min_score * 100))}）"
    parts = (
        f"指标指数{format_exact(r[INDEX_EXACT])}（占{_pct(share)}）、"
        f"专家评分{format_cents(int(r[PANEL_CENTS]))}（占{_pct(100 - share)}）"
    )
    names = {i.id: i.name for i in programme.indicators}
    varying = [i for i in programme.indicators if i.id not in flat]
    ranked = sorted(varying, key=lambda i: -r[scaled_column(i.id)])  # stable: declared order on ties
    shown = lambda ids: "、".join(f"{names[i.id]}{format_exact(r[scaled_column(i.id)])}" for i in ids)  # noqa: E731
    drivers = ""
    if len(ranked) >= 3:
        drivers = f"；领先指标：{shown(ranked[:2])}；最弱指标：{shown(ranked[-1:])}"
    elif ranked:
        drivers = f"；各指标：{shown(ranked)}"
    if flat:
        drivers += (f"；{'、'.join(names[i] for i in flat)}参评对象间无差异，"
                    f"均计{format_exact(Fraction(programme.scoring.flat_indicator_score))}分")
    return f"{head}：{parts}{drivers}"


def _pct(value) -> str:  # noqa: ANN001
    return f"{format(value.normalize(), 'f')}%"
