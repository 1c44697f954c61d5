"""Shared helpers for SMTP tests: real aiosmtpd servers on 127.0.0.1, some failing on purpose.

`FaultyServer(directory, plan)` stores what it accepts exactly like the
MailCatcher, but first asks `plan(call)` (a `Call`: phase "rcpt" or "data",
recipient, per-recipient attempt, global count) what to do:

    None                 go on (250)
    "451 ..." / "550 ..." reply that at this phase (message refused)
    ("slow", seconds)    wait before going on (past the client's timeout); at DATA the
                         message is stored first, so a timeout there is a real duplicate
    "drop-after-data"    (data) store the message, then close without a reply
    "421-disconnect"     (data) reply 421 and close the connection

Also: a self-signed certificate (made with `cryptography`) for STARTTLS tests,
notice builders for outbox tests, and `received_ids` to count deliveries.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ssl
from collections import Counter
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

from aiosmtpd.smtp import AuthResult

from notices.catcher import MailStore, SmtpServerThread
from notices.message import build_message, message_id_for
from notices.outbox import OutboxItem
from notices.render import render_notice
from notices.samples import sample_context

KEY = b"k" * 32
ROUND = "2026-scenario"
SENDER = "noreply@gxj.example.gov.cn"
DATE = dt.datetime(2026, 7, 15, 9, 0, tzinfo=dt.timezone.utc)
OUTCOMES = ("selected", "reserve", "not_selected", "ineligible")

Plan = Callable[["Call"], Any]


def make_items(n: int, *, ranking_hash: str = "rank-1", round_id: str = ROUND, kind: str = "result",
               domain: str = "example.com", title_suffix: str = "") -> list[OutboxItem]:
    """n real notices (rendered and built), one per submission, outcomes in rotation."""
    items = []
    for i in range(n):
        outcome = OUTCOMES[i % 4]
        sid = f"SC-{i:05d}"
        ctx = sample_context(outcome)
        ctx["application"] = dict(ctx["application"], submission_id=sid,
                                  title=ctx["application"]["title"] + title_suffix)
        mid = message_id_for(KEY, round_id, sid, kind, "rounds.example.gov.cn")
        recipient = f"user{i}@{domain}"
        body = build_message(render_notice(ctx), sender=SENDER, sender_name="福州市工业和信息化局",
                             recipient=recipient, recipient_name="陈晓明", message_id=mid, date=DATE)
        items.append(OutboxItem(round_id, sid, kind, recipient, SENDER, mid, body, ranking_hash, outcome))
    return items


def received_ids(directory: Path) -> Counter:
    """Message-ID -> how many copies the server stored."""
    out: Counter = Counter()
    for path in sorted(Path(directory).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out[str(msg["Message-ID"])] += 1
    return out


@dataclass(frozen=True)
class Call:
    """What the plan is asked about: phase 'rcpt' or 'data', the recipient, how many times this
    recipient reached this phase (1-based) and how many commands of this phase the server saw."""

    phase: str
    rcpt: str
    attempt: int
    n: int


class _FaultyHandler:
    def __init__(self, store: MailStore, plan: Plan | None):
        self.store = store
        self.plan: Plan = plan or (lambda call: None)
        self.seen: Counter = Counter()

    def _ask(self, phase: str, rcpt: str) -> Any:
        self.seen[(phase, rcpt)] += 1
        self.seen[phase] += 1
        return self.plan(Call(phase, rcpt, self.seen[(phase, rcpt)], self.seen[phase]))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        action = self._ask("rcpt", address)
        if isinstance(action, tuple) and action[0] == "slow":
            await asyncio.sleep(action[1])
        elif action is not None:
            return str(action)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = self._ask("data", envelope.rcpt_tos[0])
        content = envelope.original_content or envelope.content
        if action is None:
            self.store.store(envelope.mail_from, envelope.rcpt_tos, content)
            return "250 2.0.0 OK"
        if action == "drop-after-data":
            self.store.store(envelope.mail_from, envelope.rcpt_tos, content)
            server.transport.close()
            return "250 2.0.0 never seen"
        if action == "421-disconnect":
            await server.push("421 4.3.2 Service shutting down, closing channel")
            server.transport.close()
            return "421 4.3.2 closing"
        if isinstance(action, tuple) and action[0] == "slow":
            self.store.store(envelope.mail_from, envelope.rcpt_tos, content)
            await asyncio.sleep(action[1])
            return "250 2.0.0 OK (late)"
        return str(action)


class FaultyServer:
    """A real aiosmtpd server that stores what it accepts and fails where the plan says."""

    def __init__(self, directory: Path, plan: Plan | None = None, **smtp_options: Any):
        self.store = MailStore(directory)
        self.handler = _FaultyHandler(self.store, plan)
        self.thread = SmtpServerThread(self.handler, **smtp_options)

    @property
    def port(self) -> int:
        return self.thread.port

    def __enter__(self) -> "FaultyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.stop()


def refusing_authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """Every login fails (handled=False, or aiosmtplib waits for a reply that never comes)."""
    return AuthResult(success=False, handled=False)


def accepting_authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = getattr(auth_data, "login", None) == b"sender" and getattr(auth_data, "password", None) == b"secret"
    return AuthResult(success=ok, handled=False)


def self_signed(tmp: Path) -> tuple[ssl.SSLContext, Path] | None:
    """A server TLS context and its certificate (as the client's CA file), or None without cryptography."""
    try:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
