"""Fixed sample contexts for notices: golden files, previews of templates, benchmarks.

Every key a real round provides (flows.notify.notice_contexts) is here with
realistic Chinese values, so a template that renders these renders a real round
(StrictUndefined guarantees nothing was left out). There is a sample round for
every programme in data/programmes/ (a test keeps names, kinds and clauses in
step with those files), and for each programme one case per outcome it can
produce, plus the reason codes whose letters read differently
(`<outcome>.<REASON_CODE>`). Reasons are written the way scoring.caps and
scoring.eligibility write them.
"""
from __future__ import annotations

import copy
from typing import Any

DOCUMENT = "榕政办规〔2026〕7号"
GONGXIN, KEJI, RENSHE = "福州市工业和信息化局", "福州市科学技术局", "福州市人力资源和社会保障局"


def _round(pid: str, kind: str, name: str, organiser: str, clause: str, contact: str = "", title: str = "") -> dict:
    return {"id": f"2026-{pid}", "title": title or f"2026年度福州市{name}", "year": 2026, "programme_id": pid,
            "programme_name": name, "organiser": organiser, "contact": contact, "clause": f"{DOCUMENT} {clause}",
            "document": DOCUMENT, "kind": kind}


SAMPLE_ROUNDS: dict[str, dict[str, Any]] = {
    "scenario": _round(
        "scenario", "scored", "人工智能典型应用场景及技术创新重点攻关及产业化项目", GONGXIN,
        "第三条：每年评选发布一批市级高价值人工智能典型应用场景或技术创新重点攻关及产业化项目，每个给予20万元奖励，每年最多不超过10个",
        "产业发展科 林工，0591-87000000", "2026年度福州市人工智能典型应用场景评选"),
    "hardware": _round(
        "hardware", "scored", "人工智能硬件新产品", GONGXIN,
        "第九条：对企业研发生产、在本市实现规模化应用的具有自主知识产权的人工智能硬件新产品（与入选国家级或省级不重复）给予奖励，"
        "单个产品最高不超过50万元，每年最多不超过6个", "电子信息产业科 郑工，0591-87000001"),
    "industrial_internet": _round(
        "industrial_internet", "scored", "人工智能赋能工业互联网项目", GONGXIN,
        "第三条：支持企业应用人工智能技术开展工业互联网项目建设，对数智化成效明显的项目给予最高不超过200万元补助"),
    "platform": _round(
        "platform", "composite", "公共服务平台及概念验证中心年度服务成效评估", KEJI,
        "第二条：每年对公共服务平台或概念验证中心年度服务成效明显的给予单家不超过100万元补助", "成果转化科 王工，0591-83000000"),
    "model_filing": _round(
        "model_filing", "filing", "生成式人工智能模型备案奖励", GONGXIN,
        "第一条：对新通过国家网信办生成式人工智能服务备案、省委网信办生成式人工智能服务登记的模型，"
        "分别按每个模型给予企业不超过20万元、10万元资金奖励，单个企业每年奖励最高不超过50万元", "软件和信息服务业科 陈工，0591-87000002"),
    "poc_new": _round(
        "poc_new", "claim", "新认定概念验证中心及产业技术研发公共服务平台奖励", KEJI,
        "第二条：对新认定的概念验证中心、产业技术研发公共服务平台给予不超过50万元奖励补助"),
    "rd_matching": _round(
        "rd_matching", "claim", "企业研发经费投入市级配套补助", KEJI,
        "第二条：在省级研发经费投入奖补政策的基础上，再给予每家企业市级配套补助，补助总额不超过省级奖补额，每年最高300万元",
        "资源配置与管理科 李工，0591-83000001"),
    "skills_training": _round(
        "skills_training", "claim", "人工智能职业技能培训补贴", RENSHE,
        "第八条：支持城乡劳动者参加人工智能职业技能培训，对参加职业技能培训取得职业技能等级证书的，按规定给予最高3000元补贴",
        "职业能力建设处 黄工，0591-83000002"),
}
SAMPLE_ROUND = SAMPLE_ROUNDS["scenario"]


