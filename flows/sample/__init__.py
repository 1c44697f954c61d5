"""Seeded sample round workspaces: what `rounds demo` runs and what tests read.

`write_sample_round` writes a workspace folder in the layout of SPEC.md
(round.toml, submissions.xlsx, experts.xlsx and scores/ where experts score,
references/) with realistic but entirely made-up Fuzhou data: Chinese
enterprise names with valid 统一社会信用代码, products, models, platforms and
projects that fit the programme, a panel of experts from Fujian universities
with a lenient and a harsh scorer, deliberately ineligible applications and the
cases each programme's rules are about (caps reached and crossed, 就高不重复,
an excluded product, grades). `write_sample_set` writes one round per programme
for the demo, linked so that the awards ledger matters.

Reproducible by construction: all randomness comes from one `random.Random`
per draw, seeded from `seed`, and the same seed writes byte-identical files.
Each draw is checked with the real round computation and redrawn with the next
seed until it shows what it is for (`flows.sample.draw`).

Modules: `vocab` (names and places), `people` (applicants, ineligible rows,
experts, scores), `draft` (the draft and the real evaluation), `draw`, `write`,
and one module per programme with its `SAMPLER` (`registry.SAMPLERS`).
"""
from __future__ import annotations

from flows.sample.draft import Draft, EarlierAward, Sampler, evaluate_draft, submission_columns
from flows.sample.draw import MAX_DRAWS, draw_round
from flows.sample.registry import SAMPLERS
from flows.sample.write import SampleInfo, render_files, sample_programmes, write_sample_round, write_sample_set

__all__ = [
    "MAX_DRAWS",
    "SAMPLERS",
    "Draft",
    "EarlierAward",
    "SampleInfo",
    "Sampler",
    "draw_round",
    "evaluate_draft",
    "render_files",
    "sample_programmes",
    "submission_columns",
    "write_sample_round",
    "write_sample_set",
]
