"""The manager's view (/manage): progress per expert, reminders, revoking links, locking scoring.

Access: with ROUNDS_PORTAL_MANAGER_PASSWORD set, HTTP Basic with that password
(any user name, recorded as the actor `manager:<name>`) — use it only over the
reverse proxy's TLS. Without it, only local requests: from 127.0.0.1 or ::1
with no proxy header, i.e. a browser on the portal's own machine. Failed
passwords count towards the same per-address limit as failed links. Every
form carries a CSRF token bound to the manager's name.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from flows.portal.links import deliver_queued, queue_reminders, revoke_link
from flows.portal.security import client_key, is_local
from flows.portal.web import Portal, Refused

router = APIRouter(prefix="/manage")


class NeedsLogin(Exception):
    """401 with a Basic challenge."""


def manager(request: Request) -> str:
    """The manager's name for the audit log, or a refusal."""
    portal: Portal = request.app.state.portal
    password = portal.settings.manager_password
    if not password:
        if is_local(request.scope):
            return "manager:local"
        raise Refused(403, "仅限本机访问", "管理页面只接受本机（127.0.0.1）直接访问；通过反向代理访问时请设置 "
                                       "ROUNDS_PORTAL_MANAGER_PASSWORD 并使用 HTTPS。")
    portal.check_blocked(request, "manage:")
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    user, given = "", ""
    if scheme.lower() == "basic":
        try:
            user, _, given = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, given = "", ""
    if not hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8")):
        if header:
            portal.limiter.fail("manage:" + client_key(request.scope))
        raise NeedsLogin()
    return f"manager:{user.strip() or 'manager'}"


def _progress(portal: Portal) -> list[dict]:
    ctx = portal.context()
    now = portal.now()
    latest = portal.store.latest_submissions()
    drafted = portal.store.draft_counts()
    reminders = portal.store.reminder_counts()
    links = portal.store.links()
    n_crit = len(ctx.programme.criteria)
    rows = []
    for eid in ctx.assigned_experts():
        expert = ctx.expert(eid)
        mine = [lk for lk in links if lk.expert_id == eid]
        live = [lk for lk in mine if lk.valid_at(now)]
        link_state = ("有效" if live else "已撤销" if mine and mine[-1].revoked_at else "已过期" if mine else "未发放")
        sub = latest.get(eid)
        n_apps = len(ctx.applications(eid))
        rows.append({
            "expert_id": eid, "name": expert.get("name", ""), "apps": n_apps,
            "blocked": len(ctx.blocked.get(eid, {})), "drafted": drafted.get(eid, 0), "needed": n_apps * n_crit,
            "submitted": sub, "link": link_state, "expires": live[-1].expires_at if live else "",
            "reminders": reminders.get(eid, 0),
        })
    return rows


def _page(request: Request, portal: Portal, actor: str, notice: str = ""):
    rows = _progress(portal)
    return portal.page(request, "manage.html.j2", rows=rows, locked=portal.locked(), notice=notice,
                       csrf=portal.csrf_for(actor), batch=secrets.token_urlsafe(12),
                       deadline=portal.store.get_meta("deadline") or "",
                       done=sum(1 for r in rows if r["submitted"]), total=len(rows))


@router.get("")
def manage_page(request: Request):
    portal: Portal = request.app.state.portal
    actor = manager(request)
    return _page(request, portal, actor, notice=request.query_params.get("note", "")[:200])


async def _post(request: Request):
    form = await request.form(max_files=0, max_fields=50)
    return form


def _done(request: Request, note: str):
    from urllib.parse import quote

    prefix = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{prefix}/manage?note={quote(note)}", status_code=303)


@router.post("/lock")
async def lock(request: Request):
    form = await _post(request)
    return await run_in_threadpool(_lock, request, form, True)


@router.post("/unlock")
async def unlock(request: Request):
    form = await _post(request)
    return await run_in_threadpool(_lock, request, form, False)


def _lock(request: Request, form, locking: bool):
    portal: Portal = request.app.state.portal
    actor = manager(request)
    portal.require_csrf(actor, form.get("csrf"))
    portal.store.set_meta("locked", f"{actor} {portal.now().isoformat(timespec='seconds')}" if locking else None)
    portal.audit(actor, "portal_locked" if locking else "portal_unlocked", portal.context().config.round_id)
    return _done(request, "评分已锁定：专家不能再保存或提交。" if locking else "评分已解锁。")


@router.post("/revoke")
async def revoke(request: Request):
    form = await _post(request)
    return await run_in_threadpool(_revoke, request, form)


def _revoke(request: Request, form):
    portal: Portal = request.app.state.portal
    actor = manager(request)
    portal.require_csrf(actor, form.get("csrf"))
    eid = str(form.get("expert_id", ""))
    if eid not in portal.context().assigned_experts():
        raise Refused(404, "没有这位专家", "")
    n = revoke_link(portal.ws, portal.store, eid, actor, portal.now)
    return _done(request, f"已撤销 {eid} 的 {n} 个链接。")


@router.post("/remind")
async def remind(request: Request):
    form = await _post(request)
    return await run_in_threadpool(_remind, request, form)


def _remind(request: Request, form):
    portal: Portal = request.app.state.portal
    actor = manager(request)
    portal.require_csrf(actor, form.get("csrf"))
    batch = str(form.get("batch", ""))[:40] or secrets.token_urlsafe(12)
    ctx = portal.context()
    owing = [r["expert_id"] for r in _progress(portal) if not r["submitted"]]
    wanted = str(form.get("expert_id", "") or "")
    targets = [wanted] if wanted else owing
    if wanted and wanted not in ctx.assigned_experts():
        raise Refused(404, "没有这位专家", "")
    queued, undeliverable = queue_reminders(portal.ws, ctx, portal.store, targets, batch, actor, portal.now)
    note = f"已准备 {len(queued)} 封提醒邮件"
    if undeliverable:
        note += f"；{len(undeliverable)} 位专家邮箱无效：" + "；".join(undeliverable)
    if queued:
        sent = deliver_queued(portal.ws, ctx.config.round_id)
        note += ("；未配置邮件服务器，邮件已保存在发件箱，配置后运行 rounds portal DIR --send 发送" if not sent.configured
                 else f"；已发送 {sent.sent} 封" + (f"；{sent.halted}" if sent.halted else "")
                 + (f"；未送达：{'；'.join(sent.problems)}" if sent.problems else ""))
    return _done(request, note)