def _app(sid: str, enterprise: str, contact: str, title: str, credit_code: str, **details: str) -> dict:
    return {"submission_id": sid, "enterprise_name": enterprise, "contact_name": contact, "title": title,
            "credit_code": credit_code, "details": details}


SAMPLE_APPLICATIONS: dict[str, dict[str, Any]] = {
    "scenario": _app("SC-2026-0007", "福州闽江智能科技有限公司", "陈晓明", "基于大模型的<智能>工厂质检 & 排产调度系统",
                     "91350100MA8T6X5Q3K", category="典型应用场景", district="马尾区"),
    "hardware": _app("HW-2026-0012", "福州闽芯智能科技有限公司", "郑海", "端侧AI推理加速卡研发及产业化", "91350100MA3400001L",
                     product_name="端侧AI推理加速卡M1", own_ip="是", self_produced="是", fuzhou_units="320",
                     requested_amount_yuan="420000"),
    "industrial_internet": _app("II-2026-0003", "福州纺织智造有限公司", "林涛", "纺织全流程AI质检工业互联网平台",
                                "91350182MA2Y4K3X1B", district="长乐区", project_investment_yuan="30000000",
                                requested_amount_yuan="1500000"),
    "platform": _app("PF-2026-0001", "福州人工智能产业技术研究院", "王敏", "2026年度服务成效评估", "12350100MB3500001E",
                     platform_name="福州人工智能公共技术服务平台", recognised="是", enterprises_served="200",
                     services_delivered="400", poc_projects="10", projects_commercialised="5",
                     service_revenue_yuan="3000000", satisfaction_rate="98"),
    "model_filing": _app("MF-2026-0004", "福州榕城智算科技有限公司", "陈明", "闽医通医疗大模型备案奖励", "91350102MA3600001N",
                         model_name="闽医通医疗大模型", filing_level="国家网信办生成式人工智能服务备案",
                         filing_no="Fujian-MinYiTong-20260201", filed_on="2026-02-01"),
    "poc_new": _app("PC-2026-0002", "福建智能终端研究院", "林芳", "新认定研发公共服务平台奖励", "12350103MB37000022",
                    platform_name="智能终端产业技术研发公共服务平台", platform_type="产业技术研发公共服务平台",
                    recognition_no="榕科〔2026〕20号", recognised_on="2026-04-15", requested_amount_yuan="500000"),
    "rd_matching": _app("RD-2026-0009", "福建榕芯半导体有限公司", "林芳", "2025年度研发经费投入市级配套", "91350104MA3800002U",
                        provincial_award_yuan="1200000", provincial_doc_no="闽科〔2026〕5号", rd_expense_yuan="30000000"),
    "skills_training": _app("ST-2026-0015", "福州智能职业培训学校", "黄丽", "人工智能训练师（四级）培训补贴第一批",
                            "52350106MJ3000001J", occupation="人工智能训练师", certificate_level="四级/中级工",
                            certificates="40", requested_amount_yuan="120000"),
}

#: The keys of a context that only some programmes fill (None elsewhere), as notice_contexts gives them.
_NOT_COMPOSITE = {"grade": None, "grade_note": None, "panel_score": None, "indicator_index": None,
                  "indicator_share": None, "panel_share": None}


def _result(outcome: str, amount: int = 0, code: str = "", reason: str = "", score: str | None = None,
            rank: int | None = None, rule_label: str = "", **more: Any) -> dict:
    return {"outcome": outcome, "amount_yuan": amount, "reason_code": code, "reason": reason, "score": score,
            "rank": rank, "rule_label": rule_label, **more}


def _composite(grade: str | None, score: str, index: str, panel: str, note: str) -> dict:
    return {"grade": grade, "grade_note": note, "panel_score": panel, "indicator_index": index,
            "indicator_share": "60", "panel_share": "40", "score": score}


_CAP_MF = "单个企业每年奖励最高不超过500,000元，本企业本年度本轮已核定"
_OBJECTION = "公示期内收到异议，经核实成立（{}），取消入选资格。"

