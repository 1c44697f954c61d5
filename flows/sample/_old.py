"""Seeded sample round workspaces: what `rounds demo` runs and what tests read.

`write_sample_round` writes a workspace folder in the layout of SPEC.md
(round.toml, submissions.xlsx, experts.xlsx, scores/, references/) with
realistic but entirely made-up Fuzhou data: Chinese enterprise names with valid
统一社会信用代码, AI application-scenario project titles, a panel of experts
from Fujian universities with a lenient and a harsh scorer, a few deliberately
ineligible applications, some below the pass mark, and one project that was
already funded elsewhere (就高不重复 → TOPUP_HIGHEST).

Reproducible by construction: all randomness comes from one `random.Random`
seeded by `seed`; the xlsx files carry fixed document properties and zip entry
times, so the same seed writes byte-identical files. A draw is checked by
running the real round computation (`scoring.pipeline.evaluate_round`) on it;
a draw the demo could not run without a manager's tie decision, or that does
not show the intended outcomes, is redrawn with the next seed.

Programmes plug in through `SAMPLERS` (one entry per programme: its id prefix,
its own columns and titles, its reference lists and what a good draw shows).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import pandas as pd
import tomli_w

from flows.xlsx import workbook_bytes
from flows.workspace import load_programme
from scoring import columns as C
from scoring.errors import ConfigError, DecisionRequired
from scoring.intake import parse_excluded_products, parse_experts, parse_prior_awards, parse_submissions
from scoring.intake_scores import parse_scores
from scoring.pipeline import RoundResult, evaluate_round
from scoring.rules import Programme, RoundConfig, check_year, parse_round_config
from scoring.uscc import ALPHABET, make_uscc

ORGANISER = "福州市工业和信息化局"
MAX_DRAWS = 50
PRIOR_POLICY = "福州市数字经济发展专项（2025年）"
PRIOR_AMOUNT_YUAN = 50_000

# --- vocabulary (made up; any likeness to a real enterprise or person is chance) ---------------

# (district, administrative division code in the credit code, relative frequency)
DISTRICTS = (
    ("鼓楼区", "350102", 6), ("台江区", "350103", 3), ("仓山区", "350104", 5), ("晋安区", "350111", 3),
    ("马尾区", "350105", 4), ("长乐区", "350112", 2), ("闽侯县", "350121", 4), ("连江县", "350122", 1),
    ("罗源县", "350123", 1), ("闽清县", "350124", 1), ("永泰县", "350125", 1), ("福清市", "350181", 2),
)
SURNAMES = tuple(zip("陈林黄张李王吴刘郑杨许何游江叶高周罗蔡谢", (
    "chen lin huang zhang li wang wu liu zheng yang xu he you jiang ye gao zhou luo cai xie").split()))
GIVEN = tuple((g, p) for g, p in (pair.split(":") for pair in (
    "伟:wei 静:jing 敏:min 磊:lei 婷:ting 强:qiang 芳:fang 杰:jie 斌:bin 涛:tao 鹏:peng 慧:hui 毅:yi 志强:zhiqiang "
    "建华:jianhua 晓明:xiaoming 丽娟:lijuan 文杰:wenjie 雪梅:xuemei 俊杰:junjie 秀英:xiuying 海燕:haiyan 宇航:yuhang "
    "晨曦:chenxi 思远:siyuan 佳怡:jiayi 子涵:zihan 明辉:minghui 晓婷:xiaoting 国平:guoping 春燕:chunyan 志明:zhiming "
    "晓东:xiaodong 丽萍:liping 文斌:wenbin 雅琴:yaqin 振华:zhenhua 美玲:meiling 永福:yongfu 榕生:rongsheng"
).split()))
BRAND = tuple(zip("智联瑞创星海融睿华闽榕景宏天讯博远云图灵达思腾泰安捷恒卓优锐芯源驰", (
    "zhi lian rui chuang xing hai rong rui hua min rong jing hong tian xun bo yuan yun tu ling "
    "da si teng tai an jie heng zhuo you rui xin yuan chi").split()))
ENTERPRISE_TAILS = (
    "智能科技有限公司", "数字科技有限公司", "信息技术有限公司", "信息技术股份有限公司", "软件有限公司",
    "网络科技有限公司", "物联网科技有限公司", "视觉技术有限公司", "数据科技有限公司", "电子科技有限公司",
    "智能装备有限公司", "科技股份有限公司",
)
# (organisation, first 8 characters of its credit code, e-mail domain label)
INSTITUTIONS = (
    ("福州大学", "12350000", "fzu"), ("福建师范大学", "12350000", "fjnu"), ("闽江学院", "12350100", "mju"),
    ("福建农林大学", "12350000", "fafu"), ("福建理工大学", "12350000", "fjut"),
    ("中国科学院福建物质结构研究所", "12100000", "fjirsm"), ("福建省人工智能学会", "51350000", "fjaai"),
)
TECH = ("大模型", "多模态大模型", "机器视觉", "深度学习", "知识图谱", "边缘智能", "数字孪生", "AI智能体", "计算机视觉", "AIGC")
SCENARIO_TASKS = (
    "纺织面料瑕疵智能检测", "港口集装箱智能理货", "茶叶品质智能分级", "城市内涝智能预警", "政务热线智能问答",
    "中医辅助诊疗", "输电线路智能巡检", "鞋服柔性生产智能排产", "食品生产线质量追溯", "社区养老智能看护",
    "水产养殖智能投喂", "锂电池极片缺陷检测", "智慧工地安全监测", "医学影像辅助诊断", "跨境电商智能客服",
    "渔船安全智能监管", "公交线网智能调度", "化工园区安全风险预警", "法律文书智能审核", "课堂教学智能分析",
)
KEY_DOMAINS = ("工业质检", "智慧医疗", "智能制造", "智慧港航", "智慧政务", "智能网联汽车", "智慧能源", "数字文旅")
KEY_PRODUCTS = ("智能检测系统", "训练推理平台", "边缘计算终端", "端侧推理模组", "分析决策系统", "交互终端", "检测装备", "数据治理平台")


def _weighted(rng: random.Random, items: tuple, weights: tuple[int, ...]):
    return rng.choices(items, weights=weights, k=1)[0]


def _person(rng: random.Random) -> tuple[str, str]:
    """A Chinese name and its pinyin (for an e-mail local part)."""
    (sur, sur_py), (given, given_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
    return sur + given, sur_py + given_py


def _credit_code(rng: random.Random, prefix8: str) -> str:
    return make_uscc(prefix8 + "".join(rng.choice(ALPHABET) for _ in range(9)))


# --- the draft of a round, before it is written ---------------------------------------------------


@dataclass
class Draft:
    """Everything a sample round holds, as plain Python values; rendered by `render_files`."""

    programme: Programme
    config: dict
    submissions: list[dict]
    experts: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)          # expert_id, submission_id, criterion, score (Decimal)
    prior_awards: list[dict] = field(default_factory=list)
    excluded_products: list[dict] = field(default_factory=list)
    intended: dict[str, str] = field(default_factory=dict)   # submission_id -> intended INELIGIBLE_* code
    topup_id: str | None = None


@dataclass(frozen=True)
class Sampler:
    """How one programme's sample data differs from the common part."""

    prefix: str                                                    # submission_id prefix, "SC" → SC2026-001
    fill: Callable[[random.Random, list[dict]], None]              # title and programme columns, per row
    references: Callable[[random.Random, Draft], None]             # references/*.csv rows
    scored: bool = True                                            # experts and score sheets


