"""Score sheets: long and wide forms, exact units, and every kind of upload mistake."""
from __future__ import annotations

import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring import columns as C
from scoring.errors import InputError
from scoring.intake import parse_experts, parse_submissions
from scoring.intake_scores import SCORE_OUTPUT, empty_scores, parse_scores, validate_scores
from scoring.rules import Programme, merge_overrides, parse_programme

REPO = Path(__file__).resolve().parents[2]
CRITERIA = ["innovation", "effectiveness", "replicability", "maturity", "benefit"]
LONG = [C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE]
WIDE = [C.EXPERT_ID, C.SUBMISSION_ID, C.ENTERPRISE_NAME, *CRITERIA, "comment"]


def programme(**overrides) -> Programme:
    data = tomllib.loads((REPO / "data/programmes/scenario.toml").read_text("utf-8"))
    return parse_programme(merge_overrides(data, overrides), "scenario.toml")


def raw(header: list[str], rows: list[list[str]], label: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(
        {h: pd.Series([], dtype=object) for h in header}
    )
    frame[C.SOURCE_FILE] = label
    frame[C.SOURCE_ROW] = pd.Series(range(2, 2 + len(rows)), dtype="int64")
    frame.attrs["file"] = label
    return frame


def submissions(*ids_codes: tuple[str, str]) -> pd.DataFrame:
    header = list(C.SUBMISSION_COLUMNS) + ["category", "district"]
    rows = [[sid, f"企业{sid}", code, "张三", "a@b.cn", f"项目{sid}", "2026-07-01 09:30", "scenario", "鼓楼区"]
            for sid, code in ids_codes]
    return parse_submissions(raw(header, rows, "submissions.csv"), programme())


def experts(*rows: tuple[str, str]) -> pd.DataFrame:
    data = [[eid, f"专家{eid}", "", f"单位{eid}", code] for eid, code in rows]
    return parse_experts(raw(list(C.EXPERT_COLUMNS), data, "experts.csv"))


SUBS = submissions(("S001", "91350100MA2AAAAA1A"), ("S002", "91350100MA2BBBBB2B"))
EXPERTS = experts(("E01", ""), ("E02", "91350100MA2BBBBB2B"), ("E03", "12350000488600659G"))


def long_rows(eid: str, sid: str, scores: list[str]) -> list[list[str]]:
    return [[eid, sid, c, s] for c, s in zip(CRITERIA, scores)]


def msgs(result) -> list[str]:
    return [str(p) for p in result.problems]


def test_long_form_to_exact_units_sorted():
    rows = long_rows("E03", "S002", ["20", "25.5", "15", "10", "8"]) + long_rows("E01", "S001", ["8.55", "30", "0", "15", "10"])
    out = parse_scores([raw(LONG, rows, "scores/all.csv")], programme(), SUBS, EXPERTS)
    assert list(out.columns) == list(SCORE_OUTPUT)
    assert out[C.SCORE_UNITS].dtype == "int64"
    assert out[[C.SUBMISSION_ID, C.EXPERT_ID]].drop_duplicates().values.tolist() == [["S001", "E01"], ["S002", "E03"]]
    assert out[C.CRITERION].tolist()[:5] == CRITERIA  # the programme's criterion order, not alphabetical
    assert out[C.SCORE_UNITS].tolist()[:5] == [855, 3000, 0, 1500, 1000]  # 8.55 exactly, never 854
    assert out[C.SOURCE_ROW].tolist()[:5] == [7, 8, 9, 10, 11]


def test_wide_form_equals_long_form():
    wide = raw(WIDE, [
        ["E01", "S002", "企业S002", "20", "25.5", "15", "10", "8", "很好"],
        ["E01", "S001", "企业S001", "8.55", "30", "0", "15", "10", ""],
    ], "scores/E01.xlsx")
    long = raw(LONG, long_rows("E01", "S002", ["20", "25.5", "15", "10", "8"])
               + long_rows("E01", "S001", ["8.55", "30", "0", "15", "10"]), "scores/E01.csv")
    a = parse_scores([wide], programme(), SUBS, EXPERTS)
    b = parse_scores([long], programme(), SUBS, EXPERTS)
    cols = [C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a[C.SOURCE_ROW].tolist() == [3] * 5 + [2] * 5  # melted rows keep their sheet row


def test_wide_form_accepts_criterion_names_as_headers():
    header = [C.EXPERT_ID, C.SUBMISSION_ID, "创新性", "应用成效", "可复制推广性", "技术成熟度", "经济社会效益"]
    out = parse_scores([raw(header, [["E01", "S001", "20", "25", "15", "10", "8"]], "scores/E01.xlsx")],
                       programme(), SUBS, EXPERTS)
    assert out[C.CRITERION].tolist() == CRITERIA


def test_unknown_and_empty_criterion_long_form():
    rows = long_rows("E01", "S001", ["20", "25", "15", "10", "8"]) + [["E01", "S001", "novelty", "5"], ["E01", "S001", "", "5"]]
    result = validate_scores([raw(LONG, rows, "scores/E01.csv")], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/E01.csv, row 7, column 'criterion': unknown criterion 'novelty'; this programme's criteria are: "
        "innovation, effectiveness, replicability, maturity, benefit",
        "scores/E01.csv, row 8, column 'criterion': empty; a value is required here",
    ]


def test_score_value_problems_name_the_criterion_column_in_wide_form():
    wide = raw(WIDE, [["E01", "S001", "", "abc", "25.555", "21", "-1", "", ""]], "scores/E01.xlsx")
    result = validate_scores([wide], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/E01.xlsx, row 2, column 'innovation': score 'abc' is not a number",
        "scores/E01.xlsx, row 2, column 'effectiveness': score '25.555' has 3 decimal places; "
        "scores have at most 2 decimal place(s)",
        "scores/E01.xlsx, row 2, column 'replicability': score 21 is outside 0..20 for criterion 'replicability' (可复制推广性)",
        "scores/E01.xlsx, row 2, column 'maturity': score -1 is outside 0..15 for criterion 'maturity' (技术成熟度)",
        "scores/E01.xlsx, row 2, column 'benefit': empty score: every criterion must be scored",
    ]


def test_range_uses_criterion_max_not_weight_and_decimals_setting():
    prog = programme(
        criteria=[{"id": "a", "name": "甲", "weight": 60, "max": 10}, {"id": "b", "name": "乙", "weight": 40, "max": 10}],
        scoring={"score_decimals": 1, "tie_break": ["a"]},
    )
    rows = [["E01", "S001", "a", "10"], ["E01", "S001", "b", "9.5"], ["E01", "S002", "a", "10.5"], ["E01", "S002", "b", "9.25"]]
    result = validate_scores([raw(LONG, rows, "scores/E01.csv")], prog, SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/E01.csv, row 4, column 'score': score 10.5 is outside 0..10 for criterion 'a' (甲)",
        "scores/E01.csv, row 5, column 'score': score '9.25' has 2 decimal places; scores have at most 1 decimal place(s)",
    ]
    ok = parse_scores([raw(LONG, rows[:2], "scores/E01.csv")], prog, SUBS, EXPERTS)
    assert ok[C.SCORE_UNITS].tolist() == [100, 95]


def test_unknown_expert_and_submission_one_problem_per_id_listing_rows():
    rows = long_rows("E09", "S001", ["1"] * 5) + long_rows("E01", "S404", ["1"] * 5)
    result = validate_scores([raw(LONG, rows, "scores/x.csv")], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/x.csv, row 2, column 'expert_id': unknown expert_id 'E09': it is not in the experts file "
        "(rows 2–6 of this file)",
        "scores/x.csv, row 7, column 'submission_id': unknown submission_id 'S404': it is not in the submissions file "
        "(rows 7–11 of this file)",
    ]


def test_duplicates_within_and_across_files_name_both_places():
    a = raw(LONG, long_rows("E01", "S001", ["1"] * 5) + [["E01", "S001", "benefit", "2"]], "scores/a.csv")
    b = raw(WIDE, [["E01", "S001", "", "3", "3", "3", "3", "3", ""]], "scores/b.xlsx")
    result = validate_scores([a, b], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/a.csv, row 7, column 'score': duplicate score: expert E01 already scored S001 on 'benefit' at row 6",
        *(f"scores/b.xlsx, row 2, column '{c}': duplicate score: expert E01 already scored S001 on '{c}' "
          f"at scores/a.csv row {r}" for c, r in zip(CRITERIA, range(2, 7))),
    ]


def test_pair_missing_criteria():
    rows = long_rows("E01", "S001", ["1", "1", "1"]) + long_rows("E03", "S001", ["1"] * 5)
    result = validate_scores([raw(LONG, rows, "scores/x.csv")], programme(), SUBS, EXPERTS)
    assert msgs(result) == ["scores/x.csv, row 2: expert E01 scored S001 on some criteria only; missing: maturity, benefit"]


def test_wide_sheet_out_of_shape():
    header = [C.EXPERT_ID, C.SUBMISSION_ID, "innovation", "effectiveness", "replicability", "maturity", "创新性"]
    result = validate_scores([raw(header, [["E01", "S001", "1", "1", "1", "1", "1"]], "scores/E01.xlsx")],
                             programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/E01.xlsx, column 'innovation': criterion 'innovation' (创新性) has two columns: 'innovation' and '创新性'",
        "scores/E01.xlsx, column 'benefit': missing the column of criterion 'benefit' (经济社会效益); "
        "the header has: expert_id, submission_id, innovation, effectiveness, replicability, maturity, 创新性",
    ]


def test_not_a_score_sheet_and_missing_id_columns():
    notes = raw(["备注"], [["请在此填写"]], "scores/readme.xlsx")
    half = raw([C.EXPERT_ID, C.CRITERION, C.SCORE], [["E01", "innovation", "1"]], "scores/half.csv")
    result = validate_scores([notes, half], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/half.csv, column 'submission_id': missing column 'submission_id'; the header has: expert_id, criterion, score",
        "scores/readme.xlsx, column 'expert_id': missing column 'expert_id'; the header has: 备注",
        "scores/readme.xlsx, column 'submission_id': missing column 'submission_id'; the header has: 备注",
        "scores/readme.xlsx: this is not a score sheet: it needs either the columns criterion and score (long form) "
        "or one column per criterion (innovation, effectiveness, replicability, maturity, benefit) (wide form); "
        "the header has: 备注",
    ]
    assert result.frame is None


def test_long_form_needs_both_criterion_and_score():
    result = validate_scores([raw([C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION], [["E01", "S001", "x"]], "s.csv")],
                             programme(), SUBS, EXPERTS)
    assert [p.column for p in result.problems] == [C.SCORE]


def test_empty_ids_in_score_rows():
    rows = long_rows("", "S001", ["1"] * 5)
    result = validate_scores([raw(LONG, rows, "scores/x.csv")], programme(), SUBS, EXPERTS)
    assert {(p.row, p.column, p.message) for p in result.problems} == {
        (r, C.EXPERT_ID, "empty; a value is required here") for r in range(2, 7)
    }


def test_conflict_of_interest_reported_once_per_pair():
    rows = long_rows("E02", "S002", ["1"] * 5) + long_rows("E02", "S001", ["1"] * 5)
    result = validate_scores([raw(LONG, rows, "scores/E02.csv")], programme(), SUBS, EXPERTS)
    assert msgs(result) == [
        "scores/E02.csv, row 2, column 'expert_id': 回避 (conflict of interest): expert E02's organisation "
        "(单位E02, 91350100MA2BBBBB2B) is the applicant of S002; this expert must not score it — remove these scores"
    ]


def test_cross_checks_skipped_without_reference_frames():
    rows = long_rows("E99", "S999", ["1"] * 5)
    out = parse_scores([raw(LONG, rows, "scores/x.csv")], programme(), None, None)
    assert len(out) == 5


def test_all_problems_raised_together():
    rows = long_rows("E01", "S001", ["x", "99", "", "1", "1"]) + long_rows("E09", "S404", ["1"] * 5)
    with pytest.raises(InputError) as err:
        parse_scores([raw(LONG, rows, "scores/x.csv")], programme(), SUBS, EXPERTS)
    assert len(err.value.problems) == 5
    assert all(line.startswith("scores/x.csv, row ") for line in err.value.lines())


def test_no_files_gives_empty_typed_frame():
    out = parse_scores([], programme(), SUBS, EXPERTS)
    pd.testing.assert_frame_equal(out, empty_scores())


def test_inputs_not_mutated():
    r = raw(WIDE, [["E01", "S001", "", "1", "1", "1", "1", "1", ""]], "scores/E01.xlsx")
    before = r.copy()
    parse_scores([r], programme(), SUBS, EXPERTS)
    pd.testing.assert_frame_equal(r, before)


def test_large_long_form_is_vectorised():
    """100,000 score rows (4,000 applications × 5 experts × 5 criteria) validate in well under a second or two."""
    n_sub, n_exp = 4000, 5
    sids = np.array([f"S{i:05d}" for i in range(n_sub)], dtype=object)
    subs = submissions(*((s, "91350100MA2AAAAA1A") for s in sids))
    exps = experts(*((f"E{j}", "") for j in range(n_exp)))
    rng = np.random.default_rng(7)
    n = n_sub * n_exp * 5
    frame = pd.DataFrame({
        C.EXPERT_ID: np.tile(np.repeat([f"E{j}" for j in range(n_exp)], 5), n_sub).astype(object),
        C.SUBMISSION_ID: np.repeat(sids, n_exp * 5),
        C.CRITERION: np.tile(CRITERIA, n_sub * n_exp).astype(object),
        C.SCORE: (rng.integers(0, 100, n) / 10).astype(str).astype(object),
        C.SOURCE_FILE: "scores/all.csv",
        C.SOURCE_ROW: np.arange(2, n + 2, dtype="int64"),
    })
    frame.attrs["file"] = "scores/all.csv"
    start = time.perf_counter()
    out = parse_scores([frame], programme(), subs, exps)
    elapsed = time.perf_counter() - start
    assert len(out) == n
    assert out[C.SCORE_UNITS].sum() == sum(int(round(float(s) * 100)) for s in frame[C.SCORE])
    assert elapsed < 3.0, f"{elapsed:.2f}s"


def test_conflicted_pair_is_not_also_asked_to_be_completed():
    rows = long_rows("E02", "S002", ["1", "1"])  # conflicted and incomplete: only the conflict is reported
    result = validate_scores([raw(LONG, rows, "scores/E02.csv")], programme(), SUBS, EXPERTS)
    assert [p.message[:2] for p in result.problems] == ["回避"]


def test_scores_for_unassigned_applications_are_refused():
    assigned = pd.DataFrame({C.EXPERT_ID: ["E01", "E03", "E77"], C.SUBMISSION_ID: ["S001", "S002", "S001"]})
    rows = long_rows("E01", "S001", ["1"] * 5) + long_rows("E01", "S002", ["1"] * 2) + long_rows("E03", "S002", ["1"] * 5)
    result = validate_scores([raw(LONG, rows, "scores/x.csv")], programme(), SUBS, EXPERTS, assigned=assigned)
    # the unassigned pair is refused once; it is not also asked to be completed
    assert msgs(result) == [
        "scores/x.csv, row 7, column 'submission_id': S002 was not assigned to expert E01; "
        "scores are accepted only for the applications on the expert's own sheet"
    ]
    ok = parse_scores([raw(LONG, rows[:5] + rows[7:], "scores/x.csv")], programme(), SUBS, EXPERTS, assigned=assigned)
    assert len(ok) == 10
