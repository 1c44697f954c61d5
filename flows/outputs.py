"""Rendering a round's outputs to bytes: ranking.csv/xlsx and the manifest (the 公示 is flows.publicity).

Every function here returns bytes and writes nothing, so the flow can render all
outputs first and then write them all-or-nothing (`Workspace.write_outputs`).
Same inputs → same bytes: fixed column order, no timestamps, stable sorting.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import platform
from importlib import metadata

import pandas as pd

from flows.xlsx import workbook_bytes
from scoring import columns as C
from scoring.rules import Programme, RoundConfig



def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def ranking_csv(ranking: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ranking.columns)
    for row in ranking.itertuples(index=False):
        w.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


HEADERS_ZH = {
    C.SUBMISSION_ID: "申报编号",
    C.ENTERPRISE_NAME: "企业名称",
    C.CREDIT_CODE: "统一社会信用代码",
    C.TITLE: "项目名称",
    C.N_EXPERTS: "评审专家数",
    C.SCORE: "评审得分",
    C.RANK: "排名",
    C.OUTCOME: "结果",
    C.AMOUNT_YUAN: "奖励金额（元）",
    C.REASON_CODE: "原因代码",
    C.REASON: "说明",
    "tie_note": "同分说明",
    "panel_score": "专家评分",
    "indicator_index": "指标指数",
    "grade": "评定等级",
    "grade_note": "等级说明",
    "score_calibrated": "校准后得分（参考）",
    "spread_range": "专家分差",
    "spread_std": "专家分标准差",
    "deviant_experts": "偏离较大的专家",
    "p_selected_bootstrap": "重抽样入选概率",
    "p_selected_weights": "权重扰动入选概率",
    "margin_to_cutoff": "距入选线",
    "fragile": "入选不稳定",
}
OUTCOME_ZH = {C.SELECTED: "入选", C.RESERVE: "候补", C.NOT_SELECTED: "未入选", C.INELIGIBLE: "形式审查未通过"}


def ranking_xlsx(ranking: pd.DataFrame, programme: Programme, config: RoundConfig) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "排名"
    labels = {c.id: c.label for c in programme.columns}
    labels.update({f"{i.id}_scaled": f"{i.name}（标准化）" for i in programme.indicators})
    ws.append([HEADERS_ZH.get(c, labels.get(c, c)) for c in ranking.columns])
    ws.append(list(ranking.columns))  # machine-readable ids under the Chinese headers
    for row in ranking.itertuples(index=False):
        vals = []
        for col, v in zip(ranking.columns, row):
            if col in (C.AMOUNT_YUAN, C.N_EXPERTS) or (col == C.RANK and v is not pd.NA):
                vals.append(int(v))
            elif col == C.OUTCOME:
                vals.append(f"{OUTCOME_ZH[v]}（{v}）")
            else:
                vals.append(_cell(v))
        ws.append(vals)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    ws.freeze_panes = "B3"
    for col, width in zip("ABCDEFGHIJKLMNOP", (12, 32, 22, 40, 12, 14, 10, 8, 8, 16, 14, 16, 60, 40)):
        ws.column_dimensions[col].width = width
    wb.properties.title = f"{config.year}年度{programme.name}排名"
    return workbook_bytes(wb)


def software_versions() -> dict[str, str]:
    names = ["rounds", "pandas", "numpy", "scikit-learn", "pydantic", "openpyxl", "prefect", "jinja2", "aiosmtplib"]
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def manifest_json(
    *,
    config: RoundConfig,
    programme: Programme,
    rules_sha256: str,
    inputs: dict[str, str],
    decisions: list[dict],
    outputs: dict[str, bytes],
) -> bytes:
    doc = {
        "round_id": config.round_id,
        "programme": programme.id,
        "year": config.year,
        "policy": programme.policy.document,
        "rules": {"file": "rules.json", "sha256": rules_sha256},
        "inputs": dict(sorted(inputs.items())),
        "decisions": decisions,
        "decisions_sha256": hashlib.sha256(
            json.dumps(decisions, ensure_ascii=False, sort_keys=True).encode("utf-8")
        ).hexdigest(),
        "outputs": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(outputs.items())},
        "software": software_versions(),
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