def _scenario_fill(rng: random.Random, rows: list[dict]) -> None:
    seen: set[str] = set()
    for row in rows:
        row["category"] = "scenario" if rng.random() < 0.6 else "key_project"
        for attempt in range(1000):
            tech = rng.choice(TECH)
            if row["category"] == "scenario":
                title = f"基于{tech}的{rng.choice(SCENARIO_TASKS)}应用场景"
            else:
                title = f"面向{rng.choice(KEY_DOMAINS)}的{tech}{rng.choice(KEY_PRODUCTS)}关键技术攻关及产业化"
            if attempt >= 20:  # a large round has used up the plain titles: a later phase of one
                title += f"（{attempt - 18}期）"
            if title not in seen:
                break
        seen.add(title)
        row[C.TITLE] = title
    # both categories, whatever the draw
    for i, cat in ((0, "scenario"), (1, "key_project")):
        if not any(r["category"] == cat for r in rows):
            rows[i]["category"] = cat


def _unrelated_excluded(rng: random.Random, year: int) -> list[dict]:
    """A couple of listed products from enterprises that do not apply this round."""
    out = []
    for level, product in (("national", "星河AI视觉质检一体机"), ("provincial", "榕芯边缘推理盒子")):
        brand = "".join(b for b, _ in rng.sample(BRAND, 2))
        out.append({
            C.PRODUCT_NAME: product, C.ENTERPRISE_NAME: f"福建{brand}{rng.choice(ENTERPRISE_TAILS)}",
            C.CREDIT_CODE: _credit_code(rng, "91350100"), C.LEVEL: level, C.YEAR: year - 1,
        })
    return out


