"""Every column name rounds reads or writes, in one place.

Input names are the contract of ../shared/SPEC.md; output names are those of
out/ranking.csv. Programme-specific input columns are declared in the
programme files (data/programmes/*.toml) and checked against those files.
"""
from __future__ import annotations

# --- submissions: every programme ---------------------------------------------
SUBMISSION_ID = "submission_id"
ENTERPRISE_NAME = "enterprise_name"
CREDIT_CODE = "credit_code"
CONTACT_NAME = "contact_name"
CONTACT_EMAIL = "contact_email"
TITLE = "title"
SUBMITTED_AT = "submitted_at"

SUBMISSION_COLUMNS: tuple[str, ...] = (
    SUBMISSION_ID,
    ENTERPRISE_NAME,
    CREDIT_CODE,
    CONTACT_NAME,
    CONTACT_EMAIL,
    TITLE,
    SUBMITTED_AT,
)

# --- experts -------------------------------------------------------------------
EXPERT_ID = "expert_id"
EXPERT_NAME = "name"
EXPERT_EMAIL = "email"
ORGANISATION = "organisation"
ORG_CREDIT_CODE = "org_credit_code"

EXPERT_COLUMNS: tuple[str, ...] = (EXPERT_ID, EXPERT_NAME, EXPERT_EMAIL, ORGANISATION, ORG_CREDIT_CODE)

# --- scores (long form) --------------------------------------------------------
CRITERION = "criterion"
SCORE = "score"

SCORE_COLUMNS: tuple[str, ...] = (EXPERT_ID, SUBMISSION_ID, CRITERION, SCORE)

# --- references ----------------------------------------------------------------
PRODUCT_NAME = "product_name"
LEVEL = "level"
YEAR = "year"
PROJECT_TITLE = "project_title"
POLICY = "policy"
AMOUNT_YUAN = "amount_yuan"

EXCLUDED_PRODUCT_COLUMNS: tuple[str, ...] = (PRODUCT_NAME, ENTERPRISE_NAME, CREDIT_CODE, LEVEL, YEAR)
PRIOR_AWARD_COLUMNS: tuple[str, ...] = (CREDIT_CODE, PROJECT_TITLE, POLICY, AMOUNT_YUAN, YEAR)

# --- derived, inside the core --------------------------------------------------
SOURCE_ROW = "_row"            # row number in the source file, for messages
SOURCE_FILE = "_file"          # file label, for messages
SCORE_UNITS = "score_units"    # an expert's criterion score in exact integer units
EXPERT_TOTAL = "expert_total"  # an expert's weighted total, 0..100 (exact fraction in units)
N_EXPERTS = "n_experts"
SCORE_CENTS = "score_cents"    # panel score in hundredths, rounded half-up (int)
ELIGIBLE = "eligible"

# --- out/ranking.csv -----------------------------------------------------------
RANK = "rank"
OUTCOME = "outcome"
REASON_CODE = "reason_code"
REASON = "reason"

RANKING_REQUIRED: tuple[str, ...] = (
    SUBMISSION_ID,
    CREDIT_CODE,
    SCORE,
    RANK,
    OUTCOME,
    AMOUNT_YUAN,
    REASON_CODE,
)

# --- outcomes and reason codes -------------------------------------------------
SELECTED = "selected"
RESERVE = "reserve"
NOT_SELECTED = "not_selected"
INELIGIBLE = "ineligible"
OUTCOMES: tuple[str, ...] = (SELECTED, RESERVE, NOT_SELECTED, INELIGIBLE)

BELOW_THRESHOLD = "BELOW_THRESHOLD"
COUNT_CAP = "COUNT_CAP"
ENTERPRISE_CAP = "ENTERPRISE_CAP"
BUDGET_CAP = "BUDGET_CAP"
EXCLUDED_LISTED = "EXCLUDED_LISTED"
HIGHER_AWARD_ELSEWHERE = "HIGHER_AWARD_ELSEWHERE"
TOPUP_HIGHEST = "TOPUP_HIGHEST"
OBJECTION_UPHELD = "OBJECTION_UPHELD"
INELIGIBLE_PREFIX = "INELIGIBLE_"

REASON_CODES: tuple[str, ...] = (
    BELOW_THRESHOLD,
    COUNT_CAP,
    ENTERPRISE_CAP,
    BUDGET_CAP,
    EXCLUDED_LISTED,
    HIGHER_AWARD_ELSEWHERE,
    TOPUP_HIGHEST,
    OBJECTION_UPHELD,
)


def is_valid_reason_code(code: str) -> bool:
    return code == "" or code in REASON_CODES or (
        code.startswith(INELIGIBLE_PREFIX) and len(code) > len(INELIGIBLE_PREFIX)
    )
