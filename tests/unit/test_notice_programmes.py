"""Letters that follow the programme: its kind, its reason codes, its own words, its real rounds.

Three sources of contexts: the sample cases (notices.samples, hand-written like
the golden letters), contexts built by the real flows.notify.notice_contexts
from every programme's hand-written workspace (tests/fixtures/handwritten-*),
and contexts with a hostile application. What is checked is what an applicant
would complain about: a claim letter that speaks of experts, a reduced amount
with no reason, an ineligibility without the rule, an HTML part that says
something the text part does not, markup from an application in the HTML.
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from flows.notify import notice_contexts
from flows.stages import prepare
from flows.workspace import PROGRAMMES_DIR, Workspace, load_programme
from notices.render import TEMPLATE_DIR, render_notice, vocabulary
from notices.samples import SAMPLE_APPLICATIONS, SAMPLE_CASES, SAMPLE_ROUNDS, outcomes_of, sample_case
from scoring import columns as C
from scoring.eligibility import RULES, rule_label

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROGRAMMES = sorted(p.stem for p in PROGRAMMES_DIR.glob("*.toml"))
CASES = [(programme, case) for programme, cases in SAMPLE_CASES.items() for case in cases]
NO_EXPERTS = ("filing", "claim")
REDUCED = (C.TOPUP_HIGHEST, C.ENTERPRISE_CAP, C.BUDGET_CAP)


class _Approval:
    at = "2026-07-15T10:00:00+08:00"


@pytest.fixture(scope="module")
def real_contexts(tmp_path_factory) -> dict[str, list[dict]]:
    """notice_contexts of every programme's hand-written workspace, through the real prepare()."""
    root = tmp_path_factory.mktemp("rounds")
    out = {}
    for pid in PROGRAMMES:
        shutil.copytree(FIXTURES / f"handwritten-{pid}", root / pid)
        out[pid] = notice_contexts(prepare(Workspace.at(root / pid)), _Approval())
    return out


def paragraphs_of_text(text: str) -> list[str]:
    return [line.strip("\u3000") for line in text.splitlines() if line.startswith("\u3000\u3000")]


def paragraphs_of_html(page: str) -> list[str]:
    found = re.findall(r'<p style="text-indent:2em;[^"]*">(.*?)</p>', page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in found]


# --- the samples are the programmes ---------------------------------------------------------------

def test_every_programme_has_a_sample_round_in_step_with_its_file():
    assert sorted(SAMPLE_ROUNDS) == PROGRAMMES == sorted(SAMPLE_CASES) == sorted(SAMPLE_APPLICATIONS)
    for pid, rnd in SAMPLE_ROUNDS.items():
        prog = load_programme(pid)
        assert (rnd["programme_id"], rnd["programme_name"], rnd["kind"], rnd["clause"], rnd["document"]) == (
            prog.id, prog.name, prog.kind, prog.clause, prog.policy.document), pid
        columns = {c.id for c in prog.columns}
        assert set(SAMPLE_APPLICATIONS[pid]["details"]) <= columns, pid


def test_every_programme_has_a_case_per_outcome_it_can_produce():
    """Reserve only behind a count cap; every programme can select, refuse on review, and not select
    (at the least, an objection upheld during 公示)."""
    for pid in PROGRAMMES:
        award = load_programme(pid).award
        expected = {C.SELECTED, C.NOT_SELECTED, C.INELIGIBLE} | ({C.RESERVE} if award.count_cap else set())
        assert set(outcomes_of(pid)) == expected, pid
        for case, values in SAMPLE_CASES[pid].items():
            outcome, _, variant = case.partition(".")
            assert values["outcome"] == outcome
            assert not variant or variant in (values["reason_code"], values.get("grade")), case


def test_sample_rule_labels_are_the_rules_own():
    for pid, case in CASES:
        ctx = sample_case(pid, case)
        if ctx["outcome"] == C.INELIGIBLE:
            assert ctx["rule_label"] == rule_label(ctx["reason_code"]) != "", (pid, case)


# --- what every letter must say, or must not ---------------------------------------------------