def _scenario_references(rng: random.Random, draft: Draft) -> None:
    draft.excluded_products = _unrelated_excluded(rng, draft.config["year"])


SAMPLERS: dict[str, Sampler] = {
    "scenario": Sampler(prefix="SC", fill=_scenario_fill, references=_scenario_references),
}


# --- common parts: applicants, ineligible rows, experts, scores --------------------------------------


def _window(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 6, 15, 9, 0, 0), dt.datetime(year, 7, 31, 17, 30, 0)


def _applicants(rng: random.Random, n: int, opens: dt.datetime, closes: dt.datetime) -> list[dict]:
    """n application rows (common columns), in order of submission; a few enterprises apply twice."""
    brands: set[str] = set()
    enterprises: list[dict] = []
    rows: list[dict] = []
    span = (closes - opens).total_seconds()
    times: set[dt.datetime] = set()
    while len(rows) < n:
        if enterprises and rng.random() < 0.08:
            ent = rng.choice(enterprises)       # a second application of the same enterprise
        else:
            while True:
                picked = rng.sample(BRAND, rng.choice((2, 2, 2, 3)))
                brand = "".join(b for b, _ in picked)
                if brand not in brands:
                    break
            brands.add(brand)
            district, code, _ = _weighted(rng, DISTRICTS, tuple(d[2] for d in DISTRICTS))
            name, name_py = _person(rng)
            domain = "".join(p for _, p in picked) + ".example.cn"
            ent = {
                C.ENTERPRISE_NAME: ("福州" if rng.random() < 0.85 else "福建") + brand + rng.choice(ENTERPRISE_TAILS),
                C.CREDIT_CODE: _credit_code(rng, "91" + ("350100" if rng.random() < 0.25 else code)),
                C.CONTACT_NAME: name,
                C.CONTACT_EMAIL: f"{name_py}@{domain}",
                "district": district,
            }
            enterprises.append(ent)
        # more submissions near the deadline, as on every real platform
        while True:
            at = opens + dt.timedelta(seconds=int(span * rng.random() ** 0.6))
            if at not in times and 8 <= at.hour <= 22:
                break
        times.add(at)
        rows.append({**ent, C.SUBMITTED_AT: at})
    rows.sort(key=lambda r: r[C.SUBMITTED_AT])
    return rows


def _make_ineligible(rng: random.Random, rows: list[dict], closes: dt.datetime) -> dict[str, str]:
    """3–5 rows that fail exactly one formal-review rule each; returns id → intended reason code."""
    k = rng.randint(3, 5)
    kinds = ["credit_code", "contact_email", "call_window"]
    kinds += rng.choices(["credit_code", "contact_email"], k=k - 3)
    late = rows[-1]                                    # the last to submit is the one who is late
    late[C.SUBMITTED_AT] = closes + dt.timedelta(hours=rng.randint(1, 40), minutes=rng.randint(1, 59))
    picks = rng.sample(rows[:-1], k - 1)
    intended = {late[C.SUBMISSION_ID]: "INELIGIBLE_CALL_WINDOW"}
    for row, kind in zip(picks, [k for k in kinds if k != "call_window"]):
        if kind == "credit_code":
            code = row[C.CREDIT_CODE]
            wrong = rng.choice([ch for ch in ALPHABET if ch != code[-1]])
            row[C.CREDIT_CODE] = code[:-1] + wrong
            intended[row[C.SUBMISSION_ID]] = "INELIGIBLE_CREDIT_CODE"
        else:
            local, domain = row[C.CONTACT_EMAIL].split("@")
            row[C.CONTACT_EMAIL] = rng.choice((
                f"{local}.{domain}", f"{local}@{domain.split('.')[0]}", f"{local}@@{domain}", f"{local} @{domain}",
            ))
            intended[row[C.SUBMISSION_ID]] = "INELIGIBLE_CONTACT_EMAIL"
    return intended


