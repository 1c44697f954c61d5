"""The pure core of rounds: rules, eligibility, aggregation, ranking and caps.

Nothing in this package performs file or network I/O, reads the environment or
the clock, or imports Prefect, Jinja2 or aiosmtplib. Functions take DataFrames
and plain values and return new ones; inputs are never mutated.
"""
