"""Validation of submissions, experts and reference lists: typed frames and every problem kind."""
from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from scoring import columns as C
from scoring.errors import InputError
from scoring.intake import (
    empty_excluded_products,
    empty_experts,
    empty_prior_awards,
    parse_excluded_products,
    parse_experts,
    parse_prior_awards,
    parse_submissions,
    validate_excluded_products,
    validate_experts,
    validate_prior_awards,
    validate_submissions,
)
from scoring.rules import Programme, merge_overrides, parse_programme

REPO = Path(__file__).resolve().parents[2]
BASE_HEADER = list(C.SUBMISSION_COLUMNS) + ["category", "district"]


def programme(**overrides) -> Programme:
    """The shipped scenario programme, optionally changed like round.toml [overrides] would."""
    data = tomllib.loads((REPO / "data/programmes/scenario.toml").read_text("utf-8"))
    return parse_programme(merge_overrides(data, overrides), "scenario.toml")


def raw(header: list[str], rows: list[list[str]], label: str = "submissions.csv", first_row: int = 2) -> pd.DataFrame:
    """A raw table as flows.intake.read_table returns it: strings, _file, _row, attrs['file']."""
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(
        {h: pd.Series([], dtype=object) for h in header}
    )
    frame[C.SOURCE_FILE] = label
    frame[C.SOURCE_ROW] = pd.Series(range(first_row, first_row + len(rows)), dtype="int64")
    frame.attrs["file"] = label
    return frame


def sub_row(sid: str = "S001", **changes: str) -> list[str]:
    values = {
        C.SUBMISSION_ID: sid,
        C.ENTERPRISE_NAME: "福州智算科技有限公司",
        C.CREDIT_CODE: "91350100MA2XYZ1234",
        C.CONTACT_NAME: "张三",
        C.CONTACT_EMAIL: "zhang@example.cn",
        C.TITLE: "智慧港口调度",
        C.SUBMITTED_AT: "2026-07-01 09:30",
        "category": "scenario",
        "district": "鼓楼区",
    }
    values.update(changes)
    return list(values.values())


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


# --- submissions -------------------------------------------------------------------------------


def test_submissions_typed_and_located():
    r = raw(BASE_HEADER + ["remarks"], [sub_row("S001") + ["备注"], sub_row("S002", submitted_at="2026年7月2日 14:05") + [""]])
    before = r.copy()
    out = parse_submissions(r, programme())
    assert list(out.columns) == BASE_HEADER + ["remarks", C.SOURCE_FILE, C.SOURCE_ROW]
    assert out[C.SUBMITTED_AT].dtype == "datetime64[ns]"
    assert list(out[C.SUBMITTED_AT]) == [pd.Timestamp("2026-07-01 09:30"), pd.Timestamp("2026-07-02 14:05")]
    assert list(out[C.SOURCE_ROW]) == [2, 3] and set(out[C.SOURCE_FILE]) == {"submissions.csv"}
    assert list(out["remarks"]) == ["备注", ""]  # unknown columns are kept as text
    pd.testing.assert_frame_equal(r, before)  # the input is never mutated


def test_credit_code_normalised_but_not_judged():
    r = raw(BASE_HEADER, [sub_row(credit_code="９１３５０１００ｍａ２ｘｙｚ１２３４"), sub_row("S002", credit_code="91350100MA2XYZ123X")])
    out = parse_submissions(r, programme())
    # the second code's check character is wrong: that is formal review (ineligible), not an input error
    assert list(out[C.CREDIT_CODE]) == ["91350100MA2XYZ1234", "91350100MA2XYZ123X"]


def test_invalid_email_is_kept_for_formal_review():
    out = parse_submissions(raw(BASE_HEADER, [sub_row(contact_email="not an address")]), programme())
    assert out[C.CONTACT_EMAIL].iloc[0] == "not an address"