def _experts(rng: random.Random, n: int, applicant_codes: set[str]) -> list[dict]:
    codes: dict[str, str] = {}
    for org, prefix, _ in INSTITUTIONS:
        while (code := _credit_code(rng, prefix)) in applicant_codes:  # pragma: no cover - 1 in 31**9
            pass
        codes[org] = code
    out, names = [], set()
    for i in range(n):
        org, _, label = rng.choice(INSTITUTIONS)
        while (person := _person(rng))[0] in names:
            pass
        names.add(person[0])
        out.append({
            C.EXPERT_ID: f"E{i + 1:02d}", C.EXPERT_NAME: person[0], C.EXPERT_EMAIL: f"{person[1]}@{label}.example.cn",
            C.ORGANISATION: org, C.ORG_CREDIT_CODE: codes[org],
        })
    return out


def _step_round(points: float, step: Decimal, top: Decimal) -> Decimal:
    value = (Decimal(repr(points)) / step).quantize(Decimal(1)) * step
    return min(max(value, Decimal(0)), top).normalize()


def _scores(rng: random.Random, programme: Programme, rows: list[dict], experts: list[dict]) -> list[dict]:
    """Every expert scores every application: latent quality + expert leniency + noise."""
    quality = {r[C.SUBMISSION_ID]: min(96.0, max(30.0, rng.gauss(71, 12))) for r in rows}
    bias = [rng.gauss(0, 2.5) for _ in experts]
    lenient, harsh = rng.sample(range(len(experts)), 2)
    bias[lenient] += rng.uniform(5, 8)
    bias[harsh] -= rng.uniform(6, 9)
    steps = [Decimal(1) if rng.random() < 0.25 else Decimal("0.5") for _ in experts]
    # an application is stronger on some criteria than on others, and every expert sees that
    profile = {(sid, c.id): q + rng.gauss(0, 4) for sid, q in quality.items() for c in programme.criteria}
    out = []
    for e, expert in enumerate(experts):
        for row in rows:
            sid = row[C.SUBMISSION_ID]
            for crit in programme.criteria:
                top = crit.max_points
                pct = profile[sid, crit.id] + bias[e] + rng.gauss(0, 6)
                pct = min(100.0, max(5.0, pct))
                step = Decimal("0.25") if rng.random() < 0.03 else steps[e]
                score = _step_round(pct / 100 * float(top), step, top)
                out.append({C.EXPERT_ID: expert[C.EXPERT_ID], C.SUBMISSION_ID: sid, C.CRITERION: crit.id, C.SCORE: score})
    return out


# --- drawing and checking a round --------------------------------------------------------------


def _draw(rng: random.Random, programme: Programme, year: int, n_apps: int | None, n_exp: int | None) -> Draft:
    sampler = SAMPLERS[programme.id]
    opens, closes = _window(year)
    rows = _applicants(rng, n_apps or rng.randint(30, 60), opens, closes)
    for i, row in enumerate(rows, 1):
        row[C.SUBMISSION_ID] = f"{sampler.prefix}{year}-{i:03d}"
    sampler.fill(rng, rows)
    intended = _make_ineligible(rng, rows, closes)
    config = {
        "programme": programme.id,
        "year": year,
        "title": f"{year}年度{programme.name}评选",
        "organiser": ORGANISER,
        "contact": f"0591-8{rng.randint(0, 9_999_999):07d}",
        "call_window": {"opens": opens, "closes": closes},
    }
    draft = Draft(programme=programme, config=config, submissions=rows, intended=intended)
    if sampler.scored:
        draft.experts = _experts(rng, n_exp or rng.randint(5, 7), {r[C.CREDIT_CODE] for r in rows})
        draft.scores = _scores(rng, programme, rows, draft.experts)
    sampler.references(rng, draft)
    return draft


def _text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)


def _raw(records: list[dict], columns: list[str] | tuple[str, ...], label: str) -> pd.DataFrame:
    """A table as `flows.intake` hands it to the core: stripped strings, `_file`, `_row`."""
    raw = pd.DataFrame({c: pd.Series([_text(r.get(c)) for r in records], dtype=object) for c in columns})
    raw[C.SOURCE_FILE] = pd.Series([label] * len(records), dtype=object)
    raw[C.SOURCE_ROW] = pd.Series(range(2, len(records) + 2), dtype="int64")
    raw.attrs["file"] = label
    return raw


