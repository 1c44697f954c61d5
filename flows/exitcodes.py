"""Exit codes of `rounds`: what a script calling it can rely on."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AWAITING_APPROVAL = 3
EXIT_DECISION_REQUIRED = 4
EXIT_REJECTED = 5
EXIT_NOTICES_INCOMPLETE = 6
EXIT_IN_PUBLICITY = 7

EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_ERROR: "bad input or configuration (one line per problem on stderr); nothing was written",
    EXIT_USAGE: "wrong command-line usage",
    EXIT_AWAITING_APPROVAL: "the ranking awaits a manager's approval (`rounds approve`)",
    EXIT_DECISION_REQUIRED: "a tie at the cut-off needs a recorded decision (`rounds decide`)",
    EXIT_REJECTED: "the ranking was rejected; see `rounds status`",
    EXIT_NOTICES_INCOMPLETE: "some notices were not delivered (failed, ambiguous or halted); see the report",
    EXIT_IN_PUBLICITY: "the 公示 window is still open: run again after it ends (or `rounds finalise`)",
}