def test_missing_column_named_once_with_what_was_found():
    header = [h for h in BASE_HEADER if h != C.TITLE]
    rows = [[v for h, v in zip(BASE_HEADER, sub_row(sid)) if h != C.TITLE] for sid in ("S1", "S2", "S3")]
    result = validate_submissions(raw(header, rows), programme())
    assert result.frame is None
    assert messages(result.problems) == [
        "submissions.csv, column 'title': missing column 'title'; the header has: "
        + ", ".join(header)
    ]


def test_missing_programme_column_hints_at_its_chinese_label():
    header = [h if h != "category" else "申报类别" for h in BASE_HEADER]
    result = validate_submissions(raw(header, [sub_row()]), programme())
    (problem,) = result.problems
    assert problem.column == "category"
    assert "there is a column '申报类别': rename its header to 'category'" in problem.message


def test_empty_required_cells_each_named():
    r = raw(BASE_HEADER, [sub_row(enterprise_name=""), sub_row("S002", contact_email="", district="")])
    result = validate_submissions(r, programme())
    assert messages(result.problems) == [
        "submissions.csv, row 2, column 'enterprise_name': empty; a value is required here",
        "submissions.csv, row 3, column 'contact_email': empty; a value is required here",
        "submissions.csv, row 3, column 'district': empty; a value is required here",
    ]


def test_duplicate_submission_id_names_both_rows():
    r = raw(BASE_HEADER, [sub_row("S001"), sub_row("S002"), sub_row("S001"), sub_row("S001")])
    result = validate_submissions(r, programme())
    assert messages(result.problems) == [
        "submissions.csv, row 4, column 'submission_id': duplicate submission_id 'S001': it is also in row 2",
        "submissions.csv, row 5, column 'submission_id': duplicate submission_id 'S001': it is also in row 2",
    ]


def test_unparseable_submitted_at():
    r = raw(BASE_HEADER, [sub_row(submitted_at="7月1日上午"), sub_row("S002", submitted_at="2026-13-01")])
    result = validate_submissions(r, programme())
    assert [(p.row, p.column) for p in result.problems] == [(2, C.SUBMITTED_AT), (3, C.SUBMITTED_AT)]
    assert "'7月1日上午' is not a date and time (write e.g. 2026-07-01 09:30" in result.problems[0].message
    assert "not a real date" in result.problems[1].message
    # the frame is still usable for cross-checks, with the bad value missing
    assert result.frame is not None and pd.isna(result.frame[C.SUBMITTED_AT].iloc[0])


def test_choice_lists_the_allowed_values_and_folds_case():
    r = raw(BASE_HEADER, [sub_row(category="Key_Project"), sub_row("S002", category="典型场景")])
    result = validate_submissions(r, programme())
    assert messages(result.problems) == [
        "submissions.csv, row 3, column 'category': '典型场景' is not one of the allowed values: scenario, key_project"
    ]
    assert result.frame["category"].iloc[0] == "key_project"


TYPED = [
    {"id": "own_ip", "label": "自主知识产权", "type": "bool"},
    {"id": "fuzhou_units", "label": "在榕应用数量", "type": "int"},
    {"id": "satisfaction_rate", "label": "满意度", "type": "decimal"},
    {"id": "requested_amount_yuan", "label": "申请金额", "type": "yuan"},
    {"id": "filed_on", "label": "备案日期", "type": "date"},
    {"id": "launched_at", "label": "上线时间", "type": "datetime"},
    {"id": "website", "label": "网址", "type": "text", "required": False},
    {"id": "units_optional", "label": "可选数量", "type": "int", "required": False},
]
TYPED_HEADER = list(C.SUBMISSION_COLUMNS) + [c["id"] for c in TYPED]


def typed_row(sid: str, *extra: str) -> list[str]:
    return sub_row(sid)[: len(C.SUBMISSION_COLUMNS)] + list(extra)