def submission_columns(programme: Programme) -> list[str]:
    return [*C.SUBMISSION_COLUMNS, *(c.id for c in programme.columns)]


def evaluate_draft(draft: Draft) -> RoundResult:
    """The real round computation on a draft, through the core's own intake checks."""
    programme = draft.programme
    config: RoundConfig = parse_round_config(draft.config, "round.toml")
    subs = parse_submissions(_raw(draft.submissions, submission_columns(programme), "submissions.xlsx"), programme)
    experts = parse_experts(_raw(draft.experts, C.EXPERT_COLUMNS, "experts.xlsx"))
    sheets = [
        _raw([s for s in draft.scores if s[C.EXPERT_ID] == e[C.EXPERT_ID]], C.SCORE_COLUMNS, f"scores/{e[C.EXPERT_ID]}.csv")
        for e in draft.experts
    ]
    scores = parse_scores(sheets, programme, subs, experts)
    return evaluate_round(
        submissions=subs,
        scores=scores,
        programme=programme,
        config=config,
        excluded_products=parse_excluded_products(
            _raw(draft.excluded_products, C.EXCLUDED_PRODUCT_COLUMNS, "references/excluded_products.csv")),
        prior_awards=parse_prior_awards(
            _raw(draft.prior_awards, C.PRIOR_AWARD_COLUMNS, "references/prior_awards.csv")),
    )


def _retyped(title: str) -> str:
    """The same title as someone retypes it: full-width letters and a stray space or two."""
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in title)
    cut = len(wide) // 2
    return wide[:cut] + " " + wide[cut:] + " "


def _add_prior_award(rng: random.Random, draft: Draft, result: RoundResult) -> None:
    """One selected project already received money under another Fuzhou policy (就高不重复)."""
    ranking = result.ranking
    selected = ranking[ranking[C.OUTCOME] == C.SELECTED]
    pick = selected.iloc[rng.randint(1, min(5, len(selected) - 1))]
    draft.topup_id = str(pick[C.SUBMISSION_ID])
    draft.prior_awards = [{
        C.CREDIT_CODE: pick[C.CREDIT_CODE], C.PROJECT_TITLE: _retyped(str(pick[C.TITLE])), C.POLICY: PRIOR_POLICY,
        C.AMOUNT_YUAN: PRIOR_AMOUNT_YUAN, C.YEAR: draft.config["year"] - 1,
    }]


def _shows_everything(draft: Draft, result: RoundResult) -> bool:
    """Whether a scored draft shows what the demo is for: full caps, reserves, failures, a top-up."""
    r = result.ranking
    award = draft.programme.award
    codes = dict(zip(r[C.SUBMISSION_ID], r[C.REASON_CODE]))
    outcomes = r[C.OUTCOME].value_counts()
    return (
        all(codes[sid] == code for sid, code in draft.intended.items())
        and int(outcomes.get(C.INELIGIBLE, 0)) == len(draft.intended)
        and (award.count_cap is None or int(outcomes.get(C.SELECTED, 0)) == award.count_cap)
        and int(outcomes.get(C.RESERVE, 0)) == award.reserve_size
        and int((r[C.REASON_CODE] == C.BELOW_THRESHOLD).sum()) >= 2
        and (draft.topup_id is None or codes[draft.topup_id] == C.TOPUP_HIGHEST)
    )


def draw_round(programme: Programme, year: int, seed: int, n_applications: int | None = None,
               n_experts: int | None = None) -> tuple[Draft, int]:
    """A draft that runs without a tie decision and shows every intended outcome; and the seed used."""
    for attempt in range(MAX_DRAWS):
        used = seed + attempt
        rng = random.Random(used)
        draft = _draw(rng, programme, year, n_applications, n_experts)
        if not SAMPLERS[programme.id].scored:
            return draft, used
        try:
            first = evaluate_draft(draft)
            if not _shows_everything(draft, first):
                continue
            _add_prior_award(rng, draft, first)
            if _shows_everything(draft, evaluate_draft(draft)):
                return draft, used
        except DecisionRequired:
            continue
    raise ConfigError(
        f"no sample {programme.id} round with these sizes shows every outcome after {MAX_DRAWS} seeds "
        f"from {seed}; try more applications"
    )


