"""The round report: charts and numbers agree with the ranking and the statistics, bytes are stable.

Rounds: the hand-written scenario round (tests/fixtures), a generated sample round
(flows.sample), and the hand-written platform round for the indicator breakdown
when the composite programme is present.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from flows import stages
from flows.round_report import render_report, report_context
from flows.sample import write_sample_round
from flows.state import Approval
from flows.workspace import Workspace
from scoring import columns as C
from scoring.pipeline import RoundResult
from scoring.statistics import application_spread, expert_leniency, panel_agreement

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _prepare(root: Path) -> stages.Prepared:
    return stages.prepare(Workspace.at(root))


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory) -> stages.Prepared:
    root = tmp_path_factory.mktemp("report") / "round"
    shutil.copytree(FIXTURES / "handwritten-scenario", root)
    return _prepare(root)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> stages.Prepared:
    root = tmp_path_factory.mktemp("report-sample") / "round"
    write_sample_round(root, seed=7)
    return _prepare(root)


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order, and the text of data-key cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.keyed: dict[str, str] = {}
        self._key: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "data-key" in a:
            self._key = a["data-key"]
            self.keyed[self._key] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._key = None

    def handle_data(self, data):
        if self._key:
            self.keyed[self._key] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def parse(html: bytes) -> Elements:
    p = Elements()
    p.feed(html.decode("utf-8"))
    return p


def render(p: stages.Prepared, **kw) -> bytes:
    return render_report(p.result, p.programme, p.config, ranking_sha256=p.ranking_hash, experts=p.inputs.experts, **kw)


def ranked(p: stages.Prepared) -> pd.DataFrame:
    r = p.result.ranking
    return r[r[C.SCORE] != ""]


def check_charts_match_ranking(p: stages.Prepared, doc: Elements) -> None:
    charts = Counter(a["data-chart"] for a in doc.find("svg"))
    assert charts["histogram"] == 1 and charts["rank-score"] == 1 and charts["diverging"] == 1
    r = ranked(p)
    # histogram: every scored application counted once, in its outcome's colour
    per_series = Counter()
    for bar in doc.find("rect", **{"class": "bar"}):
        if "data-bin" in bar:
            per_series[bar["data-series"]] += int(bar["data-count"])
    assert per_series == Counter(r[C.OUTCOME])
    # rank against score: one dot per ranked application with its exact rank and score
    dots = [(int(a["data-rank"]), a["data-score"]) for a in doc.find("circle", **{"class": "dot"})]
    assert sorted(dots) == sorted(zip(r[C.RANK].astype(int), r[C.SCORE]))
    sel = r[r[C.OUTCOME] == C.SELECTED]
    (band,) = doc.find("rect", **{"class": "band"})
    assert (int(band["data-first"]), int(band["data-last"])) == (int(sel[C.RANK].min()), int(sel[C.RANK].max()))
    # the ranking table lists every application in ranking order
    assert [a["data-id"] for a in doc.find("tr") if "data-id" in a] == list(p.result.ranking[C.SUBMISSION_ID])


def test_handwritten_report_numbers_match_the_ranking(handwritten):
    html = render(handwritten)
    doc = parse(html)
    text = html.decode("utf-8")
    check_charts_match_ranking(handwritten, doc)
    k = doc.keyed
    assert (k["total"], k["selected"], k["reserve"], k["not_selected"], k["ineligible"]) == ("18", "10", "3", "2", "3")
    assert k["total_yuan"] == "1,950,000 元（195万元）"
    assert k["threshold"] == "60" and k["cutoff"] == "75.83"  # HW-10, the last selected
    assert "及格线 60" in text and "入选线 75.83" in text  # the markers on the charts
    assert k["approval"] == "待审批"
    assert f"SHA-256：<code>{handwritten.ranking_hash}</code>" in text


def test_leniency_and_agreement_are_those_of_scoring_statistics(handwritten):
    doc = parse(render(handwritten))
    lenient = expert_leniency(handwritten.result.expert_totals)
    bars = {a["data-item"].split()[0]: float(a["data-value"]) for a in doc.find("rect", **{"class": "bar"}) if "data-item" in a}
    assert bars == pytest.approx(dict(zip(lenient[C.EXPERT_ID], lenient["leniency"])), abs=1e-4)
    assert set(bars) == {"E01", "E02", "E03", "E04", "E05"}
    a = panel_agreement(handwritten.result.expert_totals)
    assert a["design"] == "complete"
    for form in ("ICC(1,1)", "ICC(2,1)", "ICC(3,k)", "kendall_w"):
        assert doc.keyed[form] == f"{a[form]:.3f}"


def test_approval_is_shown_with_who_when_and_why(handwritten):
    approval = Approval(ranking_hash=handwritten.ranking_hash, decision="approve", decided_by="张科长",
                        comment="同意", via="rounds approve", at="2026-09-30T09:00:00+08:00")
    doc = parse(render(handwritten, approval=approval))
    assert doc.keyed["approval"] == "已批准：张科长，2026-09-30T09:00:00+08:00（rounds approve）；意见：同意"
    rejected = Approval(**{**approval.__dict__, "decision": "reject", "comment": "重新核对HW-03"})
    assert parse(render(handwritten, approval=rejected)).keyed["approval"].startswith("已退回：张科长")


def test_same_round_same_bytes(handwritten):
    assert render(handwritten) == render(handwritten)


def test_sample_round_report(sample):
    html = render(sample)
    doc = parse(html)
    check_charts_match_ranking(sample, doc)
    counts = sample.counts()
    assert {k: int(doc.keyed[k]) for k in counts} == counts
    assert doc.keyed["total_yuan"].startswith(f"{sample.total_yuan():,} 元")
    spread = application_spread(sample.result.expert_totals, deviation_points=20.0)
    flagged = set(spread.loc[spread["deviant"], C.SUBMISSION_ID])
    ctx = report_context(sample.result, sample.programme, sample.config)
    assert {r["id"] for r in ctx["spread_rows"]} == flagged
    names = dict(zip(sample.inputs.experts[C.EXPERT_ID], sample.inputs.experts[C.EXPERT_NAME]))
    assert all(f"{e} {n}" in html.decode("utf-8") for e, n in names.items())  # experts shown by name
    assert html == render(sample)


def test_incomplete_panels_say_what_could_be_computed(handwritten):
    totals = handwritten.result.expert_totals
    # E05 scores only every other application: panels differ, no group of ≥ 3 shares one panel of 5
    keep = ~((totals[C.EXPERT_ID] == "E05") & (totals[C.SUBMISSION_ID].rank(method="dense").astype(int) % 2 == 0))
    result = RoundResult(ranking=handwritten.result.ranking, expert_totals=totals[keep].reset_index(drop=True),
                         review=handwritten.result.review)
    ctx = report_context(result, handwritten.programme, handwritten.config)
    a = panel_agreement(result.expert_totals)
    assert a["design"] == "incomplete"
    assert ctx["agreement"]["design"].startswith("非完全区组")
    assert ("最大项目组" in ctx["agreement"]["note"]) == bool(a["block_n_applications"])
    assert dict((f, v) for f, v, _ in ctx["agreement"]["forms"])["ICC(1,1)"] == f"{a['ICC(1,1)']:.3f}"


def test_a_round_without_experts_renders_without_expert_sections(handwritten):
    result = RoundResult(ranking=handwritten.result.ranking,
                         expert_totals=handwritten.result.expert_totals.iloc[0:0], review=handwritten.result.review)
    html = render_report(result, handwritten.programme, handwritten.config).decode("utf-8")
    assert 'data-chart="diverging"' not in html and 'id="agreement"' not in html
    assert 'data-chart="histogram"' in html and 'id="ranking-table"' in html


def test_names_are_escaped_in_tables_and_charts(handwritten):
    ranking = handwritten.result.ranking.copy()
    ranking.loc[0, C.ENTERPRISE_NAME] = "<b>甲&乙</b>"
    result = RoundResult(ranking=ranking, expert_totals=handwritten.result.expert_totals, review=handwritten.result.review)
    html = render_report(result, handwritten.programme, handwritten.config).decode("utf-8")
    assert "<b>甲" not in html and "&lt;b&gt;甲&amp;乙&lt;/b&gt;" in html


def test_platform_report_breaks_the_composite_down_by_indicator(tmp_path):
    pytest.importorskip("scoring.composite", reason="the composite programme (platform) is not in this tree yet")
    if not (FIXTURES / "handwritten-platform").is_dir():
        pytest.skip("no hand-written platform round in tests/fixtures")
    root = tmp_path / "round"
    shutil.copytree(FIXTURES / "handwritten-platform", root)
    p = _prepare(root)
    doc = parse(render(p))
    (stacked,) = doc.find("svg", data_chart="stacked")
    assert stacked
    r = ranked(p)
    share = float(p.programme.scoring.indicator_share) / 100
    parts: dict[str, float] = {}
    for bar in doc.find("rect", **{"class": "bar"}):
        if "data-value" in bar and "data-series" in bar and "data-bin" not in bar:
            parts[bar["data-series"]] = parts.get(bar["data-series"], 0.0) + float(bar["data-value"])
    # the panel's part of every bar is (1 − share) × its panel score; all parts add up to the composites
    assert parts["panel"] == pytest.approx((1 - share) * sum(float(v) for v in r["panel_score"]), abs=1e-3)
    assert sum(parts.values()) == pytest.approx(sum(float(v) for v in r[C.SCORE]), abs=0.01 * len(r))
    grades = [g.grade for g in p.programme.award.grades]
    text = render(p).decode("utf-8")
    assert all(re.search(rf">{g}档? \d+<", text) for g in grades)  # grade edges marked
    assert "最低档（C档）分数线" in text


def test_an_expert_far_from_the_panel_is_flagged_with_the_application(handwritten):
    totals = handwritten.result.expert_totals.copy()
    at = totals.index[(totals[C.SUBMISSION_ID] == "HW-05") & (totals[C.EXPERT_ID] == "E03")][0]
    totals.loc[at, C.EXPERT_TOTAL] = totals.loc[at, C.EXPERT_TOTAL] - 40
    result = RoundResult(ranking=handwritten.result.ranking, expert_totals=totals, review=handwritten.result.review)
    html = render_report(result, handwritten.programme, handwritten.config, experts=handwritten.inputs.experts)
    spread = application_spread(totals, deviation_points=20.0).set_index(C.SUBMISSION_ID)
    assert list(spread.index[spread["deviant"]]) == ["HW-05"]
    ctx = report_context(result, handwritten.programme, handwritten.config, experts=handwritten.inputs.experts)
    (row,) = ctx["spread_rows"]
    assert (row["id"], row["rank"], row["outcome_label"]) == ("HW-05", 5, "入选")
    assert row["experts"] == "E03 黄教授" and row["range"] == f"{spread.loc['HW-05', 'range']:.2f}"
    assert 'id="spread-table"' in html.decode("utf-8")
