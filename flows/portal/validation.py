"""Every score that enters through the portal passes the one validation of score files.

A form save, an uploaded sheet and a submission are all checked by
`scoring.intake_scores.validate_scores` — the function `rounds collect` and
`rounds run` use — with `assigned` limited to the pairs this expert may score
(assigned and free of 回避), so a crafted request cannot score anyone else's
application. A submission is checked as the very bytes that will be written to
scores/portal-<id>.csv, read back through `flows.intake.read_table`.

The problems are shown to the expert in Chinese (`in_chinese`); the pattern
table below follows the messages of scoring/intake_scores.py and falls back to
the original text for any message it does not know.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flows.intake import read_table
from flows.portal.context import RoundContext
from scoring import columns as C
from scoring.errors import InputError, Problem
from scoring.intake_scores import validate_scores

# the message validate_scores gives a pair scored on some criteria only: a draft may be incomplete
_INCOMPLETE = "on some criteria only"


@dataclass(frozen=True)
class FieldProblem:
    """A problem placed on a form field (submission, criterion) when it has one."""

    submission_id: str | None
    criterion: str | None
    text: str


def _raw(ctx: RoundContext, expert_id: str, values: dict[tuple[str, str], str], label: str
         ) -> tuple[pd.DataFrame, dict[int, tuple[str, str]]]:
    order = {c.id: i for i, c in enumerate(ctx.programme.criteria)}
    keys = sorted(values, key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    rows = {i + 2: k for i, k in enumerate(keys)}
    raw = pd.DataFrame({
        C.EXPERT_ID: [expert_id] * len(keys),
        C.SUBMISSION_ID: [k[0] for k in keys],
        C.CRITERION: [k[1] for k in keys],
        C.SCORE: [values[k] for k in keys],
    }, dtype=object)
    raw[C.SOURCE_FILE] = label
    raw[C.SOURCE_ROW] = pd.Series(list(rows), dtype="int64")
    raw.attrs["file"] = label
    return raw, rows


def check_values(ctx: RoundContext, expert_id: str, values: dict[tuple[str, str], str],
                 *, partial: bool) -> list[FieldProblem]:
    """Check typed values (empty ones are left out: a draft may be partial) with validate_scores."""
    filled = {k: v for k, v in values.items() if v.strip() != ""}
    if not filled:
        return []
    raw, rows = _raw(ctx, expert_id, filled, "portal")
    parsed = validate_scores([raw], ctx.programme, ctx.submissions, ctx.experts,
                             assigned=ctx.allowed_pairs(expert_id))
    out = []
    for p in parsed.problems:
        if partial and p.column is None and _INCOMPLETE in p.message:
            continue
        sid, crit = rows.get(p.row, (None, None)) if p.row is not None else (None, None)
        out.append(FieldProblem(sid, crit, in_chinese(p, ctx, located=False)))
    return out


def missing_scores(ctx: RoundContext, expert_id: str, drafts: dict[tuple[str, str], str]) -> list[FieldProblem]:
    """Criteria not yet scored on any application the expert must score (a submission is complete)."""
    out = []
    for app in ctx.applications(expert_id):
        lacking = [c.name for c in ctx.programme.criteria if not drafts.get((app.submission_id, c.id), "").strip()]
        if lacking:
            out.append(FieldProblem(app.submission_id, None,
                                    f"{app.submission_id}（{app.enterprise_name}）尚未评分：{'、'.join(lacking)}"))
    return out


def score_file_bytes(ctx: RoundContext, expert_id: str, drafts: dict[tuple[str, str], str]) -> bytes:
    """The expert's complete scores as a long-form CSV (UTF-8), in sheet order: what intake reads."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE])
    for app in ctx.applications(expert_id):
        for c in ctx.programme.criteria:
            w.writerow([expert_id, app.submission_id, c.id, drafts.get((app.submission_id, c.id), "").strip()])
    return buf.getvalue().encode("utf-8")


