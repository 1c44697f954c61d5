"""Conflicts of interest (回避): which expert must never score which application, and why.

Three sources, each explained in the `reason` column so that a manager (and an
expert who asks) can see why a pair was excluded:

- the expert's organisation has the applicant's 统一社会信用代码 (`credit_code`);
- the expert's organisation is the applicant under another spelling
  (`organisation`): names are compared after `normalise_org_name`;
- a declared conflict (`declared`) from the workspace's conflicts file, given
  per application (`submission_id`) or per applicant (`credit_code`: every
  application of that enterprise).

Vectorised joins (no Python loop over pairs): a round may hold 20,000
applications and 200 experts.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from scoring.columns import (
    CREDIT_CODE,
    ENTERPRISE_NAME,
    EXPERT_ID,
    ORG_CREDIT_CODE,
    ORGANISATION,
    SOURCE_FILE,
    SOURCE_ROW,
    SUBMISSION_ID,
)
from scoring.errors import InputError, Problem

REASON = "reason"
KIND = "kind"
CONFLICT_COLUMNS: tuple[str, ...] = (EXPERT_ID, SUBMISSION_ID, KIND, REASON)

# Legal-form suffixes that do not distinguish one organisation from another.
# Longest first, so that 股份有限公司 is removed whole, not as 有限公司.
ORG_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "集团股份有限公司",
    "有限公司",
    "集团公司",
    "分公司",
    "公司",
    "集团",
    "colimited",
    "coltd",
    "limited",
    "ltd",
    "incorporated",
    "inc",
    "corporation",
    "corp",
)
_SUFFIXES_BY_LENGTH = tuple(sorted(ORG_SUFFIXES, key=len, reverse=True))


def normalise_org_name(name: object) -> str:
    """A comparison key for an organisation name ("" for a blank name).

    NFKC (full-width to half-width, compatibility forms), casefold, drop every
    space, punctuation and symbol character (so （福建） equals (福建) equals 福建),
    then repeatedly strip legal-form suffixes (有限公司, 股份有限公司, 有限责任公司,
    Co., Ltd. …). "福州智算科技股份有限公司" and "福州 智算科技有限公司" give the same key.
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")
    stripped = True
    while stripped and text:
        stripped = False
        for suffix in _SUFFIXES_BY_LENGTH:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                stripped = True
                break
    return text


def normalise_credit_code(code: object) -> str:
    if code is None or (isinstance(code, float) and code != code):
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(code))).upper()


def _declared_pairs(submissions: pd.DataFrame, experts: pd.DataFrame, declared: pd.DataFrame) -> pd.DataFrame:
    problems: list[Problem] = []
    rows = declared.reset_index(drop=True)
    file_label = lambda i: str(rows.at[i, SOURCE_FILE]) if SOURCE_FILE in rows else "conflicts"  # noqa: E731
    row_no = lambda i: int(rows.at[i, SOURCE_ROW]) if SOURCE_ROW in rows else i + 2  # noqa: E731
    known_experts = set(experts[EXPERT_ID])
    known_subs = set(submissions[SUBMISSION_ID])
    by_sub = rows[SUBMISSION_ID].fillna("").astype(str).str.strip() if SUBMISSION_ID in rows else pd.Series("", index=rows.index)
    by_code = rows[CREDIT_CODE].map(normalise_credit_code) if CREDIT_CODE in rows else pd.Series("", index=rows.index)
    reason = rows[REASON].fillna("").astype(str).str.strip() if REASON in rows else pd.Series("", index=rows.index)
    for i in rows.index:
        if rows.at[i, EXPERT_ID] not in known_experts:
            problems.append(Problem(file_label(i), f"unknown expert {rows.at[i, EXPERT_ID]!r} (not in the expert pool)", row_no(i), EXPERT_ID))
        if not by_sub[i] and not by_code[i]:
            problems.append(Problem(file_label(i), "a declared conflict needs a submission_id or a credit_code", row_no(i), SUBMISSION_ID))
        elif by_sub[i] and by_sub[i] not in known_subs:
            problems.append(Problem(file_label(i), f"unknown application {by_sub[i]!r}", row_no(i), SUBMISSION_ID))
    if problems:
        raise InputError(problems)
    text = "declared conflict" + reason.map(lambda r: f": {r}" if r else "")
    direct = pd.DataFrame({EXPERT_ID: rows[EXPERT_ID], SUBMISSION_ID: by_sub, REASON: text})[by_sub != ""]
    codes = pd.DataFrame({EXPERT_ID: rows[EXPERT_ID], "_code": by_code, REASON: text})[by_code != ""]
    subs = pd.DataFrame({SUBMISSION_ID: submissions[SUBMISSION_ID], "_code": submissions[CREDIT_CODE].map(normalise_credit_code)})
    via_code = codes.merge(subs, on="_code")[[EXPERT_ID, SUBMISSION_ID, REASON]]
    out = pd.concat([direct, via_code], ignore_index=True)
    out[KIND] = "declared"
    return out


