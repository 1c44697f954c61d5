"""The round report (out/report.html, and out/report.pdf where Chromium is installed).

What an approver reads before approving: the counts and money, the score
distribution with the pass mark and the cut-off, rank against score with the
selected band, how lenient each expert was, how far the panels agreed, which
applications the experts disagreed on, and for composite programmes (platform)
what each indicator contributed.

`render_report` is pure (result and rules in, bytes out; no clock, charts are
inline SVG from `flows.charts`), so the same round gives the same bytes.
`report_pdf` is the shell part: it prints that HTML with headless Chromium
when one is installed and returns None otherwise.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from flows import charts
from flows.charts import Marker, Series
from flows.publicity import listed_columns, wan
from flows.templating import environment
from scoring import columns as C
from scoring.pipeline import RoundResult
from scoring.rules import Programme, RoundConfig
from scoring.statistics import application_spread, expert_leniency, panel_agreement

if TYPE_CHECKING:
    from flows.state import Approval

OUTCOME_LABELS = {C.SELECTED: "入选", C.RESERVE: "候补", C.NOT_SELECTED: "未入选", C.INELIGIBLE: "形式审查未通过"}
OUTCOME_SERIES = (
    Series(C.SELECTED, "入选", "#2e7d32"),
    Series(C.RESERVE, "候补", "#f9a825"),
    Series(C.NOT_SELECTED, "未入选", "#9e9e9e"),
)
PASS_COLOR, CUTOFF_COLOR, GRADE_COLOR = "#c62828", "#1565c0", "#6a1b9a"
INDICATOR_COLORS = ("#1565c0", "#00838f", "#2e7d32", "#9e9d24", "#ef6c00", "#ad1457", "#5d4037", "#546e7a")
PANEL_COLOR = "#8d6e63"
SPREAD_POINTS = 20.0  # an expert this far from the median of the others is flagged (scoring.statistics)
AGREEMENT_FORMS = {
    "ICC(1,1)": "单个专家评分的信度（各项目专家组不同，单因素随机模型）",
    "ICC(1,k)": "专家组平均分的信度（单因素随机模型）",
    "ICC(2,1)": "单个专家评分的绝对一致性（同组专家，双因素随机模型）",
    "ICC(2,k)": "专家组平均分的绝对一致性（双因素随机模型）",
    "ICC(3,1)": "单个专家评分的相对一致性（同组专家，双因素混合模型）",
    "ICC(3,k)": "专家组平均分的相对一致性（双因素混合模型）",
    "kendall_w": "肯德尔和谐系数W：专家排序的一致程度（1为完全一致）",
}



def render_report(
    result: RoundResult,
    programme: Programme,
    config: RoundConfig,
    *,
    approval: "Approval | None" = None,
    ranking_sha256: str = "",
    experts: pd.DataFrame | None = None,
) -> bytes:
    """The report as one self-contained HTML page (UTF-8 bytes)."""
    return environment().get_template("report.html.j2").render(**report_context(
        result, programme, config, approval=approval, ranking_sha256=ranking_sha256, experts=experts
    )).encode("utf-8")


def report_context(
    result: RoundResult,
    programme: Programme,
    config: RoundConfig,
    *,
    approval: "Approval | None" = None,
    ranking_sha256: str = "",
    experts: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the template shows, as plain values (tests read it too)."""
    ranking = result.ranking
    ranked = ranking[ranking[C.SCORE].astype(str) != ""]
    scores = [float(Decimal(str(s))) for s in ranked[C.SCORE]]
    selected = ranking[ranking[C.OUTCOME] == C.SELECTED]
    threshold = programme.threshold()
    cutoff = min((Decimal(str(s)) for s in selected[C.SCORE] if str(s) != ""), default=None)
    counts = {o: int((ranking[C.OUTCOME] == o).sum()) for o in C.OUTCOMES}
    total_yuan = int(ranking[C.AMOUNT_YUAN].sum())
    names = _expert_names(experts)
    return {
        "title": f"{config.year}年度{programme.name}评审报告",
        "programme": programme,
        "config": config,
        "ranking_sha256": ranking_sha256,
        "approval": _approval(approval),
        "counts": [(OUTCOME_LABELS[o], o, counts[o]) for o in C.OUTCOMES],
        "n_total": len(ranking),
        "total_yuan": f"{total_yuan:,}",
        "total_wan": wan(total_yuan),
        "threshold": "" if threshold is None else _dec(threshold),
        "threshold_label": _threshold_label(programme),
        "cutoff": "" if cutoff is None else f"{cutoff:.2f}",
        "count_cap": programme.award.count_cap,
        "histogram": _histogram(ranked, scores, threshold, cutoff, programme),
        "rank_chart": _rank_chart(ranked, scores, threshold, cutoff, programme),
        "ranking_rows": _ranking_rows(ranking, programme),
        "extra_labels": [c.label for c in listed_columns(programme)],
        **_expert_sections(result.expert_totals, ranking, names),
        **_indicator_section(ranked, programme),
    }


