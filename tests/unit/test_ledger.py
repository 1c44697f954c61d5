"""The awards ledger on a real SQLite file: idempotent, once per programme-year, read back by later rounds."""
from __future__ import annotations

import sqlite3

import openpyxl
import pandas as pd
import pytest

from flows import ledger
from scoring import columns as C
from scoring.errors import ConfigError
from scoring.ledger_rules import combine_prior_awards
from scoring.pipeline import evaluate_round
from tests.unit import programme_builders as P

HW = P.load("hardware", scoring={"score_decimals": 4})
SC = P.load("scenario", scoring={"score_decimals": 4})


def hardware_round(requested=(500_000, 300_000), titles=("智能巡检机器人产业化", "边缘AI工控机")):
    rows = [{"product_name": f"产品{i}", "own_ip": True, "self_produced": True, "fuzhou_units": 200,
             "requested_amount_yuan": r, C.TITLE: t} for i, (r, t) in enumerate(zip(requested, titles))]
    subs = P.subs(rows)
    sc = P.uniform_scores(HW, {"S01": ["90"], "S02": ["80"]})
    return evaluate_round(submissions=subs, scores=sc, programme=HW, config=P.config("hardware")).ranking


def record(home, ranking, prog=HW, year=2026, ws="ws-a", by="张科长", at="2026-10-01T10:00:00+08:00"):
    return ledger.record_awards(home, config=P.config(prog.id, year=year), programme=prog, workspace=home / ws,
                                ranking=ranking, ranking_sha256="h" * 64, recorded_by=by, at=at)


def test_recording_is_idempotent_and_a_changed_rerun_replaces_the_rounds_rows(tmp_path):
    first = record(tmp_path, hardware_round())
    assert (first.status, first.revision, first.rows, first.total_yuan) == ("recorded", 1, 2, 800_000)
    path = ledger.ledger_path(tmp_path)
    assert path.is_file()

    again = record(tmp_path, hardware_round(), at="2026-10-02T10:00:00+08:00")
    assert again.status == "unchanged" and again.revision == 1
    assert len(ledger.read_history(tmp_path)) == 1
    assert ledger.read_rounds(tmp_path)[0]["last_recorded_at"] == "2026-10-01T10:00:00+08:00"

    changed = record(tmp_path, hardware_round(requested=(500_000, 250_000)), at="2026-10-03T10:00:00+08:00")
    assert changed.status == "replaced" and changed.revision == 2 and changed.changes.changed == ("S02",)
    awards = ledger.read_awards(tmp_path)
    assert list(awards[C.AMOUNT_YUAN]) == [500_000, 250_000]
    history = ledger.read_history(tmp_path)
    assert [h["action"] for h in history] == ["recorded", "replaced"] and "changed: S02" in history[1]["detail"]
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM history")


def test_only_selected_applications_with_money_are_recorded(tmp_path):
    ranking = hardware_round()
    ranking.loc[1, C.OUTCOME] = C.RESERVE
    ranking.loc[1, C.AMOUNT_YUAN] = 0
    assert record(tmp_path, ranking).rows == 1


def test_a_programmes_year_is_finalised_once_except_by_rerunning_the_same_round(tmp_path):
    record(tmp_path, hardware_round(), ws="ws-a")
    cfg = P.config("hardware")
    with pytest.raises(ConfigError, match="can be finalised only once") as err:
        record(tmp_path, hardware_round(), ws="ws-b")
    assert str((tmp_path / "ws-a").resolve()) in str(err.value)
    with pytest.raises(ConfigError):
        ledger.check_can_finalise(tmp_path, cfg, tmp_path / "ws-b")
    ledger.check_can_finalise(tmp_path, cfg, tmp_path / "ws-a")              # the same round may rerun
    ledger.check_can_finalise(tmp_path, P.config("hardware", year=2027), tmp_path / "ws-b")
    assert record(tmp_path, hardware_round(), year=2027, ws="ws-b").status == "recorded"

    with pytest.raises(ConfigError, match="name and a reason"):
        ledger.void_round(tmp_path, "2026-hardware", by="", reason="")
    assert ledger.void_round(tmp_path, "2026-hardware", by="林处长", reason="录入错误，重新评审") == 2
    assert record(tmp_path, hardware_round(), ws="ws-b").status == "recorded"
    assert [h["action"] for h in ledger.read_history(tmp_path)] == ["recorded", "recorded", "voided", "recorded"]


