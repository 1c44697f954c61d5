"""The parts every sample round shares: applicants, deliberately ineligible rows, experts, their scores.

Every function draws only from the `random.Random` it is given, in a fixed
order, so one seed always gives the same round. Rows are plain dicts keyed by
the column names of `scoring.columns` and the programme's own columns; keys
starting with "_" (such as `_quality`, the latent merit experts see) are for the
generator only and are never written.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Callable, Collection

from flows.sample.vocab import BRAND, DISTRICTS, ENTERPRISE_TAILS, GIVEN, INSTITUTIONS, REAL_BRANDS, SURNAMES
from scoring import columns as C
from scoring.rules import Programme
from scoring.uscc import ALPHABET, make_uscc

# an applicant's name and the first two characters of its credit code (91 enterprise, 12 public institution,
# 52 private non-enterprise unit), given the brand drawn for it
Namer = Callable[[random.Random, str], tuple[str, str]]
APPLICANT_FIELDS = (C.ENTERPRISE_NAME, C.CREDIT_CODE, C.CONTACT_NAME, C.CONTACT_EMAIL, "district")
QUALITY = "_quality"


def weighted(rng: random.Random, items: tuple, weights: tuple[int, ...]):
    return rng.choices(items, weights=weights, k=1)[0]


def person(rng: random.Random) -> tuple[str, str]:
    """A Chinese name and its pinyin (for an e-mail local part)."""
    (sur, sur_py), (given, given_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
    return sur + given, sur_py + given_py


def credit_code(rng: random.Random, prefix8: str) -> str:
    """A valid 统一社会信用代码 starting with `prefix8` (type and division code)."""
    return make_uscc(prefix8 + "".join(rng.choice(ALPHABET) for _ in range(9)))


def brand_chars(rng: random.Random, k: int) -> list[tuple[str, str]]:
    """k brand characters with their pinyin that do not spell a well-known real enterprise's brand."""
    while True:
        picked = rng.sample(BRAND, k)
        if not any(real in "".join(b for b, _ in picked) for real in REAL_BRANDS):
            return picked


def enterprise_name(rng: random.Random, brand: str) -> tuple[str, str]:
    """The default namer: a Fuzhou (or Fujian) technology company."""
    return ("福州" if rng.random() < 0.85 else "福建") + brand + rng.choice(ENTERPRISE_TAILS), "91"


def applicants(
    rng: random.Random,
    n: int,
    opens: dt.datetime,
    closes: dt.datetime,
    namer: Namer | None = None,
    repeat_rate: float = 0.08,
) -> list[dict]:
    """n application rows (common columns), in order of submission; some applicants apply more than once."""
    namer = namer or enterprise_name
    brands: set[str] = set()
    enterprises: list[dict] = []
    rows: list[dict] = []
    span = (closes - opens).total_seconds()
    times: set[dt.datetime] = set()
    while len(rows) < n:
        if enterprises and rng.random() < repeat_rate:
            ent = rng.choice(enterprises)       # another application of the same applicant
        else:
            while True:
                picked = brand_chars(rng, rng.choice((2, 2, 2, 3)))
                brand = "".join(b for b, _ in picked)
                if brand not in brands:
                    break
            brands.add(brand)
            district, code, _ = weighted(rng, DISTRICTS, tuple(d[2] for d in DISTRICTS))
            name, name_py = person(rng)
            domain = "".join(p for _, p in picked) + ".example.cn"
            full_name, kind = namer(rng, brand)
            ent = {
                C.ENTERPRISE_NAME: full_name,
                C.CREDIT_CODE: credit_code(rng, kind + ("350100" if rng.random() < 0.25 else code)),
                C.CONTACT_NAME: name,
                C.CONTACT_EMAIL: f"{name_py}@{domain}",
                "district": district,
            }
            enterprises.append(ent)
        # more submissions near the deadline, as on every real platform
        while True:
            at = opens + dt.timedelta(seconds=int(span * rng.random() ** 0.6))
            if at not in times and 8 <= at.hour <= 22:
                break
        times.add(at)
        rows.append({**ent, C.SUBMITTED_AT: at})
    rows.sort(key=lambda r: r[C.SUBMITTED_AT])
    return rows


def same_applicant(row: dict, source: dict) -> None:
    """Make `row` an application of the applicant of `source` (name, code, contact, district)."""
    for key in APPLICANT_FIELDS:
        if key in source:
            row[key] = source[key]


