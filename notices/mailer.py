"""Sending one message, behind a small interface: SMTP for real, .eml files for a preview.

A `Mailer` never raises for what a server says or for a dropped connection:
it returns a `SendResult` that classifies the outcome, and the deliverer
decides what that means for the outbox (sent, retry, failed, halt). Nothing
connects in a constructor and nothing reads the environment at import time;
`SmtpSettings.from_env` reads it when the shell asks.
"""
from __future__ import annotations

import asyncio
import os
import re
import ssl
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, Mapping, Protocol

import aiosmtplib

from notices.message import eml_filename, validate_address
from scoring.errors import ConfigError

Status = Literal["sent", "temporary", "permanent", "halt", "unavailable"]

#: Replies that mean "stop and wait", not "bad address": sending quotas and rate limits.
QUOTA = re.compile(r"quota|rate.?limit|too many (messages|mails|emails|connections)|sending limit|"
                   r"limit exceeded|exceeded.*limit|\b[45]\.4\.5\b|\b4\.7\.28\b|SubmissionQuota", re.I)
#: Reply codes of authentication problems: every further message would fail the same way.
AUTH_CODES = frozenset({530, 534, 535, 538})


@dataclass(frozen=True)
class SendResult:
    """What happened to one message.

    sent: the server replied 250 to the data. temporary: 4xx, a disconnect or
    a timeout - try again later. permanent: 5xx for this message. halt: every
    further message would fail too (credentials, quota, TLS required) - stop
    the run. unavailable: the server could not be reached; nothing was sent.
    `uncertain` marks failures after the message data was handed over: the
    server may have accepted it.
    """

    status: Status
    reply: str
    uncertain: bool = False


class Mailer(Protocol):
    #: how many messages this mailer sends at once (the deliverer runs that many workers)
    concurrency: int
    rate_per_minute: int | None

    async def send(self, *, sender: str, recipient: str, body: bytes, message_id: str) -> SendResult: ...

    async def aclose(self) -> None: ...


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name}={env[name]!r} is not a yes/no value (use true or false)")


