"""The sample rounds of every programme: real workspaces that the real intake reads and the real core ranks.

Each programme's sample is written to a temporary folder, read back through
`flows.intake.load_workspace` (the path `rounds run` takes) and evaluated with
`scoring.pipeline.evaluate_round` with an empty awards ledger. The assertions
recompute each programme's rule from the files (min(requested, cap), grade
amounts, the enterprise cap, the budget, 3,000 a certificate) rather than
compare with fixed numbers, and check that every case the sampler built on
purpose shows the reason code it was built for.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from flows import ledger
from flows.intake import RoundInputs, load_workspace
from flows.sample import SAMPLERS, SampleInfo, write_sample_round, write_sample_set
from flows.stages import prepare
from flows.workspace import Workspace, available_programmes
from scoring import columns as C
from scoring.composite import scaled_column
from scoring.eligibility import RULES
from scoring.errors import ConfigError
from scoring.pipeline import RoundResult, evaluate_round
from scoring.similarity import normalise_name
from scoring.uscc import is_valid_uscc

S, R, N, I = C.SELECTED, C.RESERVE, C.NOT_SELECTED, C.INELIGIBLE
PROGRAMMES = sorted(p for p in SAMPLERS if p != "scenario")  # scenario: tests/integration/test_sample.py


class Sample:
    """A written sample, its inputs as read back, and its ranking (indexed by submission_id)."""

    def __init__(self, info: SampleInfo, inputs: RoundInputs, result: RoundResult, config: dict, programme):
        self.info, self.inputs, self.result, self.config, self.programme = info, inputs, result, config, programme
        self.r = result.ranking.set_index(C.SUBMISSION_ID)
        self.subs = inputs.submissions.set_index(C.SUBMISSION_ID)

    def with_code(self, code: str) -> pd.DataFrame:
        return self.r[self.r[C.REASON_CODE] == code]

    def outcome(self, outcome: str) -> pd.DataFrame:
        return self.r[self.r[C.OUTCOME] == outcome]


def read_sample(info: SampleInfo) -> Sample:
    config, programme = Workspace.at(info.root).load_config()
    inputs = load_workspace(info.root, programme)
    result = evaluate_round(
        submissions=inputs.submissions, scores=inputs.scores, programme=programme, config=config,
        excluded_products=inputs.excluded_products, prior_awards=inputs.prior_awards,
    )
    raw = tomllib.loads((info.root / "round.toml").read_text(encoding="utf-8"))
    return Sample(info, inputs, result, raw, programme)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Sample]:
    base = tmp_path_factory.mktemp("samples")
    return {pid: read_sample(write_sample_round(base / pid, programme=pid, seed=7)) for pid in PROGRAMMES}


def test_every_programme_file_has_a_sampler() -> None:
    assert set(SAMPLERS) == set(available_programmes())


@pytest.mark.parametrize("pid", PROGRAMMES)
def test_every_case_built_on_purpose_shows_its_reason_code(samples, pid) -> None:
    s = samples[pid]
    info = s.info
    assert 20 <= info.n_applications == len(s.r) <= 60
    assert set(s.outcome(I).index) == set(info.ineligible_reasons)
    for sid, code in {**info.ineligible_reasons, **info.expected_reasons}.items():
        assert s.r.at[sid, C.REASON_CODE] == code, (sid, code, s.r.at[sid, C.REASON])
    # formal review: every rule of the programme's own fails once, and at least one common rule
    codes = set(info.ineligible_reasons.values())
    common = {"credit_code", "contact_email", "call_window"}
    assert codes & {RULES[name].code for name in common}
    assert {RULES[name].code for name in s.programme.eligibility.rules if name not in common} <= codes
    for sid, code in s.subs[C.CREDIT_CODE].items():
        assert is_valid_uscc(code) == (info.ineligible_reasons.get(sid) != "INELIGIBLE_CREDIT_CODE")
    assert all(sid.startswith(f"{SAMPLERS[pid].prefix}2026-") for sid in s.r.index)
    assert s.subs[C.TITLE].str.len().min() >= 6 and s.subs[C.ENTERPRISE_NAME].str.match(r"^(福州|福建)").all()
    scored = s.inputs.scores is not None and len(s.inputs.scores) > 0
    assert scored == (info.n_experts > 0) == (info.root / "experts.xlsx").is_file() == (info.root / "scores").is_dir()
    if scored:
        assert 5 <= info.n_experts <= 7


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("pid", PROGRAMMES)
def test_the_same_seed_writes_the_same_bytes(tmp_path, pid) -> None:
    a = write_sample_round(tmp_path / "a", programme=pid, seed=5)
    b = write_sample_round(tmp_path / "b", programme=pid, seed=5)
    c = write_sample_round(tmp_path / "c", programme=pid, seed=a.seed + 1)  # (5 may have been redrawn as 6)
    assert (a.seed, a.ineligible_reasons, a.expected_reasons) == (b.seed, b.ineligible_reasons, b.expected_reasons)
    assert _files(a.root) == _files(b.root)
    assert _files(a.root)["submissions.xlsx"] != _files(c.root)["submissions.xlsx"]


def test_hardware(samples) -> None:
    s = samples["hardware"]
    sel = s.outcome(S)
    assert len(sel) == 6 and len(s.outcome(R)) == 3 and len(s.with_code(C.BELOW_THRESHOLD)) >= 1
    asked = s.subs.loc[sel.index, "requested_amount_yuan"]
    assert (sel[C.AMOUNT_YUAN] == asked.clip(upper=500_000)).all()
    assert (asked > 500_000).any() and (asked < 500_000).any()
    failing = {code: sid for sid, code in s.info.ineligible_reasons.items()}
    row = s.subs.loc[failing["INELIGIBLE_OWN_IP"]]
    assert not row["own_ip"] and row["self_produced"] and row["fuzhou_units"] >= 100
    assert not s.subs.at[failing["INELIGIBLE_SELF_PRODUCED"], "self_produced"]
    assert s.subs.at[failing["INELIGIBLE_AT_SCALE"], "fuzhou_units"] < 100
    # the excluded product: the same enterprise, its name retyped, the listing named in the reason
    listed = s.subs.loc[failing[C.EXCLUDED_LISTED]]
    listing = s.inputs.excluded_products
    hit = listing[listing[C.CREDIT_CODE] == listed[C.CREDIT_CODE]].iloc[0]
    assert hit[C.PRODUCT_NAME] != listed["product_name"]
    assert normalise_name(hit[C.PRODUCT_NAME]) == normalise_name(listed["product_name"])
    assert hit[C.PRODUCT_NAME] in s.r.at[failing[C.EXCLUDED_LISTED], C.REASON]
    # a listed name that an applicant's product also carries, under another credit code: not excluded
    namesakes = s.subs[s.subs["product_name"].isin(listing[C.PRODUCT_NAME])
                       & ~s.subs[C.CREDIT_CODE].isin(listing[C.CREDIT_CODE])]
    assert len(namesakes) == 1 and s.r.at[namesakes.index[0], C.REASON_CODE] != C.EXCLUDED_LISTED


def test_platform(samples) -> None:
    s = samples["platform"]
    eligible = s.r[s.r[C.OUTCOME] != I]
    assert {"A", "B", "C"} <= set(eligible["grade"]) and len(s.with_code(C.BELOW_THRESHOLD)) >= 1
    pay = {"A": 1_000_000, "B": 600_000, "C": 300_000}
    plain = eligible[eligible[C.REASON_CODE] == ""]
    assert (plain[C.AMOUNT_YUAN] == plain["grade"].map(pay)).all()
    # the unrecognised platform has the largest figures of all and moves nobody's scaling
    (new,) = [sid for sid, code in s.info.ineligible_reasons.items() if code == "INELIGIBLE_RECOGNISED"]
    assert not s.subs.at[new, "recognised"]
    assert s.subs.at[new, "enterprises_served"] > s.subs.loc[eligible.index, "enterprises_served"].max()
    scaled = eligible[scaled_column("enterprises_served")].astype(float)
    assert scaled.max() == 100 and scaled.min() == 0


def test_model_filing(samples) -> None:
    s = samples["model_filing"]
    subs, r = s.subs, s.r
    assert not (s.info.root / "experts.xlsx").exists() and not (s.info.root / "scores").exists()
    capped = [sid for sid, code in s.info.expected_reasons.items() if code == C.ENTERPRISE_CAP]
    filings = r[r[C.CREDIT_CODE] == subs.at[capped[0], C.CREDIT_CODE]]
    assert sorted(subs.loc[filings.index, "filing_level"]) == ["national"] * 3 + ["provincial"]
    assert filings[C.AMOUNT_YUAN].sum() == 500_000
    # the national filing that crosses the cap gets the remainder; the provincial one nothing
    assert sorted((subs.at[sid, "filing_level"], r.at[sid, C.OUTCOME], r.at[sid, C.AMOUNT_YUAN]) for sid in capped) == [
        ("national", S, 100_000), ("provincial", N, 0)]
    (twin,) = [sid for sid, c in s.info.expected_reasons.items() if c == C.HIGHER_AWARD_ELSEWHERE]
    same = subs[(subs[C.CREDIT_CODE] == subs.at[twin, C.CREDIT_CODE]) & (subs["model_name"] == subs.at[twin, "model_name"])]
    assert sorted(same["filing_level"]) == ["national", "provincial"] and subs.at[twin, "filing_level"] == "provincial"
    assert r.loc[same.index, C.AMOUNT_YUAN].sum() == 200_000
    (late,) = [sid for sid, c in s.info.ineligible_reasons.items() if c == "INELIGIBLE_FILED_IN_YEAR"]
    assert subs.at[late, "filed_on"].year == 2025
    topped = s.info.topup_id
    assert (r.at[topped, C.AMOUNT_YUAN], subs.at[topped, "filing_level"]) == (100_000, "national")
    assert s.inputs.prior_awards[C.PROJECT_TITLE].tolist() == [subs.at[topped, "model_name"]]
    plain = r[(r[C.OUTCOME] == S) & (r[C.REASON_CODE] == "")]
    assert (plain[C.AMOUNT_YUAN] == subs.loc[plain.index, "filing_level"].map({"national": 200_000,
                                                                               "provincial": 100_000})).all()


def test_poc_new(samples) -> None:
    s = samples["poc_new"]
    budget = s.config["overrides"]["award"]["budget_yuan"]
    sel, cut = s.outcome(S), s.with_code(C.BUDGET_CAP)
    assert budget % 100_000 == 0 and sel[C.AMOUNT_YUAN].sum() <= budget and len(cut) >= 2
    assert cut[C.RANK].min() > sel[C.RANK].max()  # paid in order until the budget is used
    first_cut = cut.sort_values(C.RANK).index[0]
    assert sel[C.AMOUNT_YUAN].sum() + min(s.subs.at[first_cut, "requested_amount_yuan"], 500_000) > budget
    asked = s.subs.loc[sel.index, "requested_amount_yuan"]
    assert (sel[C.AMOUNT_YUAN] == asked.clip(upper=500_000)).all() and (asked > 500_000).any()
    (old,) = [sid for sid, c in s.info.ineligible_reasons.items() if c == "INELIGIBLE_RECOGNISED_IN_YEAR"]
    assert s.subs.at[old, "recognised_on"].year == 2025 and "〔2025〕" in s.subs.at[old, "recognition_no"]


def test_rd_matching(samples) -> None:
    s = samples["rd_matching"]
    sel = s.outcome(S)
    award = s.subs.loc[sel.index, "provincial_award_yuan"]
    plain = sel[C.REASON_CODE] == ""
    assert (sel.loc[plain, C.AMOUNT_YUAN] == award[plain].clip(upper=3_000_000)).all()
    assert ((award > 3_000_000) & (sel[C.AMOUNT_YUAN] == 3_000_000)).any()
    (second,) = s.info.expected_reasons
    code = s.subs.at[second, C.CREDIT_CODE]
    both = sel[sel[C.CREDIT_CODE] == code]
    assert len(both) == 2 and both[C.AMOUNT_YUAN].sum() == 3_000_000
    assert s.subs.loc[both.index, "provincial_award_yuan"].sum() > 3_000_000
    (none,) = [sid for sid, c in s.info.ineligible_reasons.items() if c == "INELIGIBLE_PROVINCIAL_AWARD"]
    assert s.subs.at[none, "provincial_award_yuan"] == 0


def test_industrial_internet(samples) -> None:
    s = samples["industrial_internet"]
    sel = s.outcome(S)
    asked = s.subs.loc[sel.index, "requested_amount_yuan"]
    assert (sel[C.AMOUNT_YUAN] == asked.clip(upper=2_000_000)).all() and (asked > 2_000_000).any()
    assert sel[C.SCORE].astype(float).min() >= 60
    below = s.with_code(C.BELOW_THRESHOLD)
    assert len(below) >= 2 and below[C.SCORE].astype(float).max() < 60
    assert s.info.from_ledger == {}  # alone, nothing re-submitted


def test_skills_training(samples) -> None:
    s = samples["skills_training"]
    sel = s.outcome(S)
    due = pd.concat([s.subs.loc[sel.index, "requested_amount_yuan"],
                     3_000 * s.subs.loc[sel.index, "certificates"]], axis=1).min(axis=1)
    topped = s.info.topup_id
    prior = int(s.inputs.prior_awards[C.AMOUNT_YUAN].sum())
    assert s.r.at[topped, C.AMOUNT_YUAN] == due[topped] - prior
    assert (sel.drop(index=topped)[C.AMOUNT_YUAN] == due.drop(index=topped)).all()
    (over,) = [sid for sid, c in s.info.expected_reasons.items() if c == ""]
    assert s.r.at[over, C.AMOUNT_YUAN] == 3_000 * s.subs.at[over, "certificates"] < s.subs.at[over, "requested_amount_yuan"]
    (waiting,) = [sid for sid, c in s.info.ineligible_reasons.items() if c == "INELIGIBLE_CERTIFIED"]
    assert s.subs.at[waiting, "certificates"] == 0


def test_a_set_runs_scenario_first_and_its_paid_project_is_topped_up_by_industrial_internet(tmp_path, _rounds_home):
    infos = write_sample_set(tmp_path / "set", ["industrial_internet", "scenario"], seed=7)
    assert [i.programme for i in infos] == ["scenario", "industrial_internet"]
    assert [i.root.name for i in infos] == ["scenario-2026", "industrial_internet-2026"]
    (sid, paid_by), = infos[1].from_ledger.items()
    assert infos[1].expected_reasons[sid] == C.TOPUP_HIGHEST and paid_by.startswith("2026-scenario ")
    # run in order against one awards ledger, the way the demo does (prepare, then record the final awards)
    rankings = {}
    for info in infos:
        p = prepare(Workspace.at(info.root))
        ledger.record_awards(_rounds_home, config=p.config, programme=p.programme, workspace=p.ws.root,
                             ranking=p.result.ranking, ranking_sha256=p.ranking_hash, recorded_by="demo")
        rankings[info.programme] = p.result.ranking.set_index(C.SUBMISSION_ID)
    first = rankings["scenario"].loc[paid_by.split()[1]]
    again = rankings["industrial_internet"].loc[sid]
    assert (first[C.CREDIT_CODE], first[C.TITLE]) == (again[C.CREDIT_CODE], again[C.TITLE])
    asked = min(int(again["requested_amount_yuan"]), 2_000_000)
    assert (again[C.OUTCOME], again[C.REASON_CODE]) == (S, C.TOPUP_HIGHEST)
    assert again[C.AMOUNT_YUAN] == asked - first[C.AMOUNT_YUAN]
    assert "人工智能典型应用场景" in again[C.REASON]


def test_a_set_refuses_an_unknown_programme_before_writing(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no sample data for programme 'lottery'"):
        write_sample_set(tmp_path / "set", ["scenario", "lottery"])
    assert not (tmp_path / "set").exists()
