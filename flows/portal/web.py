"""What every portal request shares: the workspace, the store, the limits, page rendering.

One `Portal` per app. Pages are Jinja2 templates under flows/portal/templates,
autoescaped (every value from a file or a form is escaped), rendered on the
server; no script is needed to use them.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from pathlib import Path

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from flows.portal.context import ContextCache, RoundContext
from flows.portal.security import FailureLimiter, client_key, csrf_ok, csrf_token
from flows.portal.settings import PortalSettings
from flows.portal.store import Link, PortalStore, sha256_text
from flows.state import RoundState
from flows.workspace import Workspace
from scoring.errors import RoundsError

log = logging.getLogger("rounds.portal")

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "rounds_portal"


class Refused(Exception):
    """Answer with a page and a status (the message is Chinese, for the person at the browser)."""

    def __init__(self, status: int, title: str, message: str = ""):
        self.status, self.title, self.message = status, title, message
        super().__init__(title)


NOT_FOUND = ("链接无效或已失效", "请使用邮件中收到的专属链接进入。链接如已过期、被撤销或无法打开，请与项目管理人员联系。")


@dataclass
class Portal:
    ws: Workspace
    settings: PortalSettings

    def __post_init__(self) -> None:
        self.store = PortalStore(self.ws.out / "portal.sqlite")
        self.secret = self.store.secret()
        self.contexts = ContextCache(self.ws)
        self.limiter = FailureLimiter(self.settings.failed_limit, self.settings.failed_window)
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                                      autoescape=jinja2.select_autoescape(("html", "j2")),
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    # --- shared helpers ----------------------------------------------------------------------
    def now(self):
        return self.settings.clock()

    def context(self) -> RoundContext:
        """The round as the workspace says now; a workspace broken while the portal runs is a 503 page."""
        try:
            return self.contexts.get()
        except RoundsError as err:
            log.error("the workspace cannot be read: %s", "; ".join(err.lines()))
            raise Refused(503, "评审数据暂不可用", "项目管理人员正在更新评审数据，请稍后再试。您已提交的评分不受影响。") from None

    def audit(self, actor: str, action: str, subject: str = "", **detail: object) -> None:
        RoundState(self.ws.state_db).log(actor, action, subject, **detail)

    def locked(self) -> str | None:
        return self.store.get_meta("locked")

    def page(self, request: Request, template: str, status: int = 200, **values) -> HTMLResponse:
        prefix = request.scope.get("root_path", "").rstrip("/")
        try:
            ctx = self.contexts.get()
        except Exception:  # a page about a broken workspace still renders
            ctx = None
        html = self.env.get_template(template).render(
            prefix=prefix, round_title=ctx.round_title if ctx else "专家评审", **values)
        return HTMLResponse(html, status_code=status, headers={
            "Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'; base-uri 'none'"})

    # --- links and sessions ------------------------------------------------------------------
    def check_blocked(self, request: Request, key_prefix: str = "") -> None:
        if self.limiter.blocked(key_prefix + client_key(request.scope)):
            raise Refused(429, "尝试次数过多", "失败的尝试过多，请稍后再试。")

    def open_link(self, request: Request, token: str) -> Link:
        """The live link of this token, or a 404 that never says whether it was wrong, expired or revoked."""
        self.check_blocked(request)
        digest = sha256_text(token)
        link = self.store.link(digest) if 20 <= len(token) <= 100 else None
        if link is None or not hmac.compare_digest(link.token_sha256, digest) or not link.valid_at(self.now()):
            self.limiter.fail(client_key(request.scope))
            raise Refused(404, *NOT_FOUND)
        return link

    def session(self, request: Request) -> tuple[Link, str]:
        """(the link, the session digest) of the browser's session cookie, or 404."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Refused(404, *NOT_FOUND)
        self.check_blocked(request)
        digest = sha256_text(cookie)
        link = self.store.session_link(digest) if len(cookie) <= 100 else None
        if link is None or not link.valid_at(self.now()):
            self.limiter.fail(client_key(request.scope))
            raise Refused(404, *NOT_FOUND)
        return link, digest

    def csrf_for(self, subject: str) -> str:
        return csrf_token(self.secret, subject)

    def require_csrf(self, subject: str, given: object) -> None:
        if not csrf_ok(self.secret, subject, given if isinstance(given, str) else None):
            raise Refused(403, "页面已过期", "表单校验失败（缺少或错误的安全令牌）。请返回评分页面刷新后重试。")