def test_every_column_type_is_typed():
    prog = programme(columns=TYPED)
    r = raw(TYPED_HEADER, [
        typed_row("S001", "是", "1,200", "98.5", "200,000", "2026/3/5", "2026年3月5日 8:00", "https://a.cn", "7"),
        typed_row("S002", "N", "100", "95%", "480000.00", "2026-03-06 00:00:00", "2026-03-06T10:00:00", "", ""),
    ])
    out = parse_submissions(r, prog)
    assert out["own_ip"].dtype == bool and out["own_ip"].tolist() == [True, False]
    assert out["fuzhou_units"].dtype == "int64" and out["fuzhou_units"].tolist() == [1200, 100]
    assert out["satisfaction_rate"].tolist() == [Decimal("98.5"), Decimal("0.95")]
    assert out["requested_amount_yuan"].dtype == "int64" and out["requested_amount_yuan"].tolist() == [200000, 480000]
    assert out["filed_on"].tolist() == [pd.Timestamp("2026-03-05"), pd.Timestamp("2026-03-06")]
    assert out["launched_at"].tolist() == [pd.Timestamp("2026-03-05 08:00"), pd.Timestamp("2026-03-06 10:00")]
    assert out["website"].tolist() == ["https://a.cn", ""]
    assert out["units_optional"].dtype == "Int64"
    assert out["units_optional"].iloc[0] == 7 and pd.isna(out["units_optional"].iloc[1])


def test_optional_column_may_be_absent():
    prog = programme(columns=[{"id": "note", "label": "备注", "type": "int", "required": False}])
    out = parse_submissions(raw(list(C.SUBMISSION_COLUMNS), [typed_row("S001")]), prog)
    assert "note" in out.columns and out["note"].isna().all()


def test_every_typed_value_problem_is_reported():
    prog = programme(columns=TYPED)
    r = raw(TYPED_HEADER, [
        typed_row("S001", "也许", "12.5", "12.5.1", "200000.5", "2026-02-30", "下周一", "", "x"),
        typed_row("S002", "", "", "", "-5", "", "", "", ""),
    ])
    result = validate_submissions(r, prog)
    got = {(p.row, p.column): p.message for p in result.problems}
    assert got == {
        (2, "own_ip"): "'也许' is not yes or no (write 是 or 否, true or false)",
        (2, "fuzhou_units"): "'12.5' is not a whole number",
        (2, "satisfaction_rate"): "'12.5.1' is not a number (write digits, e.g. 12.5)",
        (2, "requested_amount_yuan"): "'200000.5' has a fraction of a yuan; amounts are whole yuan",
        (2, "filed_on"): "'2026-02-30' is not a real date or time",
        (2, "launched_at"): "'下周一' is not a date and time (write e.g. 2026-07-01 09:30, 2026/7/1 9:30, "
        "2026年7月1日 9:30, 2026-07-01T09:30:00 or 2026-07-01)",
        (2, "units_optional"): "'x' is not a whole number",
        (3, "own_ip"): "empty; a value is required here",
        (3, "fuzhou_units"): "empty; a value is required here",
        (3, "satisfaction_rate"): "empty; a value is required here",
        (3, "requested_amount_yuan"): "'-5' is negative; an amount in yuan cannot be",
        (3, "filed_on"): "empty; a value is required here",
        (3, "launched_at"): "empty; a value is required here",
    }
    with pytest.raises(InputError) as err:
        parse_submissions(r, prog)
    assert len(err.value.problems) == len(got)
    assert err.value.lines()[0].startswith("submissions.csv, row 2, column 'own_ip': ")


def test_header_only_table_gives_an_empty_typed_frame():
    out = parse_submissions(raw(BASE_HEADER, []), programme())
    assert out.empty and out[C.SUBMITTED_AT].dtype == "datetime64[ns]"


# --- experts -------------------------------------------------------------------------------------

EXPERT_HEADER = list(C.EXPERT_COLUMNS)


