"""Every programme's sampler, by programme id."""
from __future__ import annotations

from flows.sample import scenario
from flows.sample.draft import Sampler

SAMPLERS: dict[str, Sampler] = {
    "scenario": scenario.SAMPLER,
}