@pytest.mark.parametrize("programme, case", CASES, ids=[f"{p}/{c}" for p, c in CASES])
def test_html_says_what_the_text_says(programme, case):
    rendered = render_notice(sample_case(programme, case))
    assert paragraphs_of_html(rendered.html) == paragraphs_of_text(rendered.text)
    assert len(paragraphs_of_text(rendered.text)) >= 3


def check_letter(ctx: dict, label: str) -> None:
    """The rules a letter of any programme follows, whatever built its context."""
    text = render_notice(ctx).text
    body = text.split("政策依据")[0]
    kind, code, outcome = ctx["round"]["kind"], ctx["reason_code"], ctx["outcome"]
    if kind in NO_EXPERTS:
        assert "专家" not in body and "评审" not in body and "评选结果" not in text, label
        assert "审核结果的通知" in text.splitlines()[0], label
    else:
        assert "形式审查" in body, label
    if outcome == C.SELECTED:
        assert f"{ctx['amount_yuan']:,}元" in body, label
        if code in REDUCED:
            assert f"金额核定说明：{ctx['reason'].replace('。 ', '。')}" in body, label
    if outcome in (C.NOT_SELECTED, C.INELIGIBLE) and ctx["reason"]:
        assert ctx["reason"].replace("。 ", "。") in body, label
    if outcome == C.INELIGIBLE:
        assert f"未满足的申报条件：{ctx['rule_label']}。" in body, label
    if code == C.OBJECTION_UPHELD:
        assert "公示" in body.split("。")[0] and "异议核查结论" in body and "欢迎继续" not in body, label
    if kind == "composite" and ctx["score"] and outcome != C.INELIGIBLE:
        assert f"服务成效指标指数{ctx['indicator_index']}分" in body, label
        assert f"专家评审得分{ctx['panel_score']}分" in body, label
        assert "领先指标" in body and "最弱指标" in body, label
        if outcome == C.SELECTED:
            assert f"评定为{ctx['grade']}档" in body, label
    assert "None" not in text and "  " not in body, label


@pytest.mark.parametrize("programme, case", CASES, ids=[f"{p}/{c}" for p, c in CASES])
def test_sample_letters_follow_the_rules(programme, case):
    check_letter(sample_case(programme, case), f"{programme}/{case}")


@pytest.mark.parametrize("pid", PROGRAMMES)
def test_real_rounds_letters_follow_the_rules(real_contexts, pid):
    """Every application of every hand-written workspace, as notice_contexts builds it."""
    contexts = real_contexts[pid]
    assert contexts
    for ctx in contexts:
        check_letter(ctx, f"{pid}/{ctx['application']['submission_id']}")


def test_real_contexts_carry_what_the_wording_needs(real_contexts):
    for pid, contexts in real_contexts.items():
        prog = load_programme(pid)
        for ctx in contexts:
            assert ctx["round"]["kind"] == prog.kind
            required = {c.id for c in prog.columns if c.required}
            assert required <= set(ctx["application"]["details"]), (pid, ctx["application"]["submission_id"])
            own = ("grade", "grade_note", "panel_score", "indicator_index")  # the application's
            shares = ("indicator_share", "panel_share")                      # the programme's
            if prog.kind != "composite":
                assert all(ctx[k] is None for k in own + shares), pid
            elif ctx["outcome"] == C.INELIGIBLE:  # never scored
                assert all(ctx[k] is None for k in own) and all(ctx[k] for k in shares), pid
    p01 = next(c for c in real_contexts["platform"] if c["application"]["submission_id"] == "P01")
    assert (p01["grade"], p01["panel_score"], p01["indicator_index"], p01["indicator_share"], p01["panel_share"]) == (
        "A", "70.00", "95.83", "60", "40")
    m02 = next(c for c in real_contexts["model_filing"] if c["application"]["submission_id"] == "M02")
    assert m02["application"]["details"]["filing_level"] == "省委网信办生成式人工智能服务登记"  # the choice's label


def test_every_ineligibility_code_has_a_plain_rule_name():
    for name, rule in RULES.items():
        assert rule_label(rule.code), name
    assert rule_label("INELIGIBLE_SOMETHING_NEW") == ""