def test_reading_an_absent_ledger_creates_nothing(tmp_path):
    assert ledger.read_awards(tmp_path).empty
    assert ledger.prior_awards(tmp_path, P.config("scenario")).empty
    assert ledger.enterprise_awarded(tmp_path, P.config("model_filing"), P.load("model_filing")) == {}
    ledger.check_can_finalise(tmp_path, P.config("scenario"), tmp_path)
    assert not ledger.ledger_path(tmp_path).exists()


def test_prior_awards_from_other_rounds_up_to_this_year_never_the_round_itself(tmp_path):
    record(tmp_path, hardware_round())
    mine = ledger.prior_awards(tmp_path, P.config("hardware"))
    assert mine.empty                                   # a rerun of the round does not see its own awards
    other = ledger.prior_awards(tmp_path, P.config("scenario"))
    assert list(other[C.POLICY]) == ["人工智能硬件新产品 2026"] * 2
    assert list(other[C.PROJECT_TITLE]) == ["智能巡检机器人产业化", "边缘AI工控机"]
    assert list(other[C.AMOUNT_YUAN]) == [500_000, 300_000]
    assert ledger.prior_awards(tmp_path, P.config("scenario", year=2025)).empty   # a later year is not "prior"
    assert len(ledger.prior_awards(tmp_path, P.config("scenario", year=2027))) == 2


