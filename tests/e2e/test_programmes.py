"""Every programme's hand-written workspace through the real intake and evaluation (flows.stages.prepare).

The expected rankings below were worked out by hand from the SPEC and the files
in tests/fixtures/handwritten-<programme>/ (the comments show the sums). A
second part edits a temporary copy of the programme files (ROUNDS_PROGRAMMES_DIR)
and shows that a cap, a weight or a grade edge changes the result with no code
change. A third runs rounds against the awards ledger the way the round flow does.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from flows import ledger
from flows.intake import load_workspace
from flows.stages import prepare
from flows.workspace import PROGRAMMES_DIR, Workspace
from scoring import columns as C
from scoring.errors import ConfigError
from scoring.ledger_rules import combine_prior_awards
from scoring.pipeline import evaluate_round

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

S, R, N, I = C.SELECTED, C.RESERVE, C.NOT_SELECTED, C.INELIGIBLE

# (submission_id, score, rank, outcome, amount_yuan, reason_code) in ranking order
EXPECTED: dict[str, list[tuple]] = {
    # 3 experts (plain mean). Six places: H09 is dropped (600,000 received elsewhere ≥ 500,000) and takes none;
    # H11 and H12 tie at 82.00, H11 is ahead on "scale" and takes the sixth place.
    "hardware": [
        ("H01", "91.00", 1, S, 500_000, ""),
        ("H07", "89.00", 2, S, 500_000, ""),                       # requested 800,000, capped
        ("H08", "87.00", 3, S, 300_000, C.TOPUP_HIGHEST),          # 500,000 − 200,000 received in 2025
        ("H09", "86.00", 4, N, 0, C.HIGHER_AWARD_ELSEWHERE),
        ("H06", "85.00", 5, S, 350_000, ""),                       # exactly 100 units: at scale
        ("H10", "84.00", 6, S, 420_000, ""),
        ("H11", "82.00", 7, S, 300_000, ""),
        ("H12", "82.00", 8, R, 0, C.COUNT_CAP),
        ("H13", "78.00", 9, R, 0, C.COUNT_CAP),
        ("H14", "75.00", 10, R, 0, C.COUNT_CAP),
        ("H15", "70.00", 11, N, 0, C.COUNT_CAP),
        ("H17", "65.00", 12, N, 0, C.COUNT_CAP),                   # listed name, but another enterprise
        ("H16", "59.67", 13, N, 0, C.BELOW_THRESHOLD),             # (60 + 59 + 60) / 3
        ("H02", "", None, I, 0, C.EXCLUDED_LISTED),                # "智能巡检机器人 Ｘ１" = listed "智能巡检机器人X1"
        ("H03", "", None, I, 0, "INELIGIBLE_OWN_IP"),
        ("H04", "", None, I, 0, "INELIGIBLE_SELF_PRODUCED"),
        ("H05", "", None, I, 0, "INELIGIBLE_AT_SCALE"),            # 99 units
    ],
    # index = mean of six scaled indicators (services_delivered equal for all → 100); composite = 0.6 idx + 0.4 panel
    "platform": [
        ("P01", "85.50", 1, S, 1_000_000, ""),   # idx 575/6 → 57.50 + 0.4 × 70 = 85.50  A
        ("P05", "85.00", 2, S, 1_000_000, ""),   # idx 85 → 51 + 34 = 85.00: on the A edge
        ("P02", "77.25", 3, S, 600_000, ""),     # idx 492.5/6 → 49.25 + 28 = 77.25  B
        ("P03", "66.00", 4, S, 300_000, ""),     # idx 60 → 36 + 30 = 66.00  C
        ("P04", "42.00", 5, N, 0, C.BELOW_THRESHOLD),  # idx 100/6 → 10 + 32 = 42.00
        ("P06", "", None, I, 0, "INELIGIBLE_RECOGNISED"),
    ],
    # national first, then filed_on; 500,000 per enterprise
    "model_filing": [
        ("M03", "", 1, S, 200_000, ""),
        ("M01", "", 2, S, 200_000, ""),
        ("M06", "", 3, S, 200_000, ""),
        ("M04", "", 4, S, 100_000, C.ENTERPRISE_CAP),       # crosses 500,000: the remainder
        ("M14", "", 5, S, 100_000, C.TOPUP_HIGHEST),        # 100,000 received for its 2025 registration
        ("M05", "", 6, N, 0, C.ENTERPRISE_CAP),             # nothing left
        ("M02", "", 7, N, 0, C.HIGHER_AWARD_ELSEWHERE),     # same model as M01, provincial
        ("M13", "", 8, S, 100_000, ""),
        ("M07", "", 9, S, 100_000, ""),
        ("M08", "", 10, S, 100_000, ""),
        ("M09", "", 11, S, 100_000, ""),                    # 200,000 + 3 × 100,000: cap reached exactly
        ("M10", "", 12, N, 0, C.ENTERPRISE_CAP),
        ("M11", "", None, I, 0, "INELIGIBLE_FILED_IN_YEAR"),
        ("M12", "", None, I, 0, "INELIGIBLE_FILED_IN_YEAR"),
    ],
    # budget 1,200,000 by rank in order of recognition: 500,000 + 500,000, then 300,000 does not fit
    "poc_new": [
        ("C01", "", 1, S, 500_000, ""),
        ("C02", "", 2, S, 500_000, ""),                     # requested 650,000
        ("C04", "", 3, N, 0, C.BUDGET_CAP),
        ("C03", "", None, I, 0, "INELIGIBLE_RECOGNISED_IN_YEAR"),
    ],
    # due 1,200,000 + 3,000,000 + 1,800,000 (R04 capped at 3,000,000 for the enterprise) + 800,000 = 6,800,000;
    # budget 6,000,000 pro rata: floor(x × 6/6.8), the two largest remainders (R02, R01) get one yuan more
    "rd_matching": [
        ("R01", "", 1, S, 1_058_824, C.BUDGET_CAP),
        ("R02", "", 2, S, 2_647_059, C.BUDGET_CAP),
        ("R04", "", 3, S, 1_588_235, C.ENTERPRISE_CAP),
        ("R05", "", 4, S, 705_882, C.BUDGET_CAP),
        ("R03", "", None, I, 0, "INELIGIBLE_PROVINCIAL_AWARD"),
    ],
    # budget 4,000,000 by rank: 2,000,000 (capped) + 1,500,000; I03's 800,000 does not fit and I06 ranks below it
    "industrial_internet": [
        ("I01", "90.00", 1, S, 2_000_000, ""),
        ("I02", "85.00", 2, S, 1_500_000, ""),
        ("I03", "80.00", 3, N, 0, C.BUDGET_CAP),
        ("I06", "75.00", 4, N, 0, C.BUDGET_CAP),
        ("I04", "55.00", 5, N, 0, C.BELOW_THRESHOLD),
        ("I05", "", None, I, 0, "INELIGIBLE_CREDIT_CODE"),
    ],
    # min(requested, 3,000 × certificates)
    "skills_training": [
        ("T01", "", 1, S, 120_000, ""),
        ("T02", "", 2, S, 30_000, ""),
        ("T04", "", 3, S, 60_000, ""),
        ("T05", "", 4, S, 40_000, C.TOPUP_HIGHEST),         # 90,000 − 50,000 received elsewhere
        ("T03", "", None, I, 0, "INELIGIBLE_CERTIFIED"),
    ],
}


def copy_fixture(tmp_path: Path, pid: str, name: str = "round") -> Path:
    dst = tmp_path / name
    shutil.copytree(FIXTURES / f"handwritten-{pid}", dst)
    return dst


def table(csv_bytes: bytes) -> list[tuple]:
    rows = csv.DictReader(io.StringIO(csv_bytes.decode("utf-8")))
    return [(r[C.SUBMISSION_ID], r[C.SCORE], int(r[C.RANK]) if r[C.RANK] else None, r[C.OUTCOME],
             int(r[C.AMOUNT_YUAN]), r[C.REASON_CODE]) for r in rows]


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_handwritten_workspace_gives_the_hand_computed_ranking(tmp_path, pid):
    ws = Workspace.at(copy_fixture(tmp_path, pid))
    p = prepare(ws)
    assert p.programme.id == pid
    assert table(p.files["ranking.csv"]) == EXPECTED[pid]
    assert prepare(ws).files["ranking.csv"] == p.files["ranking.csv"]          # reproducible, byte for byte
    assert not (ws.root / "out").exists() or not (ws.root / "out" / "ranking.csv").exists()


def test_reasons_name_what_decided(tmp_path):
    rows = {r[C.SUBMISSION_ID]: r for r in prepare(Workspace.at(copy_fixture(tmp_path, "hardware"))).result.ranking
            .to_dict("records")}
    assert "“智能巡检机器人X1”" in rows["H02"][C.REASON] and "2025年国家级" in rows["H02"][C.REASON]
    assert "59.67" in rows["H16"][C.REASON]
    plat = {r[C.SUBMISSION_ID]: r for r in prepare(Workspace.at(copy_fixture(tmp_path, "platform", "p")))
            .result.ranking.to_dict("records")}
    assert plat["P05"]["grade"] == "A" and plat["P05"]["enterprises_served_scaled"] == "100.00"
    assert plat["P01"]["enterprises_served_scaled"] == "75.00"   # P06's 1,000 is not in the cohort
    assert "最弱指标：服务企业数75.00" in plat["P01"]["grade_note"]


# --- rules are data --------------------------------------------------------------------------------

def edited_programmes(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    folder = tmp_path / "programmes"
    shutil.copytree(PROGRAMMES_DIR, folder)
    for pid, changes in edits.items():
        path = folder / f"{pid}.toml"
        text = path.read_text(encoding="utf-8")
        for old, new in changes:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return folder


def outcomes(ws: Path) -> dict[str, tuple]:
    return {r[0]: r[2:] for r in table(prepare(Workspace.at(ws)).files["ranking.csv"])}


def test_changing_caps_weights_and_grade_edges_in_the_programme_files_changes_the_result(tmp_path, monkeypatch):
    hw, pf, mf = (copy_fixture(tmp_path, pid, pid) for pid in ("hardware", "platform", "model_filing"))
    before = {pid: outcomes(ws) for pid, ws in (("hardware", hw), ("platform", pf), ("model_filing", mf))}
    folder = edited_programmes(tmp_path, {
        "hardware": [("count_cap = 6 ", "count_cap = 4 "), ("max_amount_yuan = 500000 ", "max_amount_yuan = 400000 ")],
        "platform": [("min_score = 85", "min_score = 85.5"), ("indicator_share = 60 ", "indicator_share = 50 ")],
        "model_filing": [("enterprise_cap_yuan = 500000 ", "enterprise_cap_yuan = 300000 ")],
    })
    monkeypatch.setenv("ROUNDS_PROGRAMMES_DIR", str(folder))
    after = {pid: outcomes(ws) for pid, ws in (("hardware", hw), ("platform", pf), ("model_filing", mf))}

    # hardware: four places of at most 400,000; H08's top-up is now 400,000 − 200,000
    assert before["hardware"]["H10"] == (6, S, 420_000, "")
    assert after["hardware"]["H01"] == (1, S, 400_000, "")
    assert after["hardware"]["H08"] == (3, S, 200_000, C.TOPUP_HIGHEST)
    assert after["hardware"]["H10"] == (6, R, 0, C.COUNT_CAP)
    assert after["hardware"]["H13"] == (9, N, 0, C.COUNT_CAP)
    # platform: 50/50 and an A edge of 85.5 → P01 0.5 × 95.833… + 35 = 82.92 (B), P05 42.5 + 42.5 = 85.00 (B)
    assert before["platform"]["P05"] == (2, S, 1_000_000, "")
    assert after["platform"]["P05"] == (1, S, 600_000, "")
    assert after["platform"]["P01"] == (2, S, 600_000, "")
    # model_filing: 300,000 per enterprise → M03 200,000, M01 crosses with 100,000, M04 gets nothing
    assert after["model_filing"]["M01"] == (2, S, 100_000, C.ENTERPRISE_CAP)
    assert after["model_filing"]["M04"] == (4, N, 0, C.ENTERPRISE_CAP)
    assert after["model_filing"]["M09"] == (11, N, 0, C.ENTERPRISE_CAP)


def test_round_toml_overrides_change_the_result_for_one_round_only(tmp_path):
    ws = copy_fixture(tmp_path, "poc_new")
    text = (ws / "round.toml").read_text(encoding="utf-8")
    (ws / "round.toml").write_text(text.replace("budget_yuan = 1200000", "budget_yuan = 1300000"), encoding="utf-8")
    assert outcomes(ws)["C04"] == (3, S, 300_000, "")
    assert outcomes(copy_fixture(tmp_path, "poc_new", "other"))["C04"] == (3, N, 0, C.BUDGET_CAP)


# --- the awards ledger across rounds ---------------------------------------------------------------

def evaluate_with_ledger(root: Path, home: Path):
    """What the round flow does before ranking: read the ledger, combine, evaluate."""
    ws = Workspace.at(root)
    config, programme = ws.load_config()
    ledger.check_can_finalise(home, config, ws.root)
    inputs = load_workspace(ws.root, programme)
    snap = ledger.snapshot(home, config, programme)
    result = evaluate_round(
        submissions=inputs.submissions, scores=inputs.scores, programme=programme, config=config,
        excluded_products=inputs.excluded_products,
        prior_awards=combine_prior_awards(inputs.prior_awards, snap.prior_awards),
        enterprise_awarded=snap.enterprise_awarded,
    )
    return ws, config, programme, result


def finalise(home: Path, root: Path):
    ws, config, programme, result = evaluate_with_ledger(root, home)
    return ledger.record_awards(home, config=config, programme=programme, workspace=ws.root, ranking=result.ranking,
                                ranking_sha256="0" * 64, recorded_by="张科长")


def test_rounds_recorded_in_the_ledger_rerun_unchanged_and_a_second_workspace_is_refused(tmp_path):
    home = tmp_path / "home"
    root = copy_fixture(tmp_path, "model_filing")
    first = finalise(home, root)
    assert (first.status, first.rows, first.total_yuan) == ("recorded", 9, 1_200_000)
    again = finalise(home, root)
    assert again.status == "unchanged"
    # the round's own awards never count against it on a rerun
    _, _, _, result = evaluate_with_ledger(root, home)
    assert table_of(result.ranking) == [e[:1] + e[2:] for e in EXPECTED["model_filing"]]
    with pytest.raises(ConfigError, match="finalised only once"):
        evaluate_with_ledger(copy_fixture(tmp_path, "model_filing", "second"), home)


def table_of(ranking) -> list[tuple]:
    return [(r[C.SUBMISSION_ID], None if r[C.RANK] is None or r[C.RANK] != r[C.RANK] else int(r[C.RANK]),
             r[C.OUTCOME], int(r[C.AMOUNT_YUAN]), r[C.REASON_CODE]) for r in ranking.to_dict("records")]


def test_an_enterprise_paid_by_one_programme_is_topped_up_not_paid_twice_by_the_next(tmp_path):
    """poc_new pays 福州人工智能概念验证中心 500,000 in 2026; a 2027 poc_new claim for the same centre gets nothing."""
    home = tmp_path / "home"
    finalise(home, copy_fixture(tmp_path, "poc_new"))
    later = copy_fixture(tmp_path, "poc_new", "2027")
    toml = (later / "round.toml").read_text(encoding="utf-8").replace("year = 2026", "year = 2027")
    (later / "round.toml").write_text(toml, encoding="utf-8")
    subs = (later / "submissions.csv").read_text(encoding="utf-8").replace("2026-", "2027-")
    (later / "submissions.csv").write_text(subs, encoding="utf-8")
    _, _, _, result = evaluate_with_ledger(later, home)
    rows = {r[0]: r[2:] for r in table_of(result.ranking)}
    assert rows["C01"] == (N, 0, C.HIGHER_AWARD_ELSEWHERE)                 # 500,000 received in 2026
    assert rows["C02"] == (N, 0, C.HIGHER_AWARD_ELSEWHERE)
    assert rows["C04"][1:] == (300_000, "")                                # not paid in 2026: paid now
    reason = result.ranking.set_index(C.SUBMISSION_ID).at["C01", C.REASON]
    assert "新认定概念验证中心及产业技术研发公共服务平台奖励 2026" in reason
