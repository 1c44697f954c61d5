"""The stages of a round as plain functions: the flow calls them as tasks, tests call them directly.

`prepare` reads and checks everything and renders the ranking outputs in memory;
nothing is written until it has succeeded, so bad input leaves out/ untouched.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace

import pandas as pd

from flows import ledger
from flows.holidays import work_calendar
from flows.intake import RoundInputs, load_workspace
from flows.objections import all_objections, upheld_removals
from flows.panel import read_assignment
from flows.outputs import manifest_json, ranking_csv, ranking_xlsx
from flows.round_report import render_report, report_pdf
from flows.publicity import publicity_html, publicity_xlsx
from flows.settings import rounds_home
from flows.state import Approval, RoundState
from flows.workspace import Workspace, sha256_file
from scoring import columns as C
from scoring.ledger_rules import combine_prior_awards
from scoring.panel_report import panel_summary, with_panel_columns
from scoring.pipeline import RoundResult, evaluate_round
from scoring.rules import Programme, RoundConfig, rules_hash, rules_json
from scoring.workdays import publicity_window, uncovered_years


@dataclass
class Prepared:
    ws: Workspace
    config: RoundConfig
    programme: Programme
    inputs: RoundInputs
    result: RoundResult
    files: dict[str, bytes] = field(default_factory=dict)
    input_hashes: dict[str, str] = field(default_factory=dict)
    decisions: list[dict] = field(default_factory=list)
    published_on: dt.date | None = None
    window: tuple[dt.date, dt.date] | None = None

    @property
    def ranking_hash(self) -> str:
        return hashlib.sha256(self.files["ranking.csv"]).hexdigest()

    def counts(self) -> dict[str, int]:
        vc = self.result.ranking[C.OUTCOME].value_counts()
        return {o: int(vc.get(o, 0)) for o in C.OUTCOMES}

    def total_yuan(self) -> int:
        return int(self.result.ranking[C.AMOUNT_YUAN].sum())

    def summary_markdown(self) -> str:
        c = self.counts()
        top = self.result.ranking[self.result.ranking[C.OUTCOME].isin([C.SELECTED, C.RESERVE])]
        lines = [
            f"# {self.config.year}年度 {self.programme.name}",
            "",
            f"Round `{self.config.round_id}` · ranking sha256 `{self.ranking_hash[:16]}…`",
            "",
            "| selected | reserve | not selected | ineligible | total yuan |",
            "|---:|---:|---:|---:|---:|",
            f"| {c['selected']} | {c['reserve']} | {c['not_selected']} | {c['ineligible']} | {self.total_yuan():,} |",
            "",
            "| rank | id | enterprise | score | outcome | amount |",
            "|---:|---|---|---:|---|---:|",
        ]
        for r in top.itertuples(index=False):
            d = r._asdict()
            lines.append(
                f"| {d[C.RANK]} | {d[C.SUBMISSION_ID]} | {d[C.ENTERPRISE_NAME]} | {d[C.SCORE]} | {d[C.OUTCOME]} | {d[C.AMOUNT_YUAN]:,} |"
            )
        return "\n".join(lines) + "\n"


def expert_totals_csv(result: RoundResult) -> bytes:
    t = result.expert_totals
    lines = ["submission_id,expert_id,expert_total"]
    lines += [f"{s},{e},{v:.4f}" for s, e, v in zip(t[C.SUBMISSION_ID], t[C.EXPERT_ID], t[C.EXPERT_TOTAL])]
    return ("\n".join(lines) + "\n").encode("utf-8")


def prepare(ws: Workspace) -> Prepared:
    config, programme = ws.load_config()
    home = rounds_home()
    ledger.check_can_finalise(home, config, ws.root)  # a second workspace for a finalised programme-year: refused
    inputs = load_workspace(ws.root, programme, assigned=read_assignment(ws))
    state = RoundState(ws.state_db)
    decisions = state.tie_decisions()
    snap = ledger.snapshot(home, config, programme)
    result = evaluate_round(
        submissions=inputs.submissions,
        scores=inputs.scores,
        programme=programme,
        config=config,
        excluded_products=inputs.excluded_products,
        prior_awards=combine_prior_awards(inputs.prior_awards, snap.prior_awards),
        enterprise_awarded=snap.enterprise_awarded,
        decisions=decisions,
        removed=upheld_removals(state),
    )
    prepared = Prepared(ws=ws, config=config, programme=programme, inputs=inputs, result=result)
    prepared.input_hashes = {ws.rel(p): sha256_file(p) for p in [ws.root / "round.toml", *inputs.files]}
    prepared.input_hashes["ROUNDS_HOME/ledger.sqlite (awards visible to this round)"] = snap.sha256
    prepared.decisions = [
        {"kind": "tie", "order": list(d.order), "decided_by": d.decided_by, "reason": d.reason}
        for _, d in sorted(decisions.items(), key=lambda kv: sorted(kv[0]))
    ] + [
        {"kind": "objection", "id": o.id, "submission_id": o.submission_id, "status": o.status,
         "filed_by": o.filed_by, "decided_by": o.decided_by, "finding": o.finding}
        for o in all_objections(state) if o.status != "pending"
    ]
    if programme.scoring is not None and not result.expert_totals.empty:
        result = replace(result, ranking=with_panel_columns(result, inputs.scores, programme, seed=config.seed))
        prepared.result = result
    prepared.files = {
        "ranking.csv": ranking_csv(result.ranking),
        "ranking.xlsx": ranking_xlsx(result.ranking, programme, config),
        "rules.json": rules_json(programme).encode("utf-8"),
        "expert_totals.csv": expert_totals_csv(result),
    }
    if not result.expert_totals.empty:
        prepared.files["panel.json"] = (json.dumps(panel_summary(result), ensure_ascii=False, indent=2,
                                                   sort_keys=True) + "\n").encode("utf-8")
    # the report names the approver once there is one: a rerun then renders the same bytes as publication did
    prepared.files["report.html"] = render_report(
        result, programme, config, approval=state.approval_for(prepared.ranking_hash),
        ranking_sha256=prepared.ranking_hash, experts=inputs.experts)
    prepared.files["manifest.json"] = _manifest(prepared)
    return prepared


def _manifest(p: Prepared) -> bytes:
    outputs = {k: v for k, v in p.files.items() if k != "manifest.json"}
    return manifest_json(
        config=p.config,
        programme=p.programme,
        rules_sha256=rules_hash(p.programme),
        inputs=p.input_hashes,
        decisions=p.decisions,
        outputs=outputs,
    )


def write_ranking(p: Prepared) -> list[str]:
    """Write the ranking's outputs. Once this ranking is approved, publication writes the manifest
    (which then also lists the 公示 files), so a rerun does not rewrite it twice."""
    approval = RoundState(p.ws.state_db).approval_for(p.ranking_hash)
    files = p.files
    if approval is not None and approval.approved:
        files = {name: data for name, data in files.items() if name != "manifest.json"}
    return p.ws.write_outputs(files)


def write_report_pdf(p: Prepared) -> str:
    """Print out/report.html to out/report.pdf with headless Chromium when it is installed.

    Kept out of the manifest: its bytes depend on the Chromium and font versions.
    Returns a warning for the manager, or "".
    """
    try:
        pdf = report_pdf(p.files["report.html"])
    except RuntimeError as err:
        return f"report.pdf not written: {err}"
    if pdf:
        p.ws.write_outputs({"report.pdf": pdf})
    return ""


def publish(p: Prepared, approval: Approval) -> tuple[list[str], str]:
    """Render the 公示 page from the approved ranking; returns (changed files, calendar warning)."""
    published_on = p.config.publicity_start or dt.date.fromisoformat(approval.at[:10])
    calendar = work_calendar(rounds_home(), p.ws.root)
    window = publicity_window(published_on, p.programme.publicity.working_days, calendar)
    p.published_on, p.window = published_on, window
    missing = uncovered_years(window[0], window[1], calendar)
    warning = ""
    if missing:
        years = ", ".join(str(y) for y in missing)
        warning = (
            f"公示期跨越{years}年，系统尚无该年度法定节假日及调休安排，暂按周一至周五计算。"
            f"请在工作目录或ROUNDS_HOME下的holidays.toml中补充后重新运行。"
        )
    p.files["publicity.html"] = publicity_html(
        p.result.ranking, p.programme, p.config, published_on=published_on, window=window, calendar_warning=warning
    )
    p.files["publicity.xlsx"] = publicity_xlsx(p.result.ranking, p.programme, p.config, published_on=published_on, window=window)
    p.files["report.html"] = render_report(p.result, p.programme, p.config, approval=approval,
                                           ranking_sha256=p.ranking_hash, experts=p.inputs.experts)
    p.files["manifest.json"] = _manifest(p)
    english = (
        f"no PRC holiday data for {', '.join(str(y) for y in missing)}: the 公示 window was counted Monday–Friday; "
        f"add holidays.toml (see README) and run again" if missing else ""
    )
    return p.ws.write_outputs(p.files), english


def outcome_table(ranking: pd.DataFrame) -> list[dict]:
    return ranking[[C.SUBMISSION_ID, C.ENTERPRISE_NAME, C.SCORE, C.RANK, C.OUTCOME, C.AMOUNT_YUAN, C.REASON_CODE]].astype(str).to_dict("records")