def find_conflicts(
    submissions: pd.DataFrame, experts: pd.DataFrame, declared: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every forbidden (expert_id, submission_id) pair with its kind(s) and reason(s).

    `submissions` needs submission_id, enterprise_name, credit_code; `experts`
    needs expert_id, organisation, org_credit_code; `declared` (optional) needs
    expert_id, submission_id and/or credit_code, and may have reason (and
    _file/_row for messages). A declared row naming an unknown expert or
    application is an `InputError` (a typo must not silently allow a conflict).
    One row per pair; several reasons for one pair are joined by "; ".
    Sorted by expert_id, submission_id.
    """
    subs = pd.DataFrame(
        {
            SUBMISSION_ID: submissions[SUBMISSION_ID].astype(str),
            "_code": submissions[CREDIT_CODE].map(normalise_credit_code),
            "_name": submissions[ENTERPRISE_NAME].map(normalise_org_name),
            "_applicant": submissions[ENTERPRISE_NAME],
        }
    )
    exps = pd.DataFrame(
        {
            EXPERT_ID: experts[EXPERT_ID].astype(str),
            "_code": experts[ORG_CREDIT_CODE].map(normalise_credit_code) if ORG_CREDIT_CODE in experts else "",
            "_name": experts[ORGANISATION].map(normalise_org_name) if ORGANISATION in experts else "",
            "_org": experts[ORGANISATION] if ORGANISATION in experts else "",
        }
    )
    by_code = exps[exps["_code"] != ""].merge(subs[subs["_code"] != ""], on="_code")
    by_code = pd.DataFrame(
        {
            EXPERT_ID: by_code[EXPERT_ID],
            SUBMISSION_ID: by_code[SUBMISSION_ID],
            KIND: "credit_code",
            REASON: "expert's organisation has the applicant's credit code " + by_code["_code"],
        }
    )
    by_name = exps[exps["_name"] != ""].merge(subs[subs["_name"] != ""], on="_name")
    by_name = pd.DataFrame(
        {
            EXPERT_ID: by_name[EXPERT_ID],
            SUBMISSION_ID: by_name[SUBMISSION_ID],
            KIND: "organisation",
            REASON: "expert's organisation "
            + by_name["_org"].astype(str)
            + " is the applicant "
            + by_name["_applicant"].astype(str)
            + " (same name after normalisation)",
        }
    )
    parts = [by_code, by_name]
    if declared is not None and len(declared):
        parts.append(_declared_pairs(subs.rename(columns={"_code": CREDIT_CODE}), exps, declared))
    pairs = pd.concat(parts, ignore_index=True)
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS})
    pairs = pairs.drop_duplicates([EXPERT_ID, SUBMISSION_ID, KIND, REASON])
    pairs = pairs.sort_values([EXPERT_ID, SUBMISSION_ID, KIND, REASON], kind="stable")
    out = pairs.groupby([EXPERT_ID, SUBMISSION_ID], sort=True, as_index=False).agg(
        {KIND: lambda s: "; ".join(dict.fromkeys(s)), REASON: "; ".join}
    )
    return out[list(CONFLICT_COLUMNS)].reset_index(drop=True)