#: programme → case → what the case sets (top-level keys, and `details` that differ from the
#: sample application's). A case is an outcome ("selected") or an outcome with the reason
#: code or grade that changes its letter ("selected.TOPUP_HIGHEST").
SAMPLE_CASES: dict[str, dict[str, dict[str, Any]]] = {
    "scenario": {
        "selected": _result("selected", 200000, score="85.25", rank=3),
        "reserve": _result("reserve", code="COUNT_CAP", reason="本年度入选项目数量已达上限。", score="78.40", rank=12),
        "not_selected": _result("not_selected", code="BELOW_THRESHOLD", reason="专家评审综合得分低于本次评选的合格分数线。",
                                score="55.10"),
        "ineligible": _result("ineligible", code="INELIGIBLE_CREDIT_CODE",
                              reason="申报材料中填写的统一社会信用代码校验位不正确（应符合GB 32100-2015）。",
                              rule_label="统一社会信用代码有效"),
        "not_selected.COUNT_CAP": _result("not_selected", code="COUNT_CAP", score="69.33", rank=23,
                                          reason="综合排名第23名，超出本年度10个入选名额及3个候补名额。"),
        "not_selected.OBJECTION_UPHELD": _result("not_selected", code="OBJECTION_UPHELD", score="83.50", rank=5,
                                                 reason=_OBJECTION.format("申报材料所列应用单位未实际部署该系统")),
    },
    "hardware": {
        "selected": _result("selected", 420000, score="84.00", rank=6),
        "reserve": _result("reserve", code="COUNT_CAP", score="82.00", rank=8,
                           reason="综合排名第8名，本年度入选名额为6个，列为候补；如入选项目放弃或被取消资格，将按候补顺序递补。"),
        "not_selected": _result("not_selected", code="COUNT_CAP", score="70.00", rank=11,
                                reason="综合排名第11名，超出本年度6个入选名额及3个候补名额。"),
        "ineligible": _result("ineligible", code="EXCLUDED_LISTED", rule_label="未入选国家级或省级名单",
                              reason="该产品与已入选2025年国家级名单的“端侧AI推理加速卡 M1”为同一或高度近似产品（名称相似度0.97），"
                                     "按政策规定与国家级、省级入选产品不重复奖励。"),
        "selected.TOPUP_HIGHEST": _result(
            "selected", 300000, "TOPUP_HIGHEST", score="87.00", rank=3,
            reason="该项目已获福州市数字经济发展专项资金（2025年，“端侧AI推理加速卡研发及产业化项目（一期）”）共200,000元，"
                   "按“就高不重复”原则补足差额300,000元。"),
        "not_selected.HIGHER_AWARD_ELSEWHERE": _result(
            "not_selected", code="HIGHER_AWARD_ELSEWHERE", score="86.00", rank=4,
            reason="该项目已获福建省首台（套）重大技术装备奖励（2025年，“端侧AI推理加速卡研发及产业化”）共600,000元，"
                   "不低于本次可获奖励420,000元，按“就高不重复”原则不再重复支持。"),
        "not_selected.BELOW_THRESHOLD": _result("not_selected", code="BELOW_THRESHOLD", score="59.67", rank=13,
                                                reason="专家评审得分59.67分，低于入围分数线60.00分。"),
        "ineligible.INELIGIBLE_AT_SCALE": _result("ineligible", code="INELIGIBLE_AT_SCALE", rule_label="在本市实现规模化应用",
                                                  reason="该产品在本市应用99台（套），未达到规模化应用要求的100台（套）。",
                                                  details={"fuzhou_units": "99"}),
    },
    "industrial_internet": {
        "selected": _result("selected", 1500000, score="85.00", rank=2),
        "not_selected": _result("not_selected", code="BUDGET_CAP", score="80.00", rank=3,
                                reason="综合排名第3名，本轮奖补资金预算已用完。"),
        "ineligible": _result("ineligible", code="INELIGIBLE_CALL_WINDOW", rule_label="在申报期内提交",
                              reason="提交时间2026-09-02 10:00晚于申报截止时间2026-08-31 17:30。"),
        "not_selected.BELOW_THRESHOLD": _result("not_selected", code="BELOW_THRESHOLD", score="55.00", rank=5,
                                                reason="专家评审得分55.00分，低于入围分数线60.00分。"),
    },
    "platform": {
        "selected": _result("selected", 1000000, rank=1, **_composite(
            "A", "85.50", "95.83", "70.00",
            "A档（综合得分85.50≥85.00）：指标指数95.83（占60%）、专家评分70.00（占40%）；领先指标：概念验证项目数100.00、"
            "成果转化项目数100.00；最弱指标：服务企业数75.00；服务次数参评对象间无差异，均计100.00分")),
        "not_selected": _result("not_selected", code="BELOW_THRESHOLD", rank=5, reason="综合得分45.00分，低于C档分数线65.00分。",
                                **_composite(
            None, "45.00", "21.67", "80.00",
            "未达C档（综合得分45.00＜65.00）：指标指数21.67（占60%）、专家评分80.00（占40%）；领先指标：服务企业数20.00、"
            "概念验证项目数10.00；最弱指标：服务满意度0.00；服务次数参评对象间无差异，均计100.00分")),
        "ineligible": _result("ineligible", code="INELIGIBLE_RECOGNISED", rule_label="已认定的公共服务平台或概念验证中心",
                              reason="该平台尚未被认定为公共服务平台或概念验证中心。", details={"recognised": "否"}),
        "selected.B": _result("selected", 600000, rank=3, **_composite(
            "B", "77.25", "82.08", "70.00",
            "B档（综合得分77.25≥75.00，距A档差7.75分）：指标指数82.08（占60%）、专家评分70.00（占40%）；领先指标：概念验证项目数87.50、"
            "服务企业数80.00；最弱指标：服务满意度70.00；服务次数参评对象间无差异，均计100.00分")),
        "not_selected.ENTERPRISE_CAP": _result(
            "not_selected", code="ENTERPRISE_CAP", rank=2,
            reason="单个企业每年奖励最高不超过1,000,000元，本企业本年度本轮已核定1,000,000元，已无剩余额度，本项不再奖励。",
            **_composite("A", "85.00", "85.00", "85.00",
                         "A档（综合得分85.00≥85.00）：指标指数85.00（占60%）、专家评分85.00（占40%）；领先指标：服务企业数100.00、"
                         "服务收入80.00；最弱指标：成果转化项目数75.00；服务次数参评对象间无差异，均计100.00分")),
    },
    "model_filing": {
        "selected": _result("selected", 200000, rank=1),
        "not_selected": _result(
            "not_selected", code="HIGHER_AWARD_ELSEWHERE", rank=7,
            reason="同一模型“闽医通医疗大模型”在本轮另有国家网信办生成式人工智能服务备案申报（申报编号MF-2026-0003），"
                   "按“就高不重复”原则只按较高标准奖励一次，本项不再奖励。",
            details={"filing_level": "省委网信办生成式人工智能服务登记", "filing_no": "闽网信登2026003", "filed_on": "2026-01-15"}),
        "ineligible": _result("ineligible", code="INELIGIBLE_FILED_IN_YEAR", rule_label="本年度新通过备案或登记",
                              reason="备案（登记）日期为2025-12-28，不在本年度（2026年）内。",
                              details={"filing_no": "Fujian-MinYiTong-20251228", "filed_on": "2025-12-28"}),
        "selected.ENTERPRISE_CAP": _result("selected", 100000, "ENTERPRISE_CAP", rank=4,
                                           reason=_CAP_MF + "400,000元，本项按剩余额度核定为100,000元（全额200,000元）。"),
        "selected.TOPUP_HIGHEST": _result(
            "selected", 100000, "TOPUP_HIGHEST", rank=5,
            reason="该项目已获生成式人工智能模型备案奖励（省级登记）（2025年，“闽医通医疗大模型”）共100,000元，按“就高不重复”原则补足差额100,000元。"),
        "not_selected.ENTERPRISE_CAP": _result("not_selected", code="ENTERPRISE_CAP", rank=6,
                                               reason=_CAP_MF + "500,000元，已无剩余额度，本项不再奖励。"),
    },
    "poc_new": {
        "selected": _result("selected", 500000, rank=2),
        "not_selected": _result("not_selected", code="BUDGET_CAP", rank=3, reason="按受理顺序第3位，本轮奖补资金预算已用完。"),
        "ineligible": _result("ineligible", code="INELIGIBLE_RECOGNISED_IN_YEAR", rule_label="本年度新认定",
                              reason="认定日期为2025-11-20，不在本年度（2026年）内。",
                              details={"recognition_no": "榕科〔2025〕88号", "recognised_on": "2025-11-20"}),
        "not_selected.OBJECTION_UPHELD": _result("not_selected", code="OBJECTION_UPHELD", rank=1,
                                                 reason=_OBJECTION.format("认定文件所列运营主体与申报单位不一致")),
    },
    "rd_matching": {
        "selected": _result("selected", 1058824, "BUDGET_CAP", rank=1,
                            reason="本轮预算6,000,000元不足以全额支持，按比例核定为1,058,824元（全额1,200,000元）。"),
        "not_selected": _result("not_selected", code="ENTERPRISE_CAP", rank=5,
                                reason="单个企业每年奖励最高不超过3,000,000元，本企业本年度此前已获3,000,000元，已无剩余额度，本项不再奖励。"),
        "ineligible": _result("ineligible", code="INELIGIBLE_PROVINCIAL_AWARD", rule_label="已获省级研发经费投入奖补",
                              reason="未获得省级研发经费投入奖补，市级配套无所依据。",
                              details={"provincial_award_yuan": "0", "provincial_doc_no": None}),
        "selected.ENTERPRISE_CAP": _result(
            "selected", 1588235, "ENTERPRISE_CAP", rank=3,
            reason="单个企业每年奖励最高不超过3,000,000元，本企业本年度本轮已核定1,200,000元，本项按剩余额度核定为1,800,000元（全额2,500,000元）。"
                   " 本轮预算6,000,000元不足以全额支持，按比例核定为1,588,235元（全额1,800,000元）。",
            details={"provincial_award_yuan": "2500000", "provincial_doc_no": "闽科〔2026〕9号"}),
    },
    "skills_training": {
        "selected": _result("selected", 120000, rank=1),
        "not_selected": _result("not_selected", code="BUDGET_CAP", rank=6, reason="按受理顺序第6位，本轮奖补资金预算已用完。"),
        "ineligible": _result("ineligible", code="INELIGIBLE_CERTIFIED", rule_label="取得职业技能等级证书",
                              reason="申报取得职业技能等级证书的人数为0，没有可补贴的证书。", details={"certificates": "0"}),
        "selected.TOPUP_HIGHEST": _result(
            "selected", 70000, "TOPUP_HIGHEST", rank=4,
            reason="该项目已获福州市职业技能提升行动补贴（2026年，“人工智能训练师培训补贴”）共50,000元，按“就高不重复”原则补足差额70,000元。"),
    },
}

