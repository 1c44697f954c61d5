"""Writing sample round workspaces: one round, or a set of rounds (one per programme) for the demo.

Reproducible by construction: the xlsx files carry fixed document properties
and zip entry times (`flows.xlsx.workbook_bytes`), so the same seed writes
byte-identical files. Once written, a workspace is read back through
`flows.intake.load_workspace` (the path `rounds run` takes) and evaluated again:
what is on disk must give the ranking the draw was chosen for.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import tomli_w

from flows.sample.draft import Draft, EarlierAward, _raw, submission_columns, text
from flows.sample.draw import draw_verified
from flows.sample.people import APPLICANT_FIELDS
from flows.sample.registry import SAMPLERS
from flows.workspace import load_programme
from flows.xlsx import workbook_bytes
from scoring import columns as C
from scoring.errors import ConfigError
from scoring.intake import parse_prior_awards
from scoring.ledger_rules import combine_prior_awards
from scoring.pipeline import RoundResult, evaluate_round
from scoring.rules import Programme, check_year

# a later programme of a set re-submits a project an earlier one paid (就高不重复 through the ledger)
RESUBMITS = {"industrial_internet": ("scenario",)}
WIDTHS = {
    C.ENTERPRISE_NAME: 34, C.CREDIT_CODE: 22, C.CONTACT_EMAIL: 30, C.TITLE: 56, C.SUBMITTED_AT: 20,
    "product_name": 30, "model_name": 24, "platform_name": 36, "filing_no": 34, "occupation": 28,
    "recognition_no": 22, "provincial_doc_no": 22,
}
EXPERT_WIDTHS = {C.EXPERT_EMAIL: 28, C.ORGANISATION: 30, C.ORG_CREDIT_CODE: 22}


@dataclass(frozen=True)
class SampleInfo:
    """What was written, for the demo's summary and for tests."""

    root: Path
    programme: str
    year: int
    n_applications: int
    n_experts: int
    ineligible_ids: tuple[str, ...]
    ineligible_reasons: dict[str, str] = field(default_factory=dict)  # id -> intended ineligible reason code
    topup_id: str | None = None                                      # the project with a prior award
    seed: int = 0                                                    # the seed of the draw written
    expected_reasons: dict[str, str] = field(default_factory=dict)   # id -> another reason code it shows
    from_ledger: dict[str, str] = field(default_factory=dict)        # id -> "<round> <id>" that paid it before


def _sheet_bytes(title: str, sheet: str, columns: list[str], records: list[dict], widths: dict[str, int],
                 dates: frozenset[str] = frozenset()) -> bytes:
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
        if col == C.SUBMITTED_AT or col in dates:
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm:ss" if col == C.SUBMITTED_AT else "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    wb.properties.title = title
    return workbook_bytes(wb)


