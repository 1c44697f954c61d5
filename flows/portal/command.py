"""`rounds portal DIR`: serve the experts' portal, or issue, send and revoke their links.

    rounds portal DIR [--host 127.0.0.1] [--port 8765] [--root-path /portal] [--base-url URL]
    rounds portal DIR --links [--deadline 2026-09-30] [--send] [--expert ID ...] [--reissue]
    rounds portal DIR --send                 # deliver queued link and reminder e-mails
    rounds portal DIR --revoke EXPERT_ID

Kept here so flows/cli.py only needs a parser hook and one dispatch line.
"""
from __future__ import annotations

import argparse

from flows.portal.settings import PortalSettings


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--root-path", default="", metavar="PREFIX",
                   help="path prefix under which a reverse proxy serves the portal, e.g. /portal")
    p.add_argument("--base-url", metavar="URL",
                   help="public address the links start with (default http://HOST:PORT plus --root-path)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--links", action="store_true",
                        help="issue a personal link to every assigned expert who has none (printed, or --send)")
    action.add_argument("--revoke", metavar="EXPERT_ID", help="revoke an expert's link (and end their sessions)")
    p.add_argument("--deadline", metavar="ISO",
                   help="scoring deadline, when the links expire (a date means the end of that day, Beijing time)")
    p.add_argument("--send", action="store_true",
                   help="mail the links through the outbox (ROUNDS_SMTP_*) instead of printing them; "
                        "alone, deliver queued link and reminder e-mails")
    p.add_argument("--expert", action="append", metavar="ID", help="with --links: only this expert (repeatable)")
    p.add_argument("--reissue", action="store_true", help="with --links: revoke live links and issue new ones")


def _settings(args: argparse.Namespace) -> PortalSettings:
    root = args.root_path.rstrip("/")
    if root and not root.startswith("/"):
        root = "/" + root
    base = args.base_url or f"http://{args.host}:{args.port}{root}"
    return PortalSettings.from_env(base_url=base, root_path=root)


def run(args: argparse.Namespace) -> int:
    from flows.portal.context import load_context
    from flows.portal.links import deliver_queued, issue_links, parse_deadline, revoke_link, round_deadline
    from flows.portal.store import PortalStore
    from flows.workspace import Workspace
    from scoring.errors import ConfigError, RoundsError

    ws = Workspace.at(args.dir)
    settings = _settings(args)
    store = PortalStore(ws.out / "portal.sqlite")
    if (args.expert or args.reissue or args.deadline) and not args.links:
        raise RoundsError("--expert, --reissue and --deadline go with --links")
    if args.revoke:
        n = revoke_link(ws, store, args.revoke, "manager:cli", settings.clock)
        print(f"Revoked {n} link(s) of {args.revoke}; their open sessions end now.")
        return 0
    if args.links:
        from notices.mailer import SmtpSettings

        if args.send and SmtpSettings.from_env() is None:
            raise ConfigError("--send needs a mail server: set ROUNDS_SMTP_HOST (and ROUNDS_SMTP_PORT, "
                              "ROUNDS_MAIL_FROM, ...); or leave out --send to print the links")
        ctx = load_context(ws)
        deadline = parse_deadline(args.deadline) if args.deadline else round_deadline(ctx)
        if deadline is None:
            raise ConfigError("give the scoring deadline: --deadline 2026-09-30 (or 2026-09-30T17:30)")
        report = issue_links(ws, ctx, store, base_url=settings.base_url, deadline=deadline, clock=settings.clock,
                             send=args.send, experts=args.expert, reissue=args.reissue, actor="manager:cli")
        for eid, name, url in report.issued:
            print(f"{eid}\t{name}\t{url}")
        if report.issued:
            print(f"{len(report.issued)} link(s) above, valid until {deadline.isoformat(timespec='minutes')}; "
                  "they are shown only now (only their hashes are kept): pass each to its expert privately.")
        if report.kept:
            print(f"{len(report.kept)} expert(s) already have a live link (use --reissue to replace): "
                  + ", ".join(report.kept))
        for line in report.undeliverable:
            print(f"not sent, invalid e-mail address: {line}")
        if not args.send:
            return 0
    elif not args.send:
        return serve(ws, settings, args.host, args.port)
    delivery = deliver_queued(ws, load_context(ws).config.round_id)
    if not delivery.configured:
        raise ConfigError("--send needs a mail server: set ROUNDS_SMTP_HOST (and ROUNDS_SMTP_PORT, ROUNDS_MAIL_FROM, ...)")
    print(f"Sent {delivery.sent} e-mail(s) (links and reminders) through the outbox.")
    for line in delivery.problems:
        print(f"  {line}")
    if delivery.halted:
        print(f"halted: {delivery.halted}")
    return 0 if not delivery.problems and not delivery.halted else 6


def serve(ws, settings: PortalSettings, host: str, port: int) -> int:
    """One portal process per workspace (held by a lock on out/portal.lock while it runs)."""
    import fcntl

    import uvicorn

    from flows.portal.app import create_app
    from scoring.errors import ConfigError

    ws.out.mkdir(exist_ok=True)
    lock = open(ws.out / "portal.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(f"another portal is already serving {ws.root}; stop it first") from None
    app = create_app(ws.root, settings=settings)
    who = "HTTP Basic (ROUNDS_PORTAL_MANAGER_PASSWORD)" if settings.manager_password else "this machine only"
    print(f"Portal of {ws.root} on http://{host}:{port}{settings.root_path or ''}/ "
          f"(links start {settings.base_url}/e/…; manager view /manage: {who}). Ctrl+C stops it.")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                log_level="warning", server_header=False)
    return 0