def make_ineligible(
    rng: random.Random,
    rows: list[dict],
    closes: dt.datetime,
    kinds: tuple[str, ...] | None = None,
    reserved: Collection[str] = (),
) -> dict[str, str]:
    """Rows that fail exactly one common formal-review rule each; returns id → intended reason code.

    `kinds` names the failures ("credit_code", "contact_email", "call_window");
    None draws 3–5 of them. Rows in `reserved` (a programme's own intended
    cases) are left alone.
    """
    if kinds is None:
        k = rng.randint(3, 5)
        drawn = ["credit_code", "contact_email", "call_window"]
        drawn += rng.choices(["credit_code", "contact_email"], k=k - 3)
        kinds = tuple(drawn)
    free = [r for r in rows if r[C.SUBMISSION_ID] not in reserved]
    intended: dict[str, str] = {}
    if "call_window" in kinds:
        late = free[-1]                                # the last to submit is the one who is late
        late[C.SUBMITTED_AT] = closes + dt.timedelta(hours=rng.randint(1, 40), minutes=rng.randint(1, 59))
        intended[late[C.SUBMISSION_ID]] = "INELIGIBLE_CALL_WINDOW"
        free = free[:-1]
    others = [k for k in kinds if k != "call_window"]
    picks = rng.sample(free, len(others))
    for row, kind in zip(picks, others):
        if kind == "credit_code":
            code = row[C.CREDIT_CODE]
            wrong = rng.choice([ch for ch in ALPHABET if ch != code[-1]])
            row[C.CREDIT_CODE] = code[:-1] + wrong
            intended[row[C.SUBMISSION_ID]] = "INELIGIBLE_CREDIT_CODE"
        else:
            local, domain = row[C.CONTACT_EMAIL].split("@")
            row[C.CONTACT_EMAIL] = rng.choice((
                f"{local}.{domain}", f"{local}@{domain.split('.')[0]}", f"{local}@@{domain}", f"{local} @{domain}",
            ))
            intended[row[C.SUBMISSION_ID]] = "INELIGIBLE_CONTACT_EMAIL"
    return intended


def experts(rng: random.Random, n: int, applicant_codes: set[str]) -> list[dict]:
    """A pool of n experts from Fujian universities and institutes, none tied to an applicant."""
    codes: dict[str, str] = {}
    for org, prefix, _ in INSTITUTIONS:
        while (code := credit_code(rng, prefix)) in applicant_codes:  # pragma: no cover - 1 in 31**9
            pass
        codes[org] = code
    out, names = [], set()
    for i in range(n):
        org, _, label = rng.choice(INSTITUTIONS)
        while (who := person(rng))[0] in names:
            pass
        names.add(who[0])
        out.append({
            C.EXPERT_ID: f"E{i + 1:02d}", C.EXPERT_NAME: who[0], C.EXPERT_EMAIL: f"{who[1]}@{label}.example.cn",
            C.ORGANISATION: org, C.ORG_CREDIT_CODE: codes[org],
        })
    return out


def _step_round(points: float, step: Decimal, top: Decimal) -> Decimal:
    value = (Decimal(repr(points)) / step).quantize(Decimal(1)) * step
    return min(max(value, Decimal(0)), top).normalize()


def scores(rng: random.Random, programme: Programme, rows: list[dict], pool: list[dict]) -> list[dict]:
    """Every expert scores every application: latent quality + expert leniency + noise.

    The latent quality is drawn for every row (so the draw sequence does not
    depend on the programme) and replaced by a row's `_quality` when a sampler
    set one (a platform's quality follows its service figures).
    """
    quality = {r[C.SUBMISSION_ID]: min(96.0, max(30.0, rng.gauss(71, 12))) for r in rows}
    quality.update({r[C.SUBMISSION_ID]: float(r[QUALITY]) for r in rows if QUALITY in r})
    bias = [rng.gauss(0, 2.5) for _ in pool]
    lenient, harsh = rng.sample(range(len(pool)), 2)
    bias[lenient] += rng.uniform(5, 8)
    bias[harsh] -= rng.uniform(6, 9)
    steps = [Decimal(1) if rng.random() < 0.25 else Decimal("0.5") for _ in pool]
    # an application is stronger on some criteria than on others, and every expert sees that
    profile = {(sid, c.id): q + rng.gauss(0, 4) for sid, q in quality.items() for c in programme.criteria}
    out = []
    for e, expert in enumerate(pool):
        for row in rows:
            sid = row[C.SUBMISSION_ID]
            for crit in programme.criteria:
                top = crit.max_points
                pct = profile[sid, crit.id] + bias[e] + rng.gauss(0, 6)
                pct = min(100.0, max(5.0, pct))
                step = Decimal("0.25") if rng.random() < 0.03 else steps[e]
                score = _step_round(pct / 100 * float(top), step, top)
                out.append({C.EXPERT_ID: expert[C.EXPERT_ID], C.SUBMISSION_ID: sid, C.CRITERION: crit.id, C.SCORE: score})
    return out
