"""Programme rules as data: frozen pydantic models that reject unknown keys.

A programme file (data/programmes/<id>.toml) is parsed by the shell and handed
here as a mapping; `parse_programme` validates it. A misspelled method, rule or
criterion is an error at load time that lists the valid names. A round may
override parts of its programme in round.toml; `merge_overrides` applies them
before validation, so the merged rules are validated as a whole and frozen
into the round with their hash (`rules_hash`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any, Literal, Mapping

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scoring.errors import ConfigError

IDENT = r"^[a-z][a-z0-9_]*$"

COLUMN_TYPES = ("text", "choice", "bool", "int", "decimal", "date", "datetime", "yuan", "email")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _registered(registry: str) -> tuple[str, ...]:
    """The names a registry module knows: the registries are the source of truth.

    Imported lazily so that this module stays importable by the registries.
    """
    if registry == "aggregation":
        from scoring.aggregation import AGGREGATORS as reg
    elif registry == "calibration":
        from scoring.calibration import CALIBRATORS as reg
    elif registry == "award":
        from scoring.caps import AWARD_METHODS as reg
    elif registry == "eligibility":
        from scoring.eligibility import RULES as reg
    else:  # pragma: no cover - programming error
        raise KeyError(registry)
    return tuple(sorted(reg))


def _one_of(value: str, valid: tuple[str, ...], what: str) -> str:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")
    return value


class Criterion(Strict):
    id: str = Field(pattern=IDENT)
    name: str
    weight: Decimal = Field(gt=0)
    max: Decimal | None = Field(default=None, gt=0)

    @property
    def max_points(self) -> Decimal:
        return self.max if self.max is not None else self.weight


class ColumnSpec(Strict):
    """A programme-specific column of submissions.xlsx|csv."""

    id: str = Field(pattern=IDENT)
    label: str
    type: str = "text"
    required: bool = True
    choices: tuple[str, ...] | None = None
    choice_labels: dict[str, str] = Field(default_factory=dict)

    def display(self, value: object) -> str:
        """The value as a person reads it (a choice's Chinese label where one is given)."""
        return self.choice_labels.get(str(value), str(value))

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        return _one_of(v, COLUMN_TYPES, "column type")

    @model_validator(mode="after")
    def _choices(self) -> "ColumnSpec":
        if self.type == "choice" and not self.choices:
            raise ValueError(f"column {self.id!r} is of type 'choice' but lists no choices")
        unknown = set(self.choice_labels) - set(self.choices or ())
        if unknown:
            raise ValueError(f"column {self.id!r}: choice_labels for unknown choices {sorted(unknown)}")
        return self


class Indicator(Strict):
    """A service indicator of the composite programmes (platform)."""

    id: str = Field(pattern=IDENT)
    name: str
    weight: Decimal = Field(default=Decimal(1), gt=0)
    higher_is_better: bool = True


class Scoring(Strict):
    aggregation: str = "trimmed_mean"
    trim_min_experts: int = Field(default=5, ge=3)
    score_decimals: int = Field(default=2, ge=0, le=4)
    pass_mark: Decimal = Field(default=Decimal(60), ge=0, le=100)
    tie_break: tuple[str, ...] = ()
    calibration: str = "none"
    rank_by: Literal["raw", "calibrated"] = "raw"
    experts_per_application: int = Field(default=5, ge=1)
    min_experts: int = Field(default=1, ge=1)
    # composite programmes: share of the indicator index in the composite (percent)
    indicator_share: Decimal = Field(default=Decimal(0), ge=0, le=100)
    # composite programmes: the scaled value (0..100) of an indicator on which the whole
    # eligible cohort is equal, a cohort of one included (min-max scaling is undefined there)
    flat_indicator_score: Decimal = Field(default=Decimal(100), ge=0, le=100)

    @field_validator("aggregation")
    @classmethod
    def _agg(cls, v: str) -> str:
        return _one_of(v, _registered("aggregation"), "aggregation method")

    @field_validator("calibration")
    @classmethod
    def _cal(cls, v: str) -> str:
        return _one_of(v, _registered("calibration"), "calibration method")


class Grade(Strict):
    grade: str
    min_score: Decimal = Field(ge=0, le=100)
    amount_yuan: int = Field(ge=0)


class Award(Strict):
    method: str = "fixed"
    amount_yuan: int | None = Field(default=None, ge=0)
    max_amount_yuan: int | None = Field(default=None, ge=0)
    count_cap: int | None = Field(default=None, ge=0)
    reserve_size: int = Field(default=0, ge=0)
    budget_yuan: int | None = Field(default=None, ge=0)
    budget_mode: Literal["rank", "pro_rata"] = "rank"
    enterprise_cap_yuan: int | None = Field(default=None, ge=0)
    grades: tuple[Grade, ...] = ()
    level_amounts_yuan: dict[str, int] = Field(default_factory=dict)
    per_unit_yuan: int | None = Field(default=None, ge=0)
    amount_column: str | None = None
    # method "level": the column whose value picks an amount from level_amounts_yuan
    level_column: str | None = None
    # method "per_unit": the column counting the units (e.g. certificates)
    unit_column: str | None = None
    # method "matching": the percentage of amount_column matched (then capped by max_amount_yuan)
    match_percent: Decimal = Field(default=Decimal(100), gt=0, le=100)
    highest_only: bool = True
    # the column naming what is paid for: 就高不重复 and the awards ledger compare it
    project_column: str = "title"
    # other programmes whose awards in the same year count towards enterprise_cap_yuan
    enterprise_cap_programmes: tuple[str, ...] = ()
    # programmes without experts (filing, claim): the order in which applications are
    # paid, for the enterprise cap and the budget. Column ids ascending, "-" for descending;
    # "amount" is the base amount of the award method. submitted_at and submission_id
    # always follow as the last keys.
    order_by: tuple[str, ...] = ("submitted_at",)

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return _one_of(v, _registered("award"), "award method")

    @model_validator(mode="after")
    def _complete(self) -> "Award":
        from scoring.caps import AWARD_METHODS

        need = AWARD_METHODS[self.method].needs
        missing = [k for k in need if not getattr(self, k)]
        if missing:
            raise ValueError(f"award method {self.method!r} needs {', '.join(missing)}")
        if self.grades:
            edges = [g.min_score for g in self.grades]
            if edges != sorted(edges, reverse=True) or len(set(edges)) != len(edges):
                raise ValueError("grades must be listed from the highest min_score down, each edge once")
        for pid in self.enterprise_cap_programmes:
            if not re.match(IDENT, pid):
                raise ValueError(f"enterprise_cap_programmes: {pid!r} is not a programme id")
        if self.enterprise_cap_programmes and self.enterprise_cap_yuan is None:
            raise ValueError("enterprise_cap_programmes is set but enterprise_cap_yuan is not")
        return self

    def column_refs(self) -> dict[str, str]:
        """The submission columns this award reads, by the key that names them."""
        refs = {k: getattr(self, k) for k in ("amount_column", "level_column", "unit_column")}
        return {k: v for k, v in refs.items() if v}


class Eligibility(Strict):
    rules: tuple[str, ...] = ("credit_code", "contact_email", "call_window")
    min_fuzhou_units: int = Field(default=100, ge=0)
    similarity_threshold: float = Field(default=0.85, gt=0, le=1)

    @field_validator("rules")
    @classmethod
    def _rules(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            _one_of(name, _registered("eligibility"), "eligibility rule")
        if len(set(v)) != len(v):
            raise ValueError("an eligibility rule is listed twice")
        return v


class Publicity(Strict):
    working_days: int = Field(default=5, ge=1)


class Policy(Strict):
    document: str = "榕政办规〔2026〕7号"
    in_force_from: dt.date = dt.date(2026, 6, 2)
    in_force_until: dt.date = dt.date(2028, 12, 31)


class Programme(Strict):
    id: str = Field(pattern=IDENT)
    name: str
    measure: str
    clause: str
    department: str
    kind: Literal["scored", "composite", "filing", "claim"] = "scored"
    policy: Policy = Policy()
    criteria: tuple[Criterion, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()
    scoring: Scoring | None = None
    award: Award
    eligibility: Eligibility = Eligibility()
    publicity: Publicity = Publicity()

    @model_validator(mode="after")
    def _consistent(self) -> "Programme":
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("a criterion id is listed twice")
        if self.kind in ("scored", "composite"):
            if not self.criteria or self.scoring is None:
                raise ValueError(f"a {self.kind!r} programme needs criteria and a [scoring] table")
            total = sum((c.weight for c in self.criteria), Decimal(0))
            if total != 100:
                raise ValueError(f"criterion weights sum to {total}, not 100")
            for t in self.scoring.tie_break:
                if t not in ids:
                    raise ValueError(f"tie_break names unknown criterion {t!r}; criteria: {', '.join(ids)}")
        if self.kind in ("filing", "claim") and self.criteria:
            raise ValueError(f"a {self.kind!r} programme has no experts: remove its criteria")
        if self.kind == "composite" and not self.indicators:
            raise ValueError("a 'composite' programme needs indicators")
        col_ids = [c.id for c in self.columns]
        if len(set(col_ids)) != len(col_ids):
            raise ValueError("a column id is listed twice")
        self._check_columns()
        return self

    def _check_columns(self) -> None:
        """Every column a rule, an indicator or the award reads is declared with a fitting type."""
        from scoring.eligibility import RULES

        types = {c.id: c.type for c in self.columns}
        numeric = ("int", "decimal", "yuan")
        for key, col in self.award.column_refs().items():
            if col not in types:
                raise ValueError(f"award.{key} {col!r} is not a declared column")
        for key in ("amount_column", "unit_column"):
            col = getattr(self.award, key)
            if col and types[col] not in numeric:
                raise ValueError(f"award.{key} {col!r} must be a number column (int, decimal or yuan)")
        if self.award.level_column:
            spec = next(c for c in self.columns if c.id == self.award.level_column)
            missing = [v for v in spec.choices or () if v not in self.award.level_amounts_yuan]
            if spec.type != "choice" or missing:
                raise ValueError(
                    f"award.level_column {spec.id!r} must be a choice column whose every choice has an "
                    f"amount in award.level_amounts_yuan (missing: {', '.join(missing) or 'choices'})"
                )
        if self.award.project_column != "title" and self.award.project_column not in types:
            raise ValueError(f"award.project_column {self.award.project_column!r} is not 'title' or a declared column")
        for key in self.award.order_by:
            name = key.removeprefix("-")
            if name not in ("amount", "submitted_at") and name not in types:
                raise ValueError(f"award.order_by names {name!r}: use 'amount', 'submitted_at' or a declared column")
        for ind in self.indicators:
            if types.get(ind.id) not in numeric:
                raise ValueError(f"indicator {ind.id!r} must be a declared number column (int, decimal or yuan)")
        for name in self.eligibility.rules:
            for col, kind in RULES[name].needs.items():
                if types.get(col) != kind:
                    raise ValueError(f"eligibility rule {name!r} needs a column {col!r} of type {kind!r}")
        if self.award.method == "grade" and self.scoring is not None and "pass_mark" in self.scoring.model_fields_set:
            lowest = self.award.grades[-1].min_score
            if self.scoring.pass_mark != lowest:
                raise ValueError(
                    f"with award method 'grade' the pass mark is the lowest grade's min_score ({lowest}); "
                    f"remove scoring.pass_mark ({self.scoring.pass_mark}) or make them equal"
                )

    def threshold(self) -> Decimal | None:
        """The score below which an application is BELOW_THRESHOLD (None: no experts, no threshold)."""
        if self.award.method == "grade" and self.award.grades:
            return self.award.grades[-1].min_score
        return self.scoring.pass_mark if self.scoring is not None else None

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def valid_years(self) -> range:
        return range(self.policy.in_force_from.year, self.policy.in_force_until.year + 1)


class CallWindow(Strict):
    opens: dt.datetime
    closes: dt.datetime

    @model_validator(mode="after")
    def _order(self) -> "CallWindow":
        if self.closes <= self.opens:
            raise ValueError("call_window.closes must be after call_window.opens")
        return self


class RoundConfig(Strict):
    """round.toml: which programme and year, and what this round changes."""

    programme: str = Field(pattern=IDENT)
    year: int
    title: str | None = None
    organiser: str | None = None
    contact: str | None = None
    call_window: CallWindow | None = None
    publicity_start: dt.date | None = None
    scoring_deadline: dt.date | dt.datetime | None = None
    seed: int = 20260602
    overrides: dict[str, Any] = Field(default_factory=dict)

    @property
    def round_id(self) -> str:
        return f"{self.year}-{self.programme}"


def _format_validation(err: ValidationError, source: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{source}: {loc}: {msg}")
    return "\n".join(parts)


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `overrides` onto `base` (tables merge, everything else replaces)."""
    out: dict[str, Any] = dict(base)
    for k, v in overrides.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge_overrides(out[k], v)
        else:
            out[k] = v
    return out


def parse_programme(data: Mapping[str, Any], source: str) -> Programme:
    try:
        return Programme.model_validate(dict(data))
    except ValidationError as err:
        raise ConfigError(_format_validation(err, source)) from None


def parse_round_config(data: Mapping[str, Any], source: str) -> RoundConfig:
    try:
        return RoundConfig.model_validate(dict(data))
    except ValidationError as err:
        raise ConfigError(_format_validation(err, source)) from None


def check_year(programme: Programme, year: int, source: str) -> None:
    valid = programme.valid_years()
    if year not in valid:
        raise ConfigError(
            f"{source}: year {year} is outside the policy's validity "
            f"({programme.policy.document} is in force {programme.policy.in_force_from} .. "
            f"{programme.policy.in_force_until}); a round can be opened for {valid.start}..{valid.stop - 1} only"
        )


def rules_json(programme: Programme) -> str:
    """The canonical JSON form of the rules: what a round freezes and hashes."""
    return json.dumps(programme.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def rules_hash(programme: Programme) -> str:
    return hashlib.sha256(rules_json(programme).encode("utf-8")).hexdigest()
