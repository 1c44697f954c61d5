"""Sample `model_filing` rounds (measure 一): models filed with the CAC or registered in Fujian.

No experts and no score sheets: every eligible filing is paid by rule. What a
good draw shows, each built on purpose on applicants with no other filing:

* an enterprise with three national filings and one provincial: 200,000 +
  200,000, the third national crosses the 500,000 cap and gets the remainder
  (selected, ENTERPRISE_CAP), the provincial one gets nothing (ENTERPRISE_CAP);
* a model filed at both levels: paid once, at the national rate; its
  provincial registration is HIGHER_AWARD_ELSEWHERE;
* a model registered provincially last year (in references/prior_awards, paid
  100,000) and filed nationally this year: topped up by 100,000 (TOPUP_HIGHEST);
* a filing dated last December: INELIGIBLE_FILED_IN_YEAR.
"""
from __future__ import annotations

import datetime as dt
import random

from flows.sample.draft import Draft, Sampler, count, pick_rows
from flows.sample.people import brand_chars, same_applicant
from scoring import columns as C
from scoring.pipeline import RoundResult

NATIONAL, PROVINCIAL = "national", "provincial"
# (field of application, pinyin as it appears in a CAC filing number)
DOMAINS = (
    ("政务", "Zhengwu"), ("医疗", "Yiliao"), ("法律", "Falv"), ("教育", "Jiaoyu"), ("金融", "Jinrong"),
    ("文旅", "Wenlv"), ("交通", "Jiaotong"), ("制造", "Zhizao"), ("质检", "Zhijian"), ("农业", "Nongye"),
    ("气象", "Qixiang"), ("港航", "Ganghang"), ("能源", "Nengyuan"), ("纺织", "Fangzhi"), ("茶产业", "Chachanye"),
    ("海洋", "Haiyang"), ("客服", "Kefu"), ("电商", "Dianshang"), ("安防", "Anfang"), ("水务", "Shuiwu"),
)
SUFFIXES = ("大模型", "大模型", "模型", "智能体大模型", "行业大模型")
MODEL_TAILS = ("智能科技有限公司", "数字科技有限公司", "信息技术有限公司", "网络科技有限公司", "智算科技有限公司",
               "数据科技有限公司", "信息技术股份有限公司")
PRIOR_POLICY = "生成式人工智能模型备案奖励（省级登记）"


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    return ("福州" if rng.random() < 0.8 else "福建") + brand + rng.choice(MODEL_TAILS), "91"


def _model(rng: random.Random, seen: set[str]) -> tuple[str, str]:
    """A model name and its pinyin (for a national filing number)."""
    while True:
        (a, a_py), (b, b_py) = brand_chars(rng, 2)
        domain, domain_py = rng.choice(DOMAINS)
        name = a + b + domain + rng.choice(SUFFIXES)
        if name not in seen:
            seen.add(name)
            return name, (a_py + b_py).capitalize() + domain_py


def _file(row: dict, level: str, on: dt.date, pinyin: str, serial: int) -> None:
    row["filing_level"] = level
    row["filed_on"] = on
    row["filing_no"] = f"Fujian-{pinyin}-{on:%Y%m%d}" if level == NATIONAL else f"闽网信登{on.year}{serial:03d}"
    kind = "备案" if level == NATIONAL else "登记"
    row[C.TITLE] = f"{row['model_name']}{kind}奖励"


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _fill(rng: random.Random, draft: Draft) -> None:
    year = draft.year
    seen: set[str] = set()
    serials = iter(rng.sample(range(1, 400), len(draft.submissions) + 8))
    pinyin: dict[str, str] = {}
    start = dt.date(year, 1, 5)
    for row in draft.submissions:
        name, py = _model(rng, seen)
        row["model_name"] = name
        pinyin[row[C.SUBMISSION_ID]] = py
        level = NATIONAL if rng.random() < 0.45 else PROVINCIAL
        _file(row, level, _day(rng, start, row[C.SUBMITTED_AT].date() - dt.timedelta(days=5)), py, next(serials))

    capped, n2, n3, p1, twice, twin, topped, late = pick_rows(rng, draft, 8, alone=True)
    # one enterprise files three models nationally and one provincially: 600,000 due, 500,000 paid
    nationals = [capped, n2, n3]
    days = sorted(rng.sample(range(10, 150), 3))
    for row, d in zip(nationals, days):
        same_applicant(row, capped)
        _file(row, NATIONAL, dt.date(year, 1, 1) + dt.timedelta(days=d), pinyin[row[C.SUBMISSION_ID]], next(serials))
    same_applicant(p1, capped)
    _file(p1, PROVINCIAL, _day(rng, start, dt.date(year, 5, 31)), pinyin[p1[C.SUBMISSION_ID]], next(serials))
    draft.expected[nationals[-1][C.SUBMISSION_ID]] = C.ENTERPRISE_CAP   # crosses the cap: the remainder
    draft.expected[p1[C.SUBMISSION_ID]] = C.ENTERPRISE_CAP              # nothing left
    # one model registered in Fujian first, then filed nationally: paid once, at the higher rate
    national_on = _day(rng, dt.date(year, 3, 1), dt.date(year, 5, 31))
    _file(twice, NATIONAL, national_on, pinyin[twice[C.SUBMISSION_ID]], next(serials))
    same_applicant(twin, twice)
    twin["model_name"] = twice["model_name"]
    _file(twin, PROVINCIAL, _day(rng, start, national_on - dt.timedelta(days=20)), "", next(serials))
    draft.expected[twin[C.SUBMISSION_ID]] = C.HIGHER_AWARD_ELSEWHERE
    # registered provincially last year (paid 100,000 then), filed nationally this year: the difference
    _file(topped, NATIONAL, _day(rng, start, dt.date(year, 5, 31)), pinyin[topped[C.SUBMISSION_ID]], next(serials))
    draft.prior_awards.append({
        C.CREDIT_CODE: topped[C.CREDIT_CODE], C.PROJECT_TITLE: topped["model_name"],
        C.POLICY: f"{year - 1}年度福州市{PRIOR_POLICY}", C.AMOUNT_YUAN: 100_000, C.YEAR: year - 1,
    })
    draft.expected[topped[C.SUBMISSION_ID]] = C.TOPUP_HIGHEST
    draft.topup_id = topped[C.SUBMISSION_ID]
    # filed last December: not new this year
    _file(late, late["filing_level"], _day(rng, dt.date(year - 1, 11, 20), dt.date(year - 1, 12, 30)),
          pinyin[late[C.SUBMISSION_ID]], next(serials))
    draft.intended[late[C.SUBMISSION_ID]] = "INELIGIBLE_FILED_IN_YEAR"


def _shows(draft: Draft, result: RoundResult) -> bool:
    # the model filed twice is the only one paid once for two filings (no near-identical names by chance)
    return count(result, code=C.HIGHER_AWARD_ELSEWHERE) == 1


SAMPLER = Sampler(
    prefix="MF", fill=_fill, shows=_shows, sizes=(26, 36), ineligible=("credit_code",), namer=_namer,
    repeat_rate=0.2, title_suffix="",
)
