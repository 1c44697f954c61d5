"""An embedded SMTP server that keeps what it receives: the demo's and the tests' mailbox.

aiosmtpd runs in a background thread with its own event loop, bound with
`loop.create_server(..., port=0)` (aiosmtpd's Controller cannot bind port 0)
so parallel tests never fight over a port. Every message is stored verbatim
as `<directory>/<message-id>.eml`; a second copy of the same Message-ID is
kept as `<message-id>.2.eml` - a duplicate must be visible, never overwritten.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import re
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable

from aiosmtpd.smtp import SMTP

from notices.message import eml_filename

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.I | re.M)


class SmtpServerThread:
    """Any aiosmtpd handler on 127.0.0.1 in a thread; `port` is known after start().

    `smtp_options` go to aiosmtpd's SMTP (auth, require_starttls, tls_context,
    command_call_limit, ...). Used by MailCatcher and by the fault-injecting
    servers of the tests.
    """

    def __init__(self, handler: Any, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True,
                 **smtp_options: Any):
        self.handler = handler
        self.quiet = quiet
        self.host = host
        self.port = port
        self.smtp_options = {"hostname": "rounds-catcher", **smtp_options}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _factory(self) -> SMTP:
        return SMTP(self.handler, **self.smtp_options)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(loop.create_server(self._factory, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def start(self) -> "SmtpServerThread":
        if self._thread is not None:
            return self
        if self.quiet:
            # aiosmtpd logs every client that hangs up mid-session as an ERROR with a traceback;
            # for an embedded test or demo server that is noise, not news
            logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=f"smtp-{self.host}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            self._thread = None
            raise RuntimeError(f"cannot start SMTP server on {self.host}:{self.port}: {self._error}")
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` in the server's loop thread (e.g. to change behaviour between tests)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn)

    def __enter__(self) -> "SmtpServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message_id: str
    path: Path


class MailStore:
    """Writes received messages into a folder, never overwriting; thread-safe."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def store(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> Received:
        head = content.split(b"\r\n\r\n", 1)[0]
        match = _MESSAGE_ID.search(head)
        message_id = match.group(1).decode("ascii", "replace") if match else ""
        name = eml_filename(message_id or repr(content[:200]))
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / name
            copy = 1
            while True:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                    break
                except FileExistsError:
                    copy += 1
                    path = self.directory / f"{name[:-4]}.{copy}.eml"
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            item = Received(mail_from, tuple(rcpt_tos), message_id, path)
            self.received.append(item)
        return item


class _StoreHandler:
    def __init__(self, store: MailStore):
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.store.store(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 2.0.0 Message accepted"


class MailCatcher:
    """An SMTP server on 127.0.0.1 that stores every message under `directory`.

    with MailCatcher(out / "mail") as catcher:
        settings = SmtpSettings(host=catcher.host, port=catcher.port, ...)
    """

    def __init__(self, directory: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0):
        self.directory = Path(directory)
        self.host = host
        self.store = MailStore(self.directory)
        self._server = SmtpServerThread(_StoreHandler(self.store), host=host, port=port)

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def received(self) -> list[Received]:
        """What this catcher received since it started, in order."""
        return list(self.store.received)

    def start(self) -> "MailCatcher":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "MailCatcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def paths(self) -> list[Path]:
        """Every .eml in the folder (including earlier runs'), by name."""
        return sorted(self.directory.glob("*.eml")) if self.directory.exists() else []

    def messages(self) -> list[EmailMessage]:
        """Every stored message parsed with the modern policy, so Chinese headers read decoded."""
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
                for p in self.paths()]
