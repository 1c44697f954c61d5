"""A sender killed mid-batch (SIGKILL): afterwards every notice is delivered exactly once,
except the few flagged ambiguous, and a further run sends nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from notices.deliver import deliver
from notices.mailer import SmtpMailer, SmtpSettings
from notices.outbox import AMBIGUOUS, SENDING, SENT, Outbox
from smtp_servers import FaultyServer, make_items, received_ids

REPO = Path(__file__).resolve().parents[2]
N = 240
CONNECTIONS, CLAIM_BATCH = 2, 4

SENDER_SCRIPT = textwrap.dedent("""
    import sys
    from notices.deliver import deliver
    from notices.mailer import SmtpMailer, SmtpSettings
    from notices.outbox import Outbox

    outbox, port = sys.argv[1], int(sys.argv[2])
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=10, connections={connections})
    deliver(Outbox(outbox), SmtpMailer(settings), claim_batch={claim_batch})
""").format(connections=CONNECTIONS, claim_batch=CLAIM_BATCH)


def test_killed_sender_then_recover_delivers_each_notice_once(tmp_path):
    db = tmp_path / "out" / "outbox.sqlite"
    box = Outbox(db)
    box.prepare(make_items(N))
    assert box.approve("rank-1") == N
    script = tmp_path / "sender.py"
    script.write_text(SENDER_SCRIPT)
    mail = tmp_path / "mail"
    # every message is stored *before* a 10 ms pause and its 250: a kill in that pause leaves a
    # message the server has but the outbox does not know was accepted - the real duplicate window
    slow = lambda call: ("slow", 0.01) if call.phase == "data" else None
    with FaultyServer(mail, slow) as server:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, str(script), str(db), str(server.port)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(server.store.received) < N // 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sender made no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        before = len(server.store.received)
        assert before < N, "the sender finished before it could be killed"

        counts = box.counts()
        assert counts[SENDING] >= 1  # the kill left claims behind
        assert counts[SENT] + counts[SENDING] >= before - CONNECTIONS
        recovered = box.recover()
        assert recovered == counts[SENDING] and recovered <= CONNECTIONS * CLAIM_BATCH
        assert box.counts()[AMBIGUOUS] == recovered

        settings = SmtpSettings(host="127.0.0.1", port=server.port, timeout=10, connections=CONNECTIONS)
        report = deliver(box, SmtpMailer(settings))
        assert report.counts[SENT] == N and report.sent_now == N - counts[SENT]
        assert len(report.ambiguous) == recovered

        copies = received_ids(mail)
        flagged = {r.message_id for r in box.rows(ambiguous=True)}
        assert set(copies) == {r.message_id for r in box.rows()}  # nothing lost
        assert all(n == 1 for mid, n in copies.items() if mid not in flagged)  # exactly once
        assert all(n <= 2 for n in copies.values())  # a flagged one at most twice

        total = sum(copies.values())
        rerun = deliver(box, SmtpMailer(settings))
        assert rerun.sent_now == 0 and sum(received_ids(mail).values()) == total
    box.close()