def test_an_enterprise_in_two_programmes_is_paid_the_highest_once(tmp_path):
    """Hardware pays 500,000 and 300,000 first; scenario later meets the same projects in the ledger."""
    record(tmp_path, hardware_round())
    subs = P.subs([{C.TITLE: "智能巡检机器人 产业化", "category": "scenario", "district": "鼓楼区"},
                   {C.TITLE: "边缘AI工控机", "category": "scenario", "district": "鼓楼区"},
                   {C.TITLE: "其他项目", "category": "key_project", "district": "鼓楼区"}])
    subs.loc[2, C.CREDIT_CODE] = P.code(7)
    cfg = P.config("scenario")
    prior = combine_prior_awards(P.prior([]), ledger.prior_awards(tmp_path, cfg))
    sc = P.uniform_scores(SC, {"S01": ["90"], "S02": ["85"], "S03": ["80"]})
    got = P.outcomes(evaluate_round(submissions=subs, scores=sc, programme=SC, config=cfg, prior_awards=prior))
    assert got["S01"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE and "人工智能硬件新产品 2026" in got["S01"][C.REASON]
    assert got["S02"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE      # 300,000 ≥ 200,000
    assert got["S03"][C.AMOUNT_YUAN] == 200_000


def test_the_per_enterprise_cap_reads_other_rounds_and_the_programmes_it_covers(tmp_path):
    record(tmp_path, hardware_round(titles=("A", "B")), ws="ws-hw")       # P.code(1) 500,000, P.code(2) 300,000
    mf = P.load("model_filing")
    cfg = P.config("model_filing")
    code = P.code(1)
    assert ledger.enterprise_awarded(tmp_path, cfg, mf) == {}             # its cap covers model_filing only
    shared = P.load("model_filing", award={"enterprise_cap_programmes": ["hardware", "poc_new"]})
    seen = ledger.enterprise_awarded(tmp_path, cfg, shared)
    assert seen == {code: 500_000, P.code(2): 300_000}
    assert ledger.enterprise_awarded(tmp_path, P.config("model_filing", year=2027), shared) == {}
    snap = ledger.snapshot(tmp_path, cfg, shared)
    assert snap.enterprise_awarded == seen and len(snap.sha256) == 64
    filings = P.subs([{"model_name": "甲", "filing_level": "national", "filing_no": "1", "filed_on": "2026-02-01"},
                      {"model_name": "乙", "filing_level": "national", "filing_no": "2", "filed_on": "2026-02-01",
                       C.CREDIT_CODE: P.code(2)}])
    ranking = evaluate_round(submissions=filings, scores=P.no_scores(), programme=shared, config=cfg,
                             enterprise_awarded=seen).ranking
    got = {r[C.SUBMISSION_ID]: r for r in ranking.to_dict("records")}
    assert got["S01"][C.AMOUNT_YUAN] == 0 and got["S01"][C.REASON_CODE] == C.ENTERPRISE_CAP
    assert got["S02"][C.AMOUNT_YUAN] == 200_000                          # 300,000 + 200,000 = the 500,000 cap
    # once model_filing is recorded, its own awards never count against it on a rerun
    record(tmp_path, ranking, prog=shared, ws="ws-mf")
    assert ledger.enterprise_awarded(tmp_path, cfg, shared) == seen


def test_export_to_excel_lists_every_award_and_is_reproducible(tmp_path):
    record(tmp_path, hardware_round())
    out = ledger.export_ledger_xlsx(tmp_path, tmp_path / "export" / "ledger.xlsx")
    book = openpyxl.load_workbook(out)
    sheet = book["奖励台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "轮次" and rows[1][0] == "round_id"
    assert [(r[1], r[9]) for r in rows[2:]] == [("S01", 500_000), ("S02", 300_000)]
    assert book["轮次"].max_row == 2 and book["变更记录"].max_row == 2
    first = out.read_bytes()
    assert ledger.export_ledger_xlsx(tmp_path, out).read_bytes() == first


def test_combined_prior_awards_keep_one_copy_of_an_identical_row():
    row = (P.code(1), "项目", "政策 2026", 100, 2026)
    both = combine_prior_awards(P.prior([row]), P.prior([row, (P.code(2), "另一", "政策 2026", 5, 2026)]))
    assert len(both) == 2 and both[C.AMOUNT_YUAN].dtype == "int64"
    assert combine_prior_awards(None, pd.DataFrame()).empty


def test_a_finalised_round_never_sees_rounds_finalised_after_it(tmp_path):
    """scenario pays 200,000 first; hardware then tops the same project up by 300,000. Rerunning scenario must
    not now find hardware's 300,000 and drop its own 200,000: each round sees only the rounds before it."""
    sc_subs = P.subs([{C.TITLE: "智能巡检机器人产业化", "category": "scenario", "district": "鼓楼区"}])
    sc_scores = P.uniform_scores(SC, {"S01": ["90"]})
    sc_cfg = P.config("scenario")

    def scenario_round():
        snap = ledger.snapshot(tmp_path, sc_cfg, SC)
        return evaluate_round(submissions=sc_subs, scores=sc_scores, programme=SC, config=sc_cfg,
                              prior_awards=snap.prior_awards, enterprise_awarded=snap.enterprise_awarded).ranking

    first = scenario_round()
    assert first[C.AMOUNT_YUAN].tolist() == [200_000]
    record(tmp_path, first, prog=SC, ws="ws-scenario")

    hw_subs = P.subs([{"product_name": "X1", "own_ip": True, "self_produced": True, "fuzhou_units": 200,
                       "requested_amount_yuan": 500_000, C.TITLE: "智能巡检机器人产业化"}])
    hw_cfg = P.config("hardware")
    snap = ledger.snapshot(tmp_path, hw_cfg, HW)
    hw = evaluate_round(submissions=hw_subs, scores=P.uniform_scores(HW, {"S01": ["90"]}), programme=HW,
                        config=hw_cfg, prior_awards=snap.prior_awards).ranking
    assert (hw[C.AMOUNT_YUAN].tolist(), hw[C.REASON_CODE].tolist()) == ([300_000], [C.TOPUP_HIGHEST])
    record(tmp_path, hw, ws="ws-hardware")

    assert ledger.prior_awards(tmp_path, sc_cfg).empty            # scenario was recorded first: it sees nothing
    again = scenario_round()
    assert again.equals(first)
    assert record(tmp_path, again, prog=SC, ws="ws-scenario").status == "unchanged"
    assert ledger.prior_awards(tmp_path, hw_cfg)[C.AMOUNT_YUAN].tolist() == [200_000]   # hardware still sees it