# --- writing the workspace -----------------------------------------------------------------------


@dataclass(frozen=True)
class SampleInfo:
    """What was written, for the demo's summary and for tests."""

    root: Path
    programme: str
    year: int
    n_applications: int
    n_experts: int
    ineligible_ids: tuple[str, ...]
    ineligible_reasons: dict[str, str] = field(default_factory=dict)  # id -> intended INELIGIBLE_* code
    topup_id: str | None = None                                      # the project with a prior award
    seed: int = 0                                                    # the seed of the draw written


def _sheet_bytes(title: str, sheet: str, columns: list[str], records: list[dict], widths: dict[str, int]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(columns)
    for rec in records:
        ws.append([rec.get(c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for idx, col in enumerate(columns):
        letter = ws.cell(row=1, column=idx + 1).column_letter
        ws.column_dimensions[letter].width = widths.get(col, 14)
        if col == C.SUBMITTED_AT:
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    ws.freeze_panes = "A2"
    wb.properties.title = title
    return workbook_bytes(wb)


def _csv_bytes(columns: tuple[str, ...] | list[str], records: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for rec in records:
        w.writerow([_text(rec.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def render_files(draft: Draft) -> dict[str, bytes]:
    """Every file of the workspace, by its path relative to the root."""
    programme, year = draft.programme, draft.config["year"]
    header = (
        f"# 示例评选：由 rounds 按固定随机种子生成，企业、人员、项目及代码均为虚构。\n"
        f"# {programme.clause}\n"
    )
    files = {
        "round.toml": (header + tomli_w.dumps(draft.config)).encode("utf-8"),
        "submissions.xlsx": _sheet_bytes(
            f"{year}年度申报汇总（示例）", "申报汇总", submission_columns(programme), draft.submissions,
            {C.ENTERPRISE_NAME: 34, C.CREDIT_CODE: 22, C.CONTACT_EMAIL: 30, C.TITLE: 56, C.SUBMITTED_AT: 20},
        ),
        "references/excluded_products.csv": _csv_bytes(C.EXCLUDED_PRODUCT_COLUMNS, draft.excluded_products),
        "references/prior_awards.csv": _csv_bytes(C.PRIOR_AWARD_COLUMNS, draft.prior_awards),
    }
    if SAMPLERS[programme.id].scored:
        files["experts.xlsx"] = _sheet_bytes(
            "专家库（示例）", "专家库", list(C.EXPERT_COLUMNS), draft.experts,
            {C.EXPERT_EMAIL: 28, C.ORGANISATION: 30, C.ORG_CREDIT_CODE: 22},
        )
        for expert in draft.experts:
            eid = expert[C.EXPERT_ID]
            mine = [s for s in draft.scores if s[C.EXPERT_ID] == eid]
            files[f"scores/{eid}.csv"] = _csv_bytes(C.SCORE_COLUMNS, mine)
    return files


def write_sample_round(
    root: Path,
    programme: str = "scenario",
    year: int = 2026,
    seed: int = 7,
    n_applications: int | None = None,
    n_experts: int | None = None,
) -> SampleInfo:
    """Write a sample round workspace into `root` (a new or empty folder); same seed → same bytes.

    Without sizes, 30–60 applications and 5–7 experts are drawn from the seed.
    """
    if programme not in SAMPLERS:
        raise ConfigError(f"no sample data for programme {programme!r}; available: {', '.join(sorted(SAMPLERS))}")
    rules = load_programme(programme, source="sample")
    check_year(rules, year, "sample")
    if n_applications is not None and n_applications < 20:
        raise ConfigError(f"a sample round needs at least 20 applications, not {n_applications}")
    if n_experts is not None and n_experts < 3:
        raise ConfigError(f"a sample round needs at least 3 experts, not {n_experts}")
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root}: not an empty folder; a sample round is written into a new or empty folder")

    draft, used = draw_round(rules, year, seed, n_applications, n_experts)
    for rel, data in render_files(draft).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return SampleInfo(
        root=root,
        programme=programme,
        year=year,
        n_applications=len(draft.submissions),
        n_experts=len(draft.experts),
        ineligible_ids=tuple(sorted(draft.intended)),
        ineligible_reasons=dict(sorted(draft.intended.items())),
        topup_id=draft.topup_id,
        seed=used,
    )
