"""The sample-round generator writes a real workspace that the real intake reads and the real core ranks.

The generated files are read back through `flows.intake.load_workspace` (the
same path `rounds run` takes) and evaluated with `scoring.pipeline.evaluate_round`;
the assertions are about what the demo must show, not about fixed numbers.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from flows.intake import load_workspace
from flows.sample import SampleInfo, write_sample_round
from flows.workspace import Workspace
from scoring import columns as C
from scoring.errors import ConfigError
from scoring.pipeline import RoundResult, evaluate_round
from scoring.similarity import normalise_name
from scoring.uscc import is_valid_uscc

FUZHOU_DISTRICTS = {
    "鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区", "闽侯县", "连江县", "罗源县", "闽清县", "永泰县", "福清市",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleInfo, RoundResult, object]:
    root = tmp_path_factory.mktemp("sample") / "scenario-2026"
    info = write_sample_round(root)
    config, programme = Workspace.at(root).load_config()
    inputs = load_workspace(root, programme)
    result = evaluate_round(
        submissions=inputs.submissions,
        scores=inputs.scores,
        programme=programme,
        config=config,
        excluded_products=inputs.excluded_products,
        prior_awards=inputs.prior_awards,
    )
    return info, result, inputs


def test_round_toml_is_a_plausible_call(sample) -> None:
    info, _, _ = sample
    data = tomllib.loads((info.root / "round.toml").read_text(encoding="utf-8"))
    assert data["programme"] == "scenario" and data["year"] == 2026
    assert data["organiser"] == "福州市工业和信息化局"
    assert re.fullmatch(r"0591-8\d{7}", data["contact"])
    opens, closes = data["call_window"]["opens"], data["call_window"]["closes"]
    assert isinstance(opens, dt.datetime) and opens < closes
    assert opens.year == closes.year == 2026 and 5 <= opens.month <= closes.month <= 8
    assert "2026" in data["title"]


def test_submissions_sheet_layout(sample) -> None:
    info, _, _ = sample
    ws = openpyxl.load_workbook(info.root / "submissions.xlsx").active
    assert ws.title == "申报汇总"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [*C.SUBMISSION_COLUMNS, "category", "district"]
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert 30 <= len(body) == info.n_applications <= 60
    assert all(isinstance(r[C.SUBMITTED_AT], dt.datetime) for r in body)  # real Excel datetimes
    assert [r[C.SUBMISSION_ID] for r in body] == [f"SC2026-{i:03d}" for i in range(1, len(body) + 1)]
    assert {r["category"] for r in body} == {"scenario", "key_project"}
    assert {r["district"] for r in body} <= FUZHOU_DISTRICTS
    assert len({r[C.TITLE] for r in body}) == len(body)
    for r in body:
        assert re.fullmatch(r"(福州|福建)\w+(公司)", r[C.ENTERPRISE_NAME]), r[C.ENTERPRISE_NAME]
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r[C.CONTACT_NAME])
        assert r[C.CONTACT_EMAIL].isascii()
        domain = r[C.CONTACT_EMAIL].rsplit("@", 1)[-1]
        assert domain.endswith((".example.cn", "example.com")) or r[C.SUBMISSION_ID] in info.ineligible_ids
        valid = is_valid_uscc(r[C.CREDIT_CODE])
        assert valid == (info.ineligible_reasons.get(r[C.SUBMISSION_ID]) != "INELIGIBLE_CREDIT_CODE")


def test_experts_are_fujian_academics_without_conflicts(sample) -> None:
    info, _, inputs = sample
    experts = inputs.experts
    assert 5 <= len(experts) == info.n_experts <= 7
    assert all(is_valid_uscc(code) and code[:2] in ("12", "51") for code in experts[C.ORG_CREDIT_CODE])
    assert set(experts[C.ORG_CREDIT_CODE]).isdisjoint(set(inputs.submissions[C.CREDIT_CODE]))
    assert all(email.endswith(".example.cn") for email in experts[C.EXPERT_EMAIL])


def test_every_expert_scores_every_application(sample) -> None:
    info, _, inputs = sample
    scores = inputs.scores
    assert len(scores) == info.n_experts * info.n_applications * 5
    assert sorted(p.name for p in (info.root / "scores").iterdir()) == sorted(
        f"{e}.csv" for e in inputs.experts[C.EXPERT_ID]
    )
    maxima = {"innovation": 25, "effectiveness": 30, "replicability": 20, "maturity": 15, "benefit": 10}
    texts = []
    for path in (info.root / "scores").iterdir():
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == list(C.SCORE_COLUMNS)
        assert {r[C.EXPERT_ID] for r in rows} == {path.stem}
        for r in rows:
            value = Decimal(r[C.SCORE])
            assert 0 <= value <= maxima[r[C.CRITERION]]
            assert value == value.quantize(Decimal("0.01"))
            texts.append(r[C.SCORE])
    halves = sum(1 for t in texts if "." not in t or t.endswith(".5"))
    assert halves / len(texts) > 0.9  # mostly whole and half points, as experts write them


def test_some_experts_are_lenient_and_some_harsh(sample) -> None:
    _, result, _ = sample
    means = result.expert_totals.groupby(C.EXPERT_ID)[C.EXPERT_TOTAL].mean()
    assert means.max() - means.min() > 6


def test_the_round_shows_every_outcome(sample) -> None:
    info, result, _ = sample
    r = result.ranking
    by_id = r.set_index(C.SUBMISSION_ID)
    counts = r[C.OUTCOME].value_counts()
    assert counts[C.SELECTED] == 10 and counts[C.RESERVE] == 3
    assert 3 <= counts[C.INELIGIBLE] <= 5 and set(info.ineligible_ids) == set(r.loc[r[C.OUTCOME] == C.INELIGIBLE, C.SUBMISSION_ID])
    for sid, code in info.ineligible_reasons.items():
        assert by_id.at[sid, C.REASON_CODE] == code
    assert {"INELIGIBLE_CREDIT_CODE", "INELIGIBLE_CONTACT_EMAIL", "INELIGIBLE_CALL_WINDOW"} <= set(
        info.ineligible_reasons.values()
    )
    assert (r[C.REASON_CODE] == C.BELOW_THRESHOLD).sum() >= 2
    assert set(r["category"]) == {"scenario", "key_project"}
    ranks = r[C.RANK].dropna()
    assert ranks.is_unique  # no tie left for a manager to decide


def test_one_project_is_topped_up_to_the_highest_award(sample) -> None:
    info, result, inputs = sample
    r = result.ranking
    topped = r[r[C.REASON_CODE] == C.TOPUP_HIGHEST]
    assert list(topped[C.SUBMISSION_ID]) == [info.topup_id]
    assert topped[C.OUTCOME].item() == C.SELECTED and topped[C.AMOUNT_YUAN].item() == 150_000
    prior = inputs.prior_awards.iloc[0]
    sub = inputs.submissions.set_index(C.SUBMISSION_ID).loc[info.topup_id]
    assert prior[C.CREDIT_CODE] == sub[C.CREDIT_CODE] and prior[C.AMOUNT_YUAN] == 50_000 and prior[C.YEAR] == 2025
    assert prior[C.PROJECT_TITLE] != sub[C.TITLE]  # retyped by hand ...
    assert normalise_name(prior[C.PROJECT_TITLE]) == normalise_name(sub[C.TITLE])  # ... but the same project
    assert len(inputs.excluded_products) >= 2
    assert set(inputs.excluded_products[C.CREDIT_CODE]).isdisjoint(set(inputs.submissions[C.CREDIT_CODE]))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a = write_sample_round(tmp_path / "a", seed=11)
    b = write_sample_round(tmp_path / "b", seed=11)
    other = write_sample_round(tmp_path / "c", seed=12)
    assert (a.n_applications, a.ineligible_reasons, a.topup_id) == (b.n_applications, b.ineligible_reasons, b.topup_id)
    assert _files(a.root) == _files(b.root)
    assert _files(a.root)["submissions.xlsx"] != _files(other.root)["submissions.xlsx"]
    # nothing in a workbook depends on the clock (two quick writes could share a second)
    for name in ("submissions.xlsx", "experts.xlsx"):
        with zipfile.ZipFile(a.root / name) as zf:
            assert {i.date_time for i in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}
            core = zf.read("docProps/core.xml").decode("utf-8")
        stamps = re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core)
        assert stamps == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]


def test_explicit_sizes_and_year(tmp_path: Path) -> None:
    info = write_sample_round(tmp_path / "r", year=2027, seed=3, n_applications=24, n_experts=5)
    assert (info.n_applications, info.n_experts, info.year) == (24, 5, 2027)
    config, programme = Workspace.at(info.root).load_config()
    inputs = load_workspace(info.root, programme)
    assert config.year == 2027 and len(inputs.submissions) == 24
    assert set(inputs.submissions[C.SUBMISSION_ID].str[:6]) == {"SC2027"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"programme": "lottery"}, "no sample data for programme"),
        ({"year": 2030}, "outside the policy's validity"),
        ({"n_applications": 5}, "at least 20 applications"),
    ],
)
def test_refuses_what_it_cannot_write(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        write_sample_round(tmp_path / "r", **kwargs)
    assert not (tmp_path / "r").exists()


def test_never_writes_into_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an empty folder"):
        write_sample_round(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
