"""Drawing a sample round and keeping only a draw that shows what it is for.

A draw is evaluated with the real round computation (`evaluate_draft`); one that
would stop for a manager's tie decision, or that does not show its programme's
intended outcomes, is redrawn with the next seed. The seed actually used is
returned, so the sample can be regenerated exactly.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Sequence

from flows.sample.draft import Draft, EarlierAward, Redraw, Sampler, evaluate_draft, shows_intended
from flows.sample.people import QUALITY, applicants, experts, make_ineligible, same_applicant, scores
from flows.sample.registry import SAMPLERS
from scoring import columns as C
from scoring.errors import ConfigError, DecisionRequired
from scoring.pipeline import RoundResult
from scoring.rules import Programme

MAX_DRAWS = 50


def call_window(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 6, 15, 9, 0, 0), dt.datetime(year, 7, 31, 17, 30, 0)


def _resubmit(rng: random.Random, draft: Draft, earlier: Sequence[EarlierAward]) -> None:
    """Rows that re-submit projects an earlier round of the set paid: the ledger will top them up."""
    rows = draft.submissions
    for award in earlier:
        free = [r for r in rows[1:-1] if r[C.SUBMISSION_ID] not in draft.reserved]
        row = rng.choice(free)
        same_applicant(row, award.applicant)
        row[C.TITLE] = award.title
        row[QUALITY] = 84.0  # a project already rewarded once is a strong one
        sid = row[C.SUBMISSION_ID]
        draft.protect(row)
        draft.expected[sid] = C.TOPUP_HIGHEST
        draft.ledger_prior.append(award.as_prior_award())
        draft.from_ledger[sid] = f"{award.round_id} {award.submission_id}"


def _draw(
    sampler: Sampler,
    rng: random.Random,
    programme: Programme,
    year: int,
    n_apps: int | None,
    n_exp: int | None,
    earlier: Sequence[EarlierAward],
) -> Draft:
    opens, closes = call_window(year)
    rows = applicants(rng, n_apps or rng.randint(*sampler.sizes), opens, closes, sampler.namer, sampler.repeat_rate)
    for i, row in enumerate(rows, 1):
        row[C.SUBMISSION_ID] = f"{sampler.prefix}{year}-{i:03d}"
    draft = Draft(programme=programme, config={"programme": programme.id, "year": year}, submissions=rows)
    sampler.fill(rng, draft)
    if earlier:
        _resubmit(rng, draft, earlier)
    keep = draft.reserved | set(draft.intended) | set(draft.expected)
    draft.intended.update(make_ineligible(rng, rows, closes, sampler.ineligible, reserved=keep))
    draft.config = {
        "programme": programme.id,
        "year": year,
        "title": f"{year}年度{programme.name}{sampler.title_suffix}",
        "organiser": programme.department,
        "contact": f"0591-8{rng.randint(0, 9_999_999):07d}",
        "call_window": {"opens": opens, "closes": closes},
    }
    if draft.scored:
        draft.experts = experts(rng, n_exp or rng.randint(5, 7), {r[C.CREDIT_CODE] for r in rows})
        draft.scores = scores(rng, programme, rows, draft.experts)
    sampler.references(rng, draft)
    return draft


def _good(sampler: Sampler, draft: Draft, result: RoundResult) -> bool:
    return shows_intended(draft, result) and sampler.shows(draft, result)


def draw_verified(
    programme: Programme,
    year: int,
    seed: int,
    n_applications: int | None = None,
    n_experts: int | None = None,
    earlier: Sequence[EarlierAward] = (),
) -> tuple[Draft, int, RoundResult]:
    """A draft that runs without a tie decision and shows every intended outcome; the seed used; its result."""
    sampler = SAMPLERS[programme.id]
    for attempt in range(MAX_DRAWS):
        used = seed + attempt
        rng = sampler.rng(programme.id, used)
        try:
            draft = _draw(sampler, rng, programme, year, n_applications, n_experts, earlier)
            result = evaluate_draft(draft)
            if not _good(sampler, draft, result):
                continue
            if sampler.finish is not None:
                sampler.finish(rng, draft, result)
                result = evaluate_draft(draft)
                if not _good(sampler, draft, result):
                    continue
        except (DecisionRequired, Redraw):
            continue
        return draft, used, result
    raise ConfigError(
        f"no sample {programme.id} round with these sizes shows every outcome after {MAX_DRAWS} seeds "
        f"from {seed}; try more applications"
    )


def draw_round(programme: Programme, year: int, seed: int, n_applications: int | None = None,
               n_experts: int | None = None) -> tuple[Draft, int]:
    """A draft that runs without a tie decision and shows every intended outcome; and the seed used."""
    draft, used, _ = draw_verified(programme, year, seed, n_applications, n_experts)
    return draft, used