def _dec(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _approval(a: "Approval | None") -> dict[str, str]:
    if a is None:
        return {"status": "待审批", "by": "", "at": "", "comment": "", "via": ""}
    return {
        "status": "已批准" if a.approved else "已退回",
        "by": a.decided_by,
        "at": a.at,
        "comment": a.comment,
        "via": a.via,
    }


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _label_points(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _expert_names(experts: pd.DataFrame | None) -> dict[str, str]:
    if experts is None or experts.empty or C.EXPERT_NAME not in experts.columns:
        return {}
    return {str(e): str(n) for e, n in zip(experts[C.EXPERT_ID], experts[C.EXPERT_NAME])}


def _threshold_label(programme: Programme) -> str:
    if programme.award.method == "grade" and programme.award.grades:
        return f"最低档（{programme.award.grades[-1].grade}档）分数线"
    return "及格线"


def _markers(threshold: Decimal | None, cutoff: Decimal | None, programme: Programme) -> list[Marker]:
    out = []
    if programme.award.method == "grade" and programme.award.grades:
        out += [Marker(float(g.min_score), f"{g.grade}档 {_dec(g.min_score)}", GRADE_COLOR) for g in programme.award.grades]
    elif threshold is not None:
        out.append(Marker(float(threshold), f"及格线 {_dec(threshold)}", PASS_COLOR))
    if cutoff is not None:
        out.append(Marker(float(cutoff), f"入选线 {cutoff:.2f}", CUTOFF_COLOR, dash="2 2"))
    return out


def _histogram(ranked: pd.DataFrame, scores: list[float], threshold, cutoff, programme: Programme) -> str:
    if not scores:
        return ""
    by_outcome: dict[str, list[float]] = {s.key: [] for s in OUTCOME_SERIES}
    for outcome, v in zip(ranked[C.OUTCOME], scores):
        by_outcome.setdefault(outcome, []).append(v)
    floor = min(scores + ([float(threshold)] if threshold is not None else []))
    lo = max(0.0, math.floor(floor / 10) * 10)
    return charts.histogram(
        by_outcome,
        OUTCOME_SERIES,
        lo=lo,
        hi=100.0,
        bin_width=5.0 if 100 - lo > 20 else 2.0,
        markers=_markers(threshold, cutoff, programme),
        title="评审得分分布",
        x_label="评审得分",
        y_label="申报项目数",
    )


def _rank_chart(ranked: pd.DataFrame, scores: list[float], threshold, cutoff, programme: Programme) -> str:
    if not scores:
        return ""
    points = [(int(r), v, str(o)) for r, v, o in zip(ranked[C.RANK], scores, ranked[C.OUTCOME])]
    sel = [r for r, _, o in points if o == C.SELECTED]
    markers = _markers(threshold, cutoff, programme)
    return charts.rank_scatter(
        points,
        OUTCOME_SERIES,
        band=(min(sel), max(sel)) if sel else None,
        band_label=f"入选区间（第{min(sel)}–{max(sel)}名）" if sel else "",
        markers=markers,
        title="排名与得分",
        x_label="排名",
        y_label="评审得分",
    )


def _ranking_rows(ranking: pd.DataFrame, programme: Programme) -> list[dict[str, Any]]:
    extra = listed_columns(programme)
    rows = []
    for _, r in ranking.iterrows():
        rank = r[C.RANK]
        rows.append({
            "rank": "" if rank is pd.NA or pd.isna(rank) else int(rank),
            "id": r[C.SUBMISSION_ID],
            "enterprise": r[C.ENTERPRISE_NAME],
            "title": r[C.TITLE],
            "extras": [c.display(r[c.id]) for c in extra],
            "score": str(r[C.SCORE]),
            "outcome": r[C.OUTCOME],
            "outcome_label": OUTCOME_LABELS[r[C.OUTCOME]],
            "amount": f"{int(r[C.AMOUNT_YUAN]):,}",
            "reason_code": r[C.REASON_CODE],
            "reason": r[C.REASON],
        })
    return rows


def _expert_sections(totals: pd.DataFrame, ranking: pd.DataFrame, names: dict[str, str]) -> dict[str, Any]:
    empty = {"leniency_rows": [], "leniency_chart": "", "agreement": None, "spread_rows": [], "n_spread": 0,
             "spread_points": ""}
    if totals is None or totals.empty:
        return empty
    len_frame = expert_leniency(totals)
    label = lambda e: f"{e} {names[e]}" if e in names else str(e)  # noqa: E731
    leniency_rows = [
        {
            "expert": label(r.expert_id),
            "n_scored": int(r.n_scored),
            "mean_total": _fmt(r.mean_total),
            "leniency": _fmt(r.leniency, 2),
            "mean_offset": _fmt(r.mean_offset, 2),
        }
        for r in len_frame.itertuples(index=False)
    ]
    chart = charts.diverging_bars(
        [(label(e), float(z)) for e, z in zip(len_frame[C.EXPERT_ID], len_frame["leniency"])],
        title="专家宽严度（组内标准分均值）",
        x_label="偏严 ← 组内标准分均值 → 偏宽",
    )
    agreement = None
    if totals[C.SUBMISSION_ID].nunique() >= 2:
        a = panel_agreement(totals)
        agreement = {
            "design": "完全区组（所有项目由同一组专家评审）" if a["design"] == "complete" else "非完全区组（各项目专家组不同）",
            "n_applications": a["n_applications"],
            "n_experts": a["n_experts"],
            "k_mean": _fmt(a["k_mean"]),
            "forms": [(f, _fmt(a[f], 3), meaning) for f, meaning in AGREEMENT_FORMS.items()],
            "note": _agreement_note(a),
        }
    spread = application_spread(totals, deviation_points=SPREAD_POINTS)
    info = ranking.set_index(C.SUBMISSION_ID)
    flagged = spread[spread["deviant"]]
    spread_rows = []
    for r in flagged.itertuples(index=False):
        row = info.loc[r.submission_id]
        rank = row[C.RANK]
        spread_rows.append({
            "rank": "" if pd.isna(rank) else int(rank),
            "id": r.submission_id,
            "enterprise": row[C.ENTERPRISE_NAME],
            "outcome_label": OUTCOME_LABELS[row[C.OUTCOME]],
            "n": int(r.n),
            "min": _fmt(r.min), "max": _fmt(r.max), "range": _fmt(r.range), "std": _fmt(r.std),
            "experts": ", ".join(label(e) for e in r.deviant_experts.split(", ") if e),
        })
    spread_rows.sort(key=lambda d: (d["rank"] == "", d["rank"] or 0, d["id"]))
    return {
        "leniency_rows": leniency_rows,
        "leniency_chart": chart,
        "agreement": agreement,
        "spread_rows": spread_rows,
        "n_spread": len(spread),
        "spread_points": _label_points(SPREAD_POINTS),
    }


def _agreement_note(a: dict[str, Any]) -> str:
    """scoring.statistics.panel_agreement's scope note, in the report's language."""
    if a["design"] == "complete":
        return "所有项目由同一组专家评审，六种组内相关系数（ICC）和肯德尔W均基于全部项目计算。"
    one_way = f"ICC(1,·)基于全部有2位以上专家评审的项目（单因素模型，有效专家组规模{_fmt(a['k_mean'])}）"
    if a["block_n_applications"]:
        return (f"{one_way}；ICC(2,·)、ICC(3,·)和肯德尔W基于由同一组专家评审的最大项目组"
                f"（{a['block_n_applications']}个项目 × {len(a['block_experts'])}位专家：{'、'.join(a['block_experts'])}）。")
    return f"{one_way}；没有3个以上项目由同一组专家评审，ICC(2,·)、ICC(3,·)和肯德尔W无法计算（以“—”表示）。"


def _indicator_section(ranked: pd.DataFrame, programme: Programme) -> dict[str, Any]:
    """Composite programmes: each indicator's and the panel's share of every composite score."""
    none = {"indicators": None}
    if not programme.indicators or programme.scoring is None or ranked.empty:
        return none
    from scoring.composite import INDEX, PANEL_SCORE, scaled_column

    needed = [PANEL_SCORE, INDEX, *(scaled_column(i.id) for i in programme.indicators)]
    if any(c not in ranked.columns for c in needed):
        return none
    share = float(programme.scoring.indicator_share) / 100
    weights = [float(i.weight) for i in programme.indicators]
    wsum = sum(weights)
    series = [
        *(Series(i.id, i.name, INDICATOR_COLORS[k % len(INDICATOR_COLORS)]) for k, i in enumerate(programme.indicators)),
        Series("panel", "专家评审", PANEL_COLOR),
    ]
    bars, rows = [], []
    for _, r in ranked.iterrows():
        scaled = [float(Decimal(str(r[scaled_column(i.id)]))) for i in programme.indicators]
        panel = float(Decimal(str(r[PANEL_SCORE])))
        parts = [share * w / wsum * s for w, s in zip(weights, scaled)] + [(1 - share) * panel]
        bars.append((_short(f"{int(r[C.RANK])}. {r[C.ENTERPRISE_NAME]}", 13), parts, str(r[C.SCORE])))
        rows.append({
            "rank": int(r[C.RANK]),
            "enterprise": r[C.ENTERPRISE_NAME],
            "scaled": [f"{v:.2f}" for v in scaled],
            "index": str(r[INDEX]),
            "panel": str(r[PANEL_SCORE]),
            "score": str(r[C.SCORE]),
            "outcome_label": OUTCOME_LABELS[r[C.OUTCOME]],
        })
    grades = programme.award.grades if programme.award.method == "grade" else ()
    chart = charts.stacked_bars(
        bars,
        series,
        x_max=100.0,
        markers=[Marker(float(g.min_score), f"{g.grade} {_dec(g.min_score)}", GRADE_COLOR) for g in grades],
        title="综合得分构成",
        x_label=f"综合得分 = {_dec(programme.scoring.indicator_share)}% 服务指标指数 + "
                f"{_dec(100 - programme.scoring.indicator_share)}% 专家评审得分",
    )
    return {"indicators": {"names": [i.name for i in programme.indicators], "rows": rows, "chart": chart}}


# --- the shell part: printing to PDF with headless Chromium --------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)\d{14}")


def chromium_binary() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_command(binary: str, user_data_dir: Path) -> list[str]:
    """Headless Chromium that touches no network: no updates, sync, QUIC or first-run pages."""
    return [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
        f"--user-data-dir={user_data_dir}",
    ]


def report_pdf(html: bytes, *, binary: str | None = None, timeout: float = 120) -> bytes | None:
    """The page printed to A4 PDF by headless Chromium; None when no Chromium is installed.

    Chromium stamps the print time into /CreationDate and /ModDate; both are set
    to a fixed date (same length, so the xref offsets stay valid) so that the same
    report prints to the same bytes.
    """
    binary = binary or chromium_binary()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="rounds-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_bytes(html)
        cmd = chromium_command(binary, Path(tmp) / "profile") + [
            "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"chromium did not print {page.name} within {timeout:g} s") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"chromium did not print {page.name} (exit {done.returncode}): {' | '.join(tail)}")
        return _PDF_DATE.sub(rb"\g<1>20260101000000", pdf.read_bytes())