def test_real_letters_name_the_rule_and_the_listing(real_contexts):
    letters = {c["application"]["submission_id"]: render_notice(c).text for c in real_contexts["hardware"]}
    assert "未满足的申报条件：未入选国家级或省级名单。" in letters["H02"]
    assert "已入选2025年国家级名单的“智能巡检机器人X1”" in letters["H02"]
    assert "未满足的申报条件：在本市实现规模化应用。" in letters["H05"]
    filings = {c["application"]["submission_id"]: render_notice(c).text for c in real_contexts["model_filing"]}
    assert "未满足的申报条件：本年度新通过备案或登记。" in filings["M11"]
    assert "“榕城政务大模型”（国家网信办生成式人工智能服务备案，编号：Fujian-RongchengZhengwu-20260310，2026年3月10日通过）" \
        in filings["M01"]
    assert "按模型给予奖励资金200,000元" in filings["M01"]
    assert "本项按剩余额度核定为100,000元" in filings["M04"] and "给予奖励资金100,000元" in filings["M04"]
    claims = {c["application"]["submission_id"]: render_notice(c).text for c in real_contexts["rd_matching"]}
    # two sentences of one reason, joined the Chinese way
    assert "（全额2,500,000元）。本轮预算6,000,000元不足以全额支持" in claims["R04"]


# --- the programme's own words ---------------------------------------------------------------------

def test_programme_words_replace_only_what_they_define():
    default = vocabulary(str(TEMPLATE_DIR), "scenario")
    skills = vocabulary(str(TEMPLATE_DIR), "skills_training")
    assert set(skills) == set(default)
    assert skills["money"]("claim") == "职业技能培训补贴资金" and default["money"]("claim") == "奖补资金"
    assert skills["basis"] is not None and skills["KINDS"] == default["KINDS"]
    industrial = vocabulary(str(TEMPLATE_DIR), "industrial_internet")
    app = SAMPLE_APPLICATIONS["industrial_internet"]
    assert industrial["money"]("scored") == "补助资金" and industrial["item"](app) == default["item"](app) == (
        "贵单位申报的“纺织全流程AI质检工业互联网平台”")


def test_every_programme_words_file_defines_only_known_words():
    """A misspelt macro in a programme's _words.j2 would silently never be used."""
    default = set(vocabulary(str(TEMPLATE_DIR), "default"))
    for folder in TEMPLATE_DIR.iterdir():
        if folder.is_dir() and folder.name != "default":
            assert folder.name in PROGRAMMES, f"templates for an unknown programme: {folder.name}"
            own = vocabulary(str(TEMPLATE_DIR), folder.name)
            assert set(own) == default, folder.name


def test_money_and_wording_by_kind():
    letters = {pid: render_notice(sample_case(pid, "selected")).text for pid in PROGRAMMES}
    assert "给予奖励资金200,000元" in letters["scenario"]
    assert "给予补助资金1,500,000元" in letters["industrial_internet"]
    assert "评定为A档，给予补助资金1,000,000元" in letters["platform"]
    assert "按取得证书人数给予职业技能培训补贴资金120,000元" in letters["skills_training"]
    assert "取得职业技能等级证书40人" in letters["skills_training"]
    assert "给予市级配套补助资金" in letters["rd_matching"] and "省级研发经费投入奖补1,200,000元" in letters["rd_matching"]
    assert "经资格审核、资金核定和审定" in letters["poc_new"] and "认定文号：榕科〔2026〕20号" in letters["poc_new"]
    assert "经形式审查、服务成效指标测算、专家评审、综合评定和审定" in letters["platform"]


def test_hostile_application_fields_are_escaped_in_every_programme():
    for pid, case in CASES:
        ctx = sample_case(pid, case)
        app = ctx["application"]
        app["title"] = "<b>标题</b>"
        app["details"] = {k: v if k.endswith(("_yuan", "_on")) else f"<i>{v}</i>" for k, v in app["details"].items()}
        rendered = render_notice(ctx)
        assert "<b>" not in rendered.html and "<i>" not in rendered.html, (pid, case)
        assert "&lt;b&gt;标题&lt;/b&gt;" in rendered.html or "&lt;i&gt;" in rendered.html, (pid, case)
        assert "&lt;" not in rendered.text, (pid, case)