def _env_int(env: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range ({low}..{high})")
    return value


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    #: True: STARTTLS required; False: never; None: upgrade when the server offers it
    starttls: bool | None = None
    mail_from: str = ""
    from_name: str = ""
    connections: int = 4
    rate_per_minute: int | None = None
    timeout: float = 30.0
    #: a CA bundle for relays with an internal certificate authority
    ca_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SmtpSettings | None":
        """Read ROUNDS_SMTP_* and ROUNDS_MAIL_FROM; None when ROUNDS_SMTP_HOST is unset (no server).

        Every mistake is a ConfigError naming the variable. ROUNDS_MAIL_FROM is
        optional here: each stored notice carries its own envelope sender.
        """
        env = os.environ if env is None else env
        host = env.get("ROUNDS_SMTP_HOST", "").strip()
        if not host:
            return None
        raw_from = env.get("ROUNDS_MAIL_FROM", "")
        if "\r" in raw_from or "\n" in raw_from:
            raise ConfigError("ROUNDS_MAIL_FROM contains a line break")
        name, address = parseaddr(raw_from) if raw_from.strip() else ("", "")
        if raw_from.strip():
            try:
                address = validate_address(address)
            except ValueError as exc:
                raise ConfigError(f"ROUNDS_MAIL_FROM: {exc}") from None
        user = env.get("ROUNDS_SMTP_USER") or None
        password = env.get("ROUNDS_SMTP_PASSWORD") or None
        if bool(user) != bool(password):
            raise ConfigError("set both ROUNDS_SMTP_USER and ROUNDS_SMTP_PASSWORD, or neither")
        timeout = env.get("ROUNDS_SMTP_TIMEOUT", "").strip()
        try:
            timeout_s = float(timeout) if timeout else 30.0
        except ValueError:
            raise ConfigError(f"ROUNDS_SMTP_TIMEOUT={timeout!r} is not a number of seconds") from None
        if not 0 < timeout_s <= 600:
            raise ConfigError(f"ROUNDS_SMTP_TIMEOUT={timeout_s} is out of range (0..600 seconds)")
        return cls(
            host=host,
            port=_env_int(env, "ROUNDS_SMTP_PORT", 25, 1, 65535) or 25,
            user=user,
            password=password,
            starttls=_env_bool(env, "ROUNDS_SMTP_STARTTLS"),
            mail_from=address,
            from_name=name.strip(),
            connections=_env_int(env, "ROUNDS_SMTP_CONNECTIONS", 4, 1, 64) or 4,
            rate_per_minute=_env_int(env, "ROUNDS_SMTP_RATE_PER_MINUTE", None, 1, 1_000_000),
            timeout=timeout_s,
            ca_file=env.get("ROUNDS_SMTP_CA_FILE") or None,
        )


def classify(code: int, message: str) -> SendResult:
    """Turn an SMTP reply into what the deliverer should do with the message."""
    reply = f"{code} {message}".strip()
    if code == 503:  # bad sequence of commands: the connection's state, not the message, is wrong
        return SendResult("temporary", reply)
    if QUOTA.search(message):
        return SendResult("halt", f"the server refused for a sending quota or rate limit: {reply}")
    if code in AUTH_CODES:
        return SendResult("halt", f"the server requires authentication or refused it: {reply}")
    if 400 <= code < 500:
        return SendResult("temporary", reply)
    if 500 <= code < 600:
        return SendResult("permanent", reply)
    return SendResult("temporary", reply)


class _Connection:
    """One reused SMTP connection; connects (STARTTLS, login) on first use and after any failure."""

    def __init__(self, settings: SmtpSettings, tls_context: ssl.SSLContext | None):
        self.settings = settings
        self.tls_context = tls_context
        self.smtp: aiosmtplib.SMTP | None = None

    async def get(self) -> aiosmtplib.SMTP:
        if self.smtp is not None and self.smtp.is_connected:
            return self.smtp
        self.drop()
        s = self.settings
        smtp = aiosmtplib.SMTP(hostname=s.host, port=s.port, timeout=s.timeout, start_tls=s.starttls,
                               username=s.user, password=s.password, tls_context=self.tls_context)
        await smtp.connect()
        self.smtp = smtp
        return smtp

    def drop(self) -> None:
        """Forget the connection without a polite QUIT: its state is unknown."""
        if self.smtp is not None:
            try:
                self.smtp.close()
            except Exception:  # noqa: BLE001 - closing a broken transport may fail; it is gone either way
                pass
            self.smtp = None

    async def quit(self) -> None:
        if self.smtp is not None and self.smtp.is_connected:
            try:
                await asyncio.wait_for(self.smtp.quit(), timeout=min(self.settings.timeout, 5.0))
            except Exception:  # noqa: BLE001 - a failed QUIT changes nothing that was sent
                pass
        self.drop()


class SmtpMailer:
    """aiosmtplib over a pool of `settings.connections` reused connections.

    Each send borrows a connection; after an unexpected exception the
    connection is dropped and reopened on next use (a half-finished MAIL
    transaction would otherwise poison it with "503 nested MAIL").
    """

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.concurrency = settings.connections
        self.rate_per_minute = settings.rate_per_minute
        self._pool: asyncio.LifoQueue[_Connection] | None = None
        self._all: list[_Connection] = []

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.settings.ca_file:
            return ssl.create_default_context(cafile=self.settings.ca_file)
        return None

    def _ensure_pool(self) -> asyncio.LifoQueue[_Connection]:
        if self._pool is None:
            context = self._tls_context()
            self._pool = asyncio.LifoQueue()
            self._all = [_Connection(self.settings, context) for _ in range(self.settings.connections)]
            for conn in self._all:
                self._pool.put_nowait(conn)
        return self._pool

    async def send(self, *, sender: str, recipient: str, body: bytes, message_id: str) -> SendResult:
        pool = self._ensure_pool()
        conn = await pool.get()
        try:
            return await self._send_on(conn, sender, recipient, body)
        finally:
            pool.put_nowait(conn)

    async def _send_on(self, conn: _Connection, sender: str, recipient: str, body: bytes) -> SendResult:
        try:
            smtp = await conn.get()
        except aiosmtplib.SMTPAuthenticationError as exc:
            conn.drop()
            return SendResult("halt", f"SMTP login as {self.settings.user!r} failed: {exc.code} {exc.message}")
        except aiosmtplib.SMTPNotSupported as exc:
            conn.drop()
            return SendResult("halt", f"the SMTP server cannot do what the settings ask: {exc}")
        except aiosmtplib.SMTPResponseException as exc:
            conn.drop()
            result = classify(exc.code, exc.message)
            if result.status == "permanent":  # e.g. 554 at the greeting, 530 "must issue STARTTLS"
                return SendResult("halt", f"the SMTP server refused the session: {result.reply}")
            return SendResult("unavailable", result.reply) if result.status == "temporary" else result
        except (OSError, asyncio.TimeoutError, aiosmtplib.SMTPException) as exc:
            conn.drop()
            where = f"{self.settings.host}:{self.settings.port}"
            if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
                return SendResult("halt", f"TLS with {where} failed: {exc}. If the relay's certificate comes "
                                          f"from an internal authority, set ROUNDS_SMTP_CA_FILE to its CA bundle")
            return SendResult("unavailable", f"cannot connect to {where}: {exc}")
        phase = "mail"
        try:
            await smtp.mail(sender)
            phase = "rcpt"
            await smtp.rcpt(recipient)
            phase = "data"
            response = await smtp.data(body)
            return SendResult("sent", f"{response.code} {response.message}".strip())
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset(conn, exc.code)
            return classify(exc.code, exc.message)
        except (OSError, asyncio.TimeoutError, aiosmtplib.SMTPException) as exc:
            conn.drop()
            what = "timed out" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else "lost the connection"
            return SendResult("temporary", f"{what} during {phase.upper()}: {exc}", uncertain=phase == "data")
        except Exception as exc:  # noqa: BLE001 - unknown state: drop the connection, retry the message
            conn.drop()
            return SendResult("temporary", f"unexpected error during {phase.upper()}: {exc!r}",
                              uncertain=phase == "data")

    @staticmethod
    async def _reset(conn: _Connection, code: int) -> None:
        """After a refusal, RSET so the next MAIL starts clean; drop the connection if that fails."""
        smtp = conn.smtp
        if code in (421, 503) or smtp is None or not smtp.is_connected:
            conn.drop()
            return
        try:
            await smtp.rset()
        except Exception:  # noqa: BLE001 - any failure here means the connection is unusable
            conn.drop()

    async def aclose(self) -> None:
        for conn in self._all:
            await conn.quit()
        self._pool = None
        self._all = []


class EmlMailer:
    """Writes each message to `<directory>/<message-id>.eml` instead of sending it.

    For previews and dry runs: the bytes on disk are exactly those SMTP would
    carry. Written atomically (temporary file, then rename).
    """

    def __init__(self, directory: str | os.PathLike[str], *, rate_per_minute: int | None = None):
        self.directory = Path(directory)
        self.concurrency = 1
        self.rate_per_minute = rate_per_minute

    async def send(self, *, sender: str, recipient: str, body: bytes, message_id: str) -> SendResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / eml_filename(message_id)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)
        return SendResult("sent", f"250 written to {path}")

    async def aclose(self) -> None:
        return None
