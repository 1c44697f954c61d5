"""Rendering of result notices: golden letters per programme and outcome, money in words, strictness.

Golden files live in tests/golden/notices/<programme>/<case>.txt (every sample
case of notices.samples: each outcome a programme can produce, and the reason
codes whose letters read differently) and <programme>/<outcome>.html (each
outcome); they change only with a reviewed diff. To regenerate them after an
intended template change, run:

    ROUNDS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_notice_render.py tests/unit/test_notice_message.py

then read `git diff tests/golden/notices` before committing.
"""
from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from notices.render import Rendered, cn_date, grade_drivers, render_notice, sentences, yuan, yuan_upper
from notices.samples import SAMPLE_CASES, sample_case, sample_context, sample_expert_context

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "notices"
CASES = [(programme, case) for programme, cases in SAMPLE_CASES.items() for case in cases]


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROUNDS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden file {path}; run with ROUNDS_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_bytes().decode("utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("programme, case", CASES, ids=[f"{p}/{c}" for p, c in CASES])
def test_each_case_matches_its_golden_letter(programme, case):
    rendered = render_notice(sample_case(programme, case))
    assert rendered.text.startswith(rendered.subject + "\n\n")  # the text golden holds the subject too
    check_golden(f"{programme}/{case}.txt", rendered.text)
    if "." not in case:  # the HTML of each outcome; test_notice_programmes checks every HTML says what its text says
        check_golden(f"{programme}/{case}.html", rendered.html)


def test_golden_folder_holds_no_stale_letters():
    """A case removed from the samples takes its golden letters with it (the suite would not notice otherwise)."""
    expected = {f"{p}/{c}.txt" for p, c in CASES} | {f"{p}/{c}.html" for p, c in CASES if "." not in c}
    found = {str(f.relative_to(GOLDEN)) for f in GOLDEN.glob("*/*") if f.is_file()}
    assert found == expected


def test_expert_link_matches_its_golden_letter():
    rendered = render_notice(sample_expert_context(), kind="expert_link")
    check_golden("expert_link.txt", rendered.text)
    assert "王立群专家" in rendered.text and "2026年6月30日" in rendered.text
    assert 'href="https://rounds.example.gov.cn/experts/6f1c2a9e?token=abc"' in rendered.html


def test_subject_is_the_formal_title_on_one_line():
    rendered = render_notice(sample_context("selected"))
    assert rendered.subject == "关于2026年度福州市人工智能典型应用场景及技术创新重点攻关及产业化项目评选结果的通知"
    ctx = sample_context("selected")
    ctx["round"] = dict(ctx["round"], programme_name="人工智能\r\n典型应用场景")
    assert "\n" not in render_notice(ctx).subject and "\r" not in render_notice(ctx).subject


def test_selected_states_the_amount_in_figures_and_capitals():
    rendered = render_notice(sample_context("selected"))
    assert "200,000元（大写：人民币贰拾万元整）" in rendered.text
    assert "<strong>200,000元</strong>" in rendered.html
    assert "排名第3位" in rendered.text


def test_reserve_explains_moving_up():
    text = render_notice(sample_context("reserve")).text
    assert "候补项目" in text and "依次递补" in text and "78.40分" in text


def test_not_selected_below_threshold_gives_score_and_pass_mark():
    text = render_notice(sample_context("not_selected")).text
    assert "未入选原因：专家评审综合得分低于本次评选的合格分数线。" in text
    assert "综合得分为55.10分，低于本次评选合格分数线60分" in text


def test_not_selected_for_the_count_cap_gives_rank_not_pass_mark():
    ctx = sample_context("not_selected", reason_code="COUNT_CAP", reason="综合排名在入选和候补名额之外。",
                         score="70.00", rank=15)
    text = render_notice(ctx).text
    assert "综合排名在入选和候补名额之外" in text and "排名第15位" in text and "合格分数线" not in text


def test_not_selected_without_a_reason_still_says_why():
    text = render_notice(sample_context("not_selected", reason="", reason_code="", score=None)).text
    assert "未入选原因：综合排序未进入本年度入选范围。" in text


def test_ineligible_names_the_failed_rule():
    text = render_notice(sample_context("ineligible")).text
    assert "未满足的申报条件：统一社会信用代码有效。" in text
    assert "校验位不正确" in text and "分" not in text.split("未满足")[0].split("经形式审查")[1]
    unknown = render_notice(sample_context("ineligible", reason_code="INELIGIBLE_SOMETHING_NEW", rule_label="",
                                           reason="某项条件不符合。")).text
    assert "未满足的申报条件" not in unknown and "具体情况：某项条件不符合。" in unknown


def test_html_is_escaped_and_text_is_not():
    rendered = render_notice(sample_context("selected"))
    assert "基于大模型的<智能>工厂质检 & 排产调度系统" in rendered.text
    assert "基于大模型的&lt;智能&gt;工厂质检 &amp; 排产调度系统" in rendered.html
    assert "<智能>" not in rendered.html
    hostile = sample_context("selected")
    hostile["application"] = dict(hostile["application"], enterprise_name='<script>alert("x")</script>')
    assert "<script>" not in render_notice(hostile).html


def test_a_missing_context_key_is_an_error_not_a_blank():
    ctx = sample_context("selected")
    del ctx["amount_yuan"]
    with pytest.raises(jinja2.UndefinedError):
        render_notice(ctx)


def test_programme_templates_override_the_default(tmp_path):
    base = Path(__file__).resolve().parents[2] / "notices" / "templates"
    (tmp_path / "default").mkdir()
    for f in (base / "default").iterdir():
        (tmp_path / "default" / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "selected.txt.j2").write_text("专用模板：{{ application.enterprise_name }}", encoding="utf-8")
    rendered = render_notice(sample_context("selected"), template_dir=tmp_path)
    assert rendered.text == "专用模板：福州闽江智能科技有限公司"
    assert "200,000元" in rendered.html  # html falls back to default/
    assert isinstance(rendered, Rendered)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(LookupError, match="no subject template for notice kind 'award_paid'"):
        render_notice(sample_context("selected"), kind="award_paid")


@pytest.mark.parametrize("amount, words", [
    (0, "零元整"), (10, "壹拾元整"), (3000, "叁仟元整"), (10001, "壹万零壹元整"), (100100, "壹拾万零壹佰元整"),
    (110000, "壹拾壹万元整"), (200000, "贰拾万元整"), (500000, "伍拾万元整"), (1050000, "壹佰零伍万元整"),
    (3000000, "叁佰万元整"), (101000000, "壹亿零壹佰万元整"), (123456789, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
])
def test_amount_in_financial_capitals(amount, words):
    assert yuan_upper(amount) == words


def test_amount_in_figures_and_dates():
    assert yuan(200000) == "200,000元" and yuan(1000000) == "1,000,000元"
    assert cn_date("2026-07-05") == "2026年7月5日"
    with pytest.raises(ValueError):
        yuan_upper(-1)


def test_rendering_is_pure():
    """Rendering and MIME building load no SMTP client, database or Prefect code."""
    import subprocess
    import sys

    code = ("import sys, notices.render, notices.message; "
            "print(sorted(m for m in ('aiosmtplib', 'aiosmtpd', 'sqlite3', 'prefect', 'psycopg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_the_score_is_not_repeated_when_the_reason_gives_it():
    below = render_notice(sample_context("not_selected", reason="专家评审得分49.33分，低于入围分数线60.00分。",
                                         score="49.33", pass_mark="60.00")).text
    assert below.count("49.33") == 1
    capped = render_notice(sample_context("not_selected", reason_code="COUNT_CAP", score="69.33", rank=23,
                                          reason="综合排名第23名，超出本年度10个入选名额及3个候补名额。")).text
    assert capped.count("69.33") == 1 and capped.count("第23") == 1


def test_grade_drivers_quote_what_follows_the_two_parts():
    note = ("B档（综合得分77.25≥75.00，距A档差7.75分）：指标指数82.08（占60%）、专家评分70.00（占40%）；"
            "领先指标：概念验证项目数87.50、服务企业数80.00；最弱指标：服务满意度70.00")
    assert grade_drivers(note) == "领先指标：概念验证项目数87.50、服务企业数80.00；最弱指标：服务满意度70.00"
    assert grade_drivers("A档（综合得分90.00≥85.00）：指标指数90.00（占60%）、专家评分90.00（占40%）") == ""
    assert grade_drivers(None) == "" and grade_drivers("") == ""


def test_reasons_of_several_sentences_are_joined_without_a_space():
    assert sentences("额度已满。 预算不足。") == "额度已满。预算不足。"
    assert sentences("只有一句。") == "只有一句。"