def check_score_file(ctx: RoundContext, expert_id: str, path: Path, label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a score file (an upload, or the bytes about to be submitted) and validate it for this expert."""
    try:
        raw = read_table(path, label, header_names=(C.EXPERT_ID, C.SUBMISSION_ID))
    except InputError as err:
        return None, list(err.problems)
    if raw.empty:
        return None, [Problem(label, "has a header but no scores")]
    parsed = validate_scores([raw], ctx.programme, ctx.submissions, ctx.experts, assigned=ctx.allowed_pairs(expert_id))
    if parsed.problems:
        return None, list(parsed.problems)
    return parsed.frame, []


# --- messages in Chinese -----------------------------------------------------------------------

def _crit_name(ctx: RoundContext, crit_id: str) -> str:
    for c in ctx.programme.criteria:
        if c.id == crit_id:
            return c.name
    return crit_id


_PATTERNS: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^score (?P<v>.+) is outside 0\.\.(?P<max>[\d.]+) for criterion '(?P<c>[^']+)'"),
     lambda m, ctx: f"“{_crit_name(ctx, m['c'])}”的分值 {m['v']} 超出范围，应为0–{m['max']}分"),
    (re.compile(r"^score '(?P<v>.*)' is not a number"), lambda m, ctx: f"分值“{m['v']}”不是数字"),
    (re.compile(r"^score '(?P<v>.*)' has (?P<n>\d+) decimal places; scores have (?P<rule>.+)$"),
     lambda m, ctx: f"分值 {m['v']} 有{m['n']}位小数，" + (
         "只能填写整数" if m["rule"].startswith("no") else f"最多允许{re.sub(r'[^0-9]', '', m['rule'])}位小数")),
    (re.compile(r"^empty score"), lambda m, ctx: "分值为空：每个评分项都必须打分"),
    (re.compile(r"^empty; a value is required"), lambda m, ctx: "此处不能为空"),
    (re.compile(r"^(?P<s>\S+) was not assigned to expert (?P<e>\S+);"),
     lambda m, ctx: f"项目 {m['s']} 不在专家 {m['e']} 可评分的项目中（未分配或需回避），不能为其评分"),
    (re.compile(r"^回避"), lambda m, ctx: "回避：您所在单位是该项目的申报单位，不能为其评分"),
    (re.compile(r"^duplicate score: expert (?P<e>\S+) already scored (?P<s>\S+) on '(?P<c>[^']+)'"),
     lambda m, ctx: f"重复评分：{m['s']} 的“{_crit_name(ctx, m['c'])}”已在前面评过"),
    (re.compile(r"^expert (?P<e>\S+) scored (?P<s>\S+) on some criteria only; missing: (?P<c>.+)$"),
     lambda m, ctx: f"{m['s']} 有评分项未填写：{'、'.join(_crit_name(ctx, c.strip()) for c in m['c'].split(','))}"),
    (re.compile(r"^unknown criterion '(?P<c>[^']*)'"), lambda m, ctx: f"未知的评分项“{m['c']}”"),
    (re.compile(r"^unknown (?P<col>expert_id|submission_id) '(?P<v>[^']*)'"),
     lambda m, ctx: ("未知的专家编号" if m["col"] == C.EXPERT_ID else "未知的申报编号") + f"“{m['v']}”"),
    (re.compile(r"^missing the column of criterion '(?P<c>[^']+)'"),
     lambda m, ctx: f"缺少评分项“{_crit_name(ctx, m['c'])}”（{m['c']}）这一列"),
    (re.compile(r"^this is not a score sheet"), lambda m, ctx: "这不是评分表：请上传系统生成的评分表（或含 criterion、score 列的长表）"),
    (re.compile(r"^the file is empty"), lambda m, ctx: "文件是空的"),
    (re.compile(r"^has a header but no scores"), lambda m, ctx: "只有表头，没有评分"),
    (re.compile(r"^the file is neither UTF-8 nor GB18030"), lambda m, ctx: "CSV文件编码无法识别，请另存为“CSV UTF-8”"),
    (re.compile(r"^the cell holds a formula"), lambda m, ctx: "单元格是公式且没有保存结果，请直接填写数值"),
]


def in_chinese(p: Problem, ctx: RoundContext, *, located: bool = True) -> str:
    """One problem for an expert: where (第几行、哪一列) and what, in Chinese; unknown messages verbatim."""
    text = p.message
    for pattern, build in _PATTERNS:
        m = pattern.search(p.message)
        if m:
            text = build(m, ctx)  # type: ignore[operator]
            break
    if not located:
        return text
    where = []
    if p.row is not None:
        where.append(f"第{p.row}行")
    if p.column is not None:
        name = _crit_name(ctx, p.column)
        where.append(f"“{name}”列" if name == p.column else f"“{name}”（{p.column}）列")
    return ("，".join(where) + "：" if where else "") + text