def _csv_bytes(columns: tuple[str, ...] | list[str], records: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for rec in records:
        w.writerow([text(rec.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def render_files(draft: Draft) -> dict[str, bytes]:
    """Every file of the workspace, by its path relative to the root."""
    programme, year = draft.programme, draft.year
    header = (
        f"# 示例评选：由 rounds 按固定随机种子生成，企业、人员、项目及代码均为虚构。\n"
        f"# {programme.clause}\n"
    )
    files = {
        "round.toml": (header + tomli_w.dumps(draft.config)).encode("utf-8"),
        "submissions.xlsx": _sheet_bytes(
            f"{year}年度申报汇总（示例）", "申报汇总", submission_columns(programme), draft.submissions, WIDTHS,
            frozenset(c.id for c in programme.columns if c.type == "date"),
        ),
    }
    if draft.excluded_products:
        files["references/excluded_products.csv"] = _csv_bytes(C.EXCLUDED_PRODUCT_COLUMNS, draft.excluded_products)
    if draft.prior_awards:
        files["references/prior_awards.csv"] = _csv_bytes(C.PRIOR_AWARD_COLUMNS, draft.prior_awards)
    if draft.scored:
        files["experts.xlsx"] = _sheet_bytes("专家库（示例）", "专家库", list(C.EXPERT_COLUMNS), draft.experts, EXPERT_WIDTHS)
        for expert in draft.experts:
            eid = expert[C.EXPERT_ID]
            mine = [s for s in draft.scores if s[C.EXPERT_ID] == eid]
            files[f"scores/{eid}.csv"] = _csv_bytes(C.SCORE_COLUMNS, mine)
    return files


def _read_back(root: Path, draft: Draft, expected: RoundResult) -> None:
    """The written workspace through the real intake gives the ranking the draw was chosen for."""
    from flows.intake import load_workspace
    from flows.workspace import Workspace

    config, programme = Workspace.at(root).load_config()
    inputs = load_workspace(root, programme)
    ledger = parse_prior_awards(_raw(draft.ledger_prior, C.PRIOR_AWARD_COLUMNS, "ROUNDS_HOME/ledger.sqlite"))
    result = evaluate_round(
        submissions=inputs.submissions, scores=inputs.scores, programme=programme, config=config,
        excluded_products=inputs.excluded_products, prior_awards=combine_prior_awards(inputs.prior_awards, ledger),
    )
    cols = [C.SUBMISSION_ID, C.SCORE, C.OUTCOME, C.AMOUNT_YUAN, C.REASON_CODE]
    got, want = result.ranking[cols].reset_index(drop=True), expected.ranking[cols].reset_index(drop=True)
    if not got.equals(want):  # pragma: no cover - a bug in rendering, never bad luck
        raise RuntimeError(f"{root}: the written sample does not read back as drawn")


def _check_request(programme: str, year: int, n_applications: int | None, n_experts: int | None,
                   root: Path) -> Programme:
    if programme not in SAMPLERS:
        raise ConfigError(f"no sample data for programme {programme!r}; available: {', '.join(sorted(SAMPLERS))}")
    rules = load_programme(programme, source="sample")
    check_year(rules, year, "sample")
    if n_applications is not None and n_applications < 20:
        raise ConfigError(f"a sample round needs at least 20 applications, not {n_applications}")
    if n_experts is not None and n_experts < 3:
        raise ConfigError(f"a sample round needs at least 3 experts, not {n_experts}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root}: not an empty folder; a sample round is written into a new or empty folder")
    return rules


def _write(root: Path, programme: str, year: int, seed: int, n_applications: int | None, n_experts: int | None,
           earlier: Sequence[EarlierAward] = ()) -> tuple[SampleInfo, Draft, RoundResult]:
    root = Path(root)
    rules = _check_request(programme, year, n_applications, n_experts, root)
    draft, used, result = draw_verified(rules, year, seed, n_applications, n_experts, earlier)
    for rel, data in render_files(draft).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _read_back(root, draft, result)
    info = SampleInfo(
        root=root,
        programme=programme,
        year=year,
        n_applications=len(draft.submissions),
        n_experts=len(draft.experts),
        ineligible_ids=tuple(sorted(draft.intended)),
        ineligible_reasons=dict(sorted(draft.intended.items())),
        topup_id=draft.topup_id,
        seed=used,
        expected_reasons=dict(sorted(draft.expected.items())),
        from_ledger=dict(sorted(draft.from_ledger.items())),
    )
    return info, draft, result


def write_sample_round(
    root: Path,
    programme: str = "scenario",
    year: int = 2026,
    seed: int = 7,
    n_applications: int | None = None,
    n_experts: int | None = None,
) -> SampleInfo:
    """Write a sample round workspace into `root` (a new or empty folder); same seed → same bytes.

    Without sizes, the programme's usual number of applications (20–60) and 5–7
    experts (for programmes with expert scoring) are drawn from the seed.
    """
    info, _, _ = _write(Path(root), programme, year, seed, n_applications, n_experts)
    return info


def _paid_project(draft: Draft, result: RoundResult, round_id: str) -> EarlierAward | None:
    """A plainly paid project of a round (a key project when the programme has categories), by rank."""
    r = result.ranking
    paid = r[(r[C.OUTCOME] == C.SELECTED) & (r[C.REASON_CODE] == "") & (r[C.AMOUNT_YUAN] > 0)]
    if "category" in paid.columns and (paid["category"] == "key_project").any():
        paid = paid[paid["category"] == "key_project"]
    if paid.empty:
        return None
    pick = paid.iloc[0]
    row = draft.row(str(pick[C.SUBMISSION_ID]))
    return EarlierAward(
        round_id=round_id, submission_id=str(pick[C.SUBMISSION_ID]), programme_name=draft.programme.name,
        year=draft.year, applicant={k: row[k] for k in APPLICANT_FIELDS if k in row}, title=str(pick[C.TITLE]),
        amount_yuan=int(pick[C.AMOUNT_YUAN]),
    )


def sample_programmes() -> tuple[str, ...]:
    """The programmes with a sampler, in the order a sample set runs them."""
    return tuple(SAMPLERS)


def write_sample_set(base: Path, programmes: Sequence[str] | None = None, year: int = 2026,
                     seed: int = 7) -> list[SampleInfo]:
    """One sample workspace per programme under `base` (`<programme>-<year>/`), in run order.

    Programmes of one set are linked the way real ones are: an enterprise whose
    scenario project was paid re-submits it to industrial_internet, so running
    the set in order with one ROUNDS_HOME shows 就高不重复 across programmes
    (the later award topped up, TOPUP_HIGHEST, through the awards ledger).
    """
    wanted = list(dict.fromkeys(programmes or sample_programmes()))
    unknown = [p for p in wanted if p not in SAMPLERS]
    if unknown:
        raise ConfigError(f"no sample data for programme {unknown[0]!r}; available: {', '.join(sample_programmes())}")
    ordered = [p for p in sample_programmes() if p in wanted]
    paid: dict[str, EarlierAward | None] = {}
    infos = []
    for pid in ordered:
        earlier = [a for src in RESUBMITS.get(pid, ()) if (a := paid.get(src)) is not None]
        info, draft, result = _write(Path(base) / f"{pid}-{year}", pid, year, seed, None, None, earlier)
        paid[pid] = _paid_project(draft, result, f"{year}-{pid}")
        infos.append(info)
    return infos