_PASS_MARKS = {"scenario": "60", "hardware": "60.00", "industrial_internet": "60.00", "platform": "65.00"}


def sample_case(programme: str, case: str, **overrides: Any) -> dict[str, Any]:
    """The complete context of one case of a programme; keyword overrides replace top-level keys."""
    result = dict(SAMPLE_CASES[programme][case])
    application = copy.deepcopy(SAMPLE_APPLICATIONS[programme])
    for key, value in result.pop("details", {}).items():  # None: a column left empty, absent as in a real round
        application["details"][key] = value
        if value is None:
            del application["details"][key]
    context: dict[str, Any] = {
        "round": dict(SAMPLE_ROUNDS[programme]),
        "application": application,
        "pass_mark": _PASS_MARKS.get(programme),
        "issued_on": "2026-07-15",
        **_NOT_COMPOSITE,
        **result,
    }
    context.update(overrides)
    return context


def sample_context(outcome: str, programme: str = "scenario", **overrides: Any) -> dict[str, Any]:
    """A complete notice context for one outcome of a programme (the scenario round by default)."""
    return sample_case(programme, outcome, **overrides)


def outcomes_of(programme: str) -> tuple[str, ...]:
    """The outcomes a programme's sample round covers (reserve only where a count cap makes one)."""
    return tuple(case for case in SAMPLE_CASES[programme] if "." not in case)


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
