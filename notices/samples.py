"""Fixed sample contexts for notices: golden files, previews of templates, benchmarks.

Every key a real round provides is here with realistic Chinese values, so a
template that renders these renders a real round (StrictUndefined guarantees
nothing was left out).
"""
from __future__ import annotations

from typing import Any

SAMPLE_ROUND: dict[str, Any] = {
    "id": "2026-scenario",
    "title": "2026年度福州市人工智能典型应用场景评选",
    "year": 2026,
    "programme_id": "scenario",
    "programme_name": "人工智能典型应用场景及技术创新重点攻关及产业化项目",
    "organiser": "福州市工业和信息化局",
    "contact": "产业发展科 林工，0591-87000000",
    "clause": "榕政办规〔2026〕7号 第三条：每年评选发布一批市级高价值人工智能典型应用场景或技术创新重点攻关及产业化项目，"
              "每个给予20万元奖励，每年最多不超过10个",
    "document": "榕政办规〔2026〕7号",
}

_BY_OUTCOME: dict[str, dict[str, Any]] = {
    "selected": {"amount_yuan": 200000, "reason_code": "", "reason": "", "score": "85.25", "rank": 3},
    "reserve": {"amount_yuan": 0, "reason_code": "COUNT_CAP", "reason": "本年度入选项目数量已达上限。",
                "score": "78.40", "rank": 12},
    "not_selected": {"amount_yuan": 0, "reason_code": "BELOW_THRESHOLD",
                     "reason": "专家评审综合得分低于本次评选的合格分数线。", "score": "55.10", "rank": None},
    "ineligible": {"amount_yuan": 0, "reason_code": "INELIGIBLE_CREDIT_CODE",
                   "reason": "申报材料中填写的统一社会信用代码校验位不正确（应符合GB 32100-2015）。",
                   "score": None, "rank": None},
}


def sample_context(outcome: str, **overrides: Any) -> dict[str, Any]:
    """A complete notice context for one outcome; keyword overrides replace top-level keys."""
    context: dict[str, Any] = {
        "round": dict(SAMPLE_ROUND),
        "application": {
            "submission_id": "SC-2026-0007",
            "enterprise_name": "福州闽江智能科技有限公司",
            "contact_name": "陈晓明",
            "title": "基于大模型的<智能>工厂质检 & 排产调度系统",
            "credit_code": "91350100MA8T6X5Q3K",
        },
        "outcome": outcome,
        "pass_mark": "60",
        "issued_on": "2026-07-15",
        **_BY_OUTCOME[outcome],
    }
    context.update(overrides)
    return context


def sample_expert_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "round": dict(SAMPLE_ROUND),
        "expert": {"name": "王立群"},
        "url": "https://rounds.example.gov.cn/experts/6f1c2a9e?token=abc",
        "deadline": "2026-06-30",
        "issued_on": "2026-06-20",
    }
    context.update(overrides)
    return context
