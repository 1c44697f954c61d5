"""Award methods: what one application is given before any cap, by the programme's `award.method`.

Chosen by name from `AWARD_METHODS` (scoring/rules.py checks a programme's method
and the Award fields it needs against this registry). Each method reads the
application's record (its columns by name) and returns integer yuan; matching
is computed with Fractions and floored, so no float decides an amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from scoring import columns as C
from scoring.rules import Award


@dataclass(frozen=True)
class AwardMethod:
    """How the base amount of a candidate is computed, and which Award fields it needs."""

    needs: tuple[str, ...]
    amount: Callable[[dict, Award], int]


def _fixed(rec: dict, award: Award) -> int:
    assert award.amount_yuan is not None
    return award.amount_yuan


def _requested_capped(rec: dict, award: Award) -> int:
    assert award.max_amount_yuan is not None and award.amount_column is not None
    return min(int(rec[award.amount_column]), award.max_amount_yuan)


def _grade(rec: dict, award: Award) -> int:
    """The amount of the highest grade whose edge the (rounded) score reaches; 0 below every grade."""
    cents = int(rec[C.SCORE_CENTS])
    for g in award.grades:
        if cents >= int(g.min_score * 100):
            return g.amount_yuan
    return 0


def _level(rec: dict, award: Award) -> int:
    assert award.level_column is not None
    return award.level_amounts_yuan[str(rec[award.level_column])]


def _matching(rec: dict, award: Award) -> int:
    """match_percent of the matched amount (floor to the yuan), at most max_amount_yuan."""
    assert award.max_amount_yuan is not None and award.amount_column is not None
    matched = Fraction(int(rec[award.amount_column])) * Fraction(award.match_percent) / 100
    return min(int(matched), award.max_amount_yuan)  # int() of a non-negative Fraction floors


def _per_unit(rec: dict, award: Award) -> int:
    """per_unit_yuan × units, at most the requested amount and max_amount_yuan when given."""
    assert award.per_unit_yuan is not None and award.unit_column is not None
    amount = award.per_unit_yuan * max(int(rec[award.unit_column]), 0)
    if award.amount_column:
        amount = min(amount, int(rec[award.amount_column]))
    if award.max_amount_yuan is not None:
        amount = min(amount, award.max_amount_yuan)
    return amount


AWARD_METHODS: dict[str, AwardMethod] = {
    "fixed": AwardMethod(("amount_yuan",), _fixed),
    "requested_capped": AwardMethod(("max_amount_yuan", "amount_column"), _requested_capped),
    "grade": AwardMethod(("grades",), _grade),
    "level": AwardMethod(("level_amounts_yuan", "level_column"), _level),
    "matching": AwardMethod(("max_amount_yuan", "amount_column"), _matching),
    "per_unit": AwardMethod(("per_unit_yuan", "unit_column"), _per_unit),
}


def base_amount(rec: dict, award: Award) -> int:
    """What the award method gives one application before any cap."""
    return AWARD_METHODS[award.method].amount(rec, award)
