"""Every programme's sampler, by programme id, in the order a sample set runs them.

The order matters for a set run with one awards ledger: a programme that
re-submits another's project (see `flows.sample.write.RESUBMITS`) comes after it.
"""
from __future__ import annotations

from flows.sample import (
    hardware, industrial_internet, model_filing, platform, poc_new, rd_matching, scenario, skills_training,
)
from flows.sample.draft import Sampler

SAMPLERS: dict[str, Sampler] = {
    "scenario": scenario.SAMPLER,
    "hardware": hardware.SAMPLER,
    "platform": platform.SAMPLER,
    "model_filing": model_filing.SAMPLER,
    "poc_new": poc_new.SAMPLER,
    "rd_matching": rd_matching.SAMPLER,
    "industrial_internet": industrial_internet.SAMPLER,
    "skills_training": skills_training.SAMPLER,
}