def test_experts_typed_with_normalised_org_code():
    r = raw(EXPERT_HEADER, [
        ["E01", "王教授", "wang@fzu.edu.cn", "福州大学", "１２３５００００４８８６００６５９Ｇ"],
        ["E02", "李工", "", "", ""],
    ], label="experts.xlsx")
    out = parse_experts(r)
    assert out[C.ORG_CREDIT_CODE].tolist() == ["12350000488600659G", ""]
    assert list(out.columns) == EXPERT_HEADER + [C.SOURCE_FILE, C.SOURCE_ROW]


def test_expert_problems():
    r = raw(EXPERT_HEADER, [["E01", "王", "", "", ""], ["E01", "李", "", "", ""], ["", "", "", "", ""]], "experts.xlsx")
    result = validate_experts(r)
    assert messages(result.problems) == [
        "experts.xlsx, row 3, column 'expert_id': duplicate expert_id 'E01': it is also in row 2",
        "experts.xlsx, row 4, column 'expert_id': empty; a value is required here",
        "experts.xlsx, row 4, column 'name': empty; a value is required here",
    ]
    missing = validate_experts(raw(["expert_id", "name"], [["E01", "王"]], "experts.xlsx"))
    assert [p.column for p in missing.problems] == ["email", "organisation", "org_credit_code"]
    assert missing.frame is None


# --- reference lists -------------------------------------------------------------------------------


def test_excluded_products_typed():
    r = raw(list(C.EXCLUDED_PRODUCT_COLUMNS), [
        ["灵犀AI边缘盒子", "福州灵犀科技有限公司", "91350100ma2abcde1x", "national", "2025年"],
    ], "references/excluded_products.csv")
    out = parse_excluded_products(r)
    assert out[C.YEAR].dtype == "int64" and out[C.YEAR].iloc[0] == 2025
    assert out[C.CREDIT_CODE].iloc[0] == "91350100MA2ABCDE1X"


def test_excluded_products_problems():
    r = raw(list(C.EXCLUDED_PRODUCT_COLUMNS), [["", "某公司", "", "provincial", "去年"]], "references/excluded_products.csv")
    got = {(p.row, p.column) for p in validate_excluded_products(r).problems}
    assert got == {(2, C.PRODUCT_NAME), (2, C.CREDIT_CODE), (2, C.YEAR)}


def test_prior_awards_money_is_integer_yuan():
    label = "references/prior_awards.csv"
    good = raw(list(C.PRIOR_AWARD_COLUMNS), [["91350100MA2XYZ1234", "智慧港口", "榕政综〔2024〕1号", "200,000", "2025"]], label)
    out = parse_prior_awards(good)
    assert out[C.AMOUNT_YUAN].dtype == "int64" and out[C.AMOUNT_YUAN].iloc[0] == 200000
    bad = raw(list(C.PRIOR_AWARD_COLUMNS), [["91350100MA2XYZ1234", "智慧港口", "", "1500.50", "2025"]], label)
    assert messages(validate_prior_awards(bad).problems) == [
        f"{label}, row 2, column 'policy': empty; a value is required here",
        f"{label}, row 2, column 'amount_yuan': '1500.50' has a fraction of a yuan; amounts are whole yuan",
    ]


def test_empty_typed_frames():
    assert empty_experts().columns.tolist()[:5] == list(C.EXPERT_COLUMNS)
    assert empty_excluded_products()[C.YEAR].dtype == "int64"
    prior = empty_prior_awards()
    assert prior.empty and prior[C.AMOUNT_YUAN].dtype == "int64"


def test_dates_are_naive_datetimes_for_call_window_comparison():
    out = parse_submissions(raw(BASE_HEADER, [sub_row(submitted_at="2026-08-31T23:59:59+08:00")]), programme())
    assert out[C.SUBMITTED_AT].iloc[0] == pd.Timestamp(dt.datetime(2026, 8, 31, 23, 59, 59))
    assert out[C.SUBMITTED_AT].dt.tz is None
