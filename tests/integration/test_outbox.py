"""The outbox state machine on a real SQLite file and, when ROUNDS_TEST_POSTGRES_URL is set, on a
real PostgreSQL database: idempotent prepare, approval binding, claims, recovery.

    ROUNDS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m pytest tests/integration/test_outbox.py

Each PostgreSQL test works in its own schema, dropped afterwards.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
import threading
import uuid

import pytest

from notices.outbox import (AMBIGUOUS, APPROVED, FAILED, PREPARED, RETRY, SENDING, SENT, Outbox, OutboxItem)
from smtp_servers import make_items

T0 = dt.datetime(2026, 7, 15, 1, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


PG_URL = os.environ.get("ROUNDS_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL outbox not tested: set ROUNDS_TEST_POSTGRES_URL "
                       "(e.g. postgresql://postgres@127.0.0.1:5432/test)")])]


@pytest.fixture(params=BACKENDS)
def make_outbox(request, tmp_path):
    """A factory of Outbox objects on one store: several can share it, as several senders would."""
    made = []
    schema = f"rounds_test_{uuid.uuid4().hex[:12]}"

    def make(clock=None):
        if request.param == "sqlite":
            box = Outbox(tmp_path / "out" / "outbox.sqlite", clock=clock or Clock())
        else:
            box = Outbox(PG_URL, clock=clock or Clock(), schema=schema)
        made.append(box)
        return box

    yield make
    for box in made:
        box.close()
    if request.param == "postgres":
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def outbox(make_outbox):
    return make_outbox()


def test_constructor_touches_nothing(tmp_path):
    Outbox(tmp_path / "out" / "outbox.sqlite")
    assert not (tmp_path / "out").exists()


def test_prepare_twice_adds_nothing(outbox):
    items = make_items(8)
    first = outbox.prepare(items)
    assert (first.new, first.unchanged, first.conflicts) == (8, 0, ())
    again = outbox.prepare(make_items(8))  # rebuilt from scratch: identical bytes
    assert (again.new, again.unchanged, again.conflicts) == (0, 8, ())
    assert outbox.counts()[PREPARED] == 8
    assert outbox.body(items[0].key) == items[0].body


def test_wal_mode_and_one_row_per_notice(tmp_path):
    outbox = Outbox(tmp_path / "out" / "outbox.sqlite")
    outbox.prepare(make_items(3))
    con = sqlite3.connect(tmp_path / "out" / "outbox.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*) FROM outbox_notices").fetchone()[0] == 3
    assert con.execute("SELECT COUNT(*) FROM outbox_bodies").fetchone()[0] == 3
    con.close()
    outbox.close()


def test_changed_body_is_a_conflict_and_is_not_written(outbox):
    outbox.prepare(make_items(4))
    changed = make_items(4, title_suffix="（修订）")
    report = outbox.prepare(changed)
    assert report.new == 0 and report.unchanged == 0 and len(report.conflicts) == 4
    conflict = report.conflicts[0]
    assert conflict.state == PREPARED and conflict.stored_sha256 != conflict.new_sha256
    assert "different content" in str(conflict)
    assert outbox.body(changed[0].key) != changed[0].body


def test_replace_unsent_never_touches_sent_rows(outbox):
    items = make_items(4)
    outbox.prepare(items)
    outbox.approve("rank-1")
    (claimed,) = outbox.claim(1)
    outbox.record(claimed.key, SENT, "250 OK")
    changed = make_items(4, title_suffix="（修订）", ranking_hash="rank-2")
    report = outbox.prepare(changed, replace_unsent=True)
    assert report.replaced == 3
    assert [c.submission_id for c in report.conflicts] == [claimed.submission_id]
    assert outbox.body(claimed.key) == items[0].body  # the sent letter is what it was
    assert outbox.body(changed[1].key) == changed[1].body
    assert outbox.counts()[PREPARED] == 3 and outbox.counts()[SENT] == 1
    assert outbox.approve("rank-1") == 0 and outbox.approve("rank-2") == 3


def test_approval_is_bound_to_the_ranking_hash(outbox):
    outbox.prepare(make_items(3, ranking_hash="rank-A"))
    outbox.prepare([dataclasses.replace(i, round_id="2026-other") for i in make_items(2, round_id="2026-other",
                                                                                        ranking_hash="rank-B")])
    assert outbox.approve("rank-B", round_id="2026-scenario") == 0
    assert outbox.approve("rank-A") == 3
    assert outbox.counts(round_id="2026-scenario")[APPROVED] == 3
    assert outbox.counts(round_id="2026-other")[PREPARED] == 2
    assert outbox.claim(10, round_id="2026-other") == []
    with pytest.raises(ValueError):
        outbox.approve("")


def test_a_new_ranking_hash_needs_a_new_approval_even_for_identical_letters(outbox):
    outbox.prepare(make_items(2, ranking_hash="rank-A"))
    outbox.approve("rank-A")
    report = outbox.prepare(make_items(2, ranking_hash="rank-B"))
    assert report.rebound == 2
    assert outbox.counts()[PREPARED] == 2 and outbox.claim(5) == []
    assert outbox.approve("rank-A") == 0 and outbox.approve("rank-B") == 2


def test_claim_record_and_never_resend(outbox):
    outbox.prepare(make_items(5))
    outbox.approve("rank-1")
    batch = outbox.claim(3)
    assert [c.submission_id for c in batch] == ["SC-00000", "SC-00001", "SC-00002"]
    assert all(c.attempts == 1 and c.claimed_from == APPROVED for c in batch)
    assert outbox.counts()[SENDING] == 3
    for c in batch:
        outbox.record(c.key, SENT, "250 2.0.0 OK")
    rest = outbox.claim(10)
    assert [c.submission_id for c in rest] == ["SC-00003", "SC-00004"]
    for c in rest:
        outbox.record(c.key, SENT, "250 2.0.0 OK")
    assert outbox.claim(10) == []
    assert outbox.counts()[SENT] == 5
    assert outbox.prepare(make_items(5)).unchanged == 5 and outbox.claim(10) == []
    row = outbox.rows(SENT)[0]
    assert row.sent_at == "2026-07-15T01:00:00.000000Z" and row.last_reply == "250 2.0.0 OK"
    assert [e[1] for e in outbox.events(row.key)] == ["prepared", "approved", "sending"]  # success is on the row


def test_retry_becomes_due_with_the_clock(outbox):
    outbox.prepare(make_items(1))
    outbox.approve("rank-1")
    (c,) = outbox.claim(1)
    outbox.record(c.key, RETRY, "451 4.3.0 try later", next_attempt_at=T0 + dt.timedelta(seconds=60))
    assert outbox.claim(1) == []
    assert outbox.outstanding() == (1, "2026-07-15T01:01:00.000000Z")
    outbox.clock.now = T0 + dt.timedelta(seconds=61)
    (again,) = outbox.claim(1)
    assert again.attempts == 2 and again.claimed_from == RETRY


def test_recover_marks_interrupted_rows_ambiguous_and_retries_them_first(outbox):
    outbox.prepare(make_items(3))
    outbox.approve("rank-1")
    stuck = outbox.claim(2)
    assert outbox.recover() == 2
    assert outbox.counts()[AMBIGUOUS] == 2 and outbox.counts()[SENDING] == 0
    first = outbox.claim(2)
    assert {c.key for c in first} == {c.key for c in stuck} and all(c.ambiguous for c in first)
    assert outbox.claim(5, include_ambiguous=False)[0].submission_id == "SC-00002"
    for c in first:
        outbox.record(c.key, SENT, "250 OK")
    flagged = outbox.rows(ambiguous=True)
    assert len(flagged) == 2 and all(r.state == SENT for r in flagged)


def test_recover_with_a_lease_leaves_fresh_claims(outbox):
    outbox.prepare(make_items(2))
    outbox.approve("rank-1")
    outbox.claim(1)
    assert outbox.recover(stale_after=dt.timedelta(minutes=15)) == 0
    outbox.clock.now = T0 + dt.timedelta(minutes=20)
    assert outbox.recover(stale_after=dt.timedelta(minutes=15)) == 1


def test_release_puts_unattempted_claims_back(outbox):
    outbox.prepare(make_items(2))
    outbox.approve("rank-1")
    batch = outbox.claim(2)
    outbox.release([c.key for c in batch])
    assert outbox.counts()[APPROVED] == 2
    assert all(r.attempts == 0 for r in outbox.rows())


def test_retry_failed_requeues_with_a_fresh_budget(outbox):
    outbox.prepare(make_items(2))
    outbox.approve("rank-1")
    for c in outbox.claim(2):
        outbox.record(c.key, FAILED, "550 5.1.1 no such user")
    assert outbox.retry_failed() == 2
    assert outbox.counts()[RETRY] == 2
    assert all(c.attempts == 1 for c in outbox.claim(2))


def test_bad_items_are_refused_before_anything_is_stored(outbox):
    good = make_items(2)
    bad = dataclasses.replace(good[1], recipient="x@example.com\r\nRCPT TO:<y@evil.example>")
    with pytest.raises(ValueError, match="line break"):
        outbox.prepare([good[0], bad])
    with pytest.raises(ValueError, match="twice"):
        outbox.prepare([good[0], good[0]])
    assert outbox.counts()[PREPARED] == 0


def test_rows_refuses_unknown_states(outbox):
    with pytest.raises(ValueError, match="unknown state"):
        outbox.rows("done")


def test_item_key():
    item = OutboxItem("r", "s", "k", "a@example.com", "b@example.com", "<x@y.z>", b"x", "h")
    assert item.key == ("r", "s", "k")


def test_concurrent_senders_never_claim_the_same_row(make_outbox):
    """Two senders (two connections) claiming at once: every row is taken exactly once."""
    first = make_outbox()
    first.prepare(make_items(60))
    first.approve("rank-1")
    boxes = [first, make_outbox()]
    taken: list[list] = [[], []]
    start = threading.Barrier(2)

    def sender(i):
        start.wait()
        while batch := boxes[i].claim(3):
            taken[i].extend(c.key for c in batch)
            for c in batch:
                boxes[i].record(c.key, SENT, "250 OK")

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken[0]) + len(taken[1]) == 60
    assert not set(taken[0]) & set(taken[1])
    assert first.counts()[SENT] == 60


def test_bodies_are_stored_once_and_replaced_ones_are_kept(outbox):
    outbox.prepare(make_items(2))
    outbox.prepare(make_items(2, title_suffix="（修订）"), replace_unsent=True)
    with outbox.backend.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM outbox_bodies")
        assert cur.fetchone()[0] == 4  # the first version stays on record
