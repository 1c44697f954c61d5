"""The expert's pages: open the link, see own applications, save drafts, upload a sheet, submit.

Every route checks, on the server, the session (a live, unrevoked, unexpired
link), the CSRF token of each form, that scoring is not locked, and for each
application that this expert may score it (assigned, no 回避). Nothing of any
other expert is ever read for these pages.
"""
from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from flows.portal.store import sha256_text
from flows.portal.submit import submit
from flows.portal.uploads import UploadRefused, staged_upload
from flows.portal.validation import FieldProblem, check_score_file, check_values, in_chinese
from flows.portal.web import SESSION_COOKIE, Portal, Refused
from scoring import columns as C

router = APIRouter()


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def _actor(expert_id: str) -> str:
    return f"expert:{expert_id}"


@router.get("/")
def landing(request: Request):
    return _portal(request).page(request, "message.html.j2", title="专家评审",
                                 message="请使用邮件中收到的专属链接进入评分页面。")


@router.get("/e/{token}")
def open_link(request: Request, token: str):
    portal = _portal(request)
    link = portal.open_link(request, token)
    session = secrets.token_urlsafe(32)
    portal.store.add_session(sha256_text(session), link, portal.now())
    portal.audit(_actor(link.expert_id), "portal_opened", link.expert_id, generation=link.generation)
    prefix = request.scope.get("root_path", "").rstrip("/")
    response = RedirectResponse(f"{prefix}/expert", status_code=303)
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax", secure=portal.settings.secure_cookies,
                        path=prefix or "/")
    return response


def _expert_page(request: Request, portal: Portal, expert_id: str, session: str, *, status: int = 200,
                 problems: list[FieldProblem] = (), typed: dict | None = None, notice: str = ""):
    ctx = portal.context()
    drafts = portal.store.drafts(expert_id)
    if typed:
        drafts = {**drafts, **typed}
    latest = portal.store.latest_submission(expert_id)
    expert = ctx.expert(expert_id)
    decimals = ctx.programme.scoring.score_decimals
    return portal.page(
        request, "expert.html.j2", status=status,
        expert=expert, expert_id=expert_id, applications=ctx.applications(expert_id),
        blocked=ctx.blocked.get(expert_id, {}), criteria=ctx.programme.criteria,
        step=str(Decimal(1).scaleb(-decimals)) if decimals else "1", decimals=decimals,
        drafts=drafts, drafts_by_app=_by_app(drafts), latest=latest, locked=portal.locked(), deadline=portal.store.get_meta("deadline") or "",
        problems=list(problems), csrf=portal.csrf_for(session), notice=notice,
    )


def _by_app(drafts: dict[tuple[str, str], str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for (sid, crit), value in drafts.items():
        if value.strip():
            out.setdefault(sid, []).append(crit)
    return out


@router.get("/expert")
def expert_page(request: Request):
    portal = _portal(request)
    link, session = portal.session(request)
    notice = {"saved": "草稿已保存。", "uploaded": "评分表已导入为草稿，请核对后点击“提交评分”。"}.get(
        request.query_params.get("ok", ""), "")
    return _expert_page(request, portal, link.expert_id, session, notice=notice)


def _checked(portal: Portal, form, session: str) -> None:
    portal.require_csrf(session, form.get("csrf"))
    if portal.locked():
        raise Refused(403, "评分已锁定", "项目管理人员已锁定评分，不能再保存或提交。如需更正，请与项目管理人员联系。")


async def _read_form(request: Request):
    return await request.form(max_files=1, max_fields=200)


@router.post("/expert/save/{submission_id}")
async def save_draft(request: Request, submission_id: str):
    form = await _read_form(request)
    return await run_in_threadpool(_save_draft, request, form, submission_id)


def _save_draft(request: Request, form, submission_id: str):
    portal = _portal(request)
    link, session = portal.session(request)
    _checked(portal, form, session)
    ctx = portal.context()
    eid = link.expert_id
    if not ctx.may_score(eid, submission_id):
        portal.audit(_actor(eid), "portal_refused", submission_id, reason="not assigned or conflicted")
        raise Refused(403, "不能为该项目评分", "该项目不在您可评分的项目中（未分配给您，或您需要回避）。")
    values = {(submission_id, c.id): str(form.get(f"c.{c.id}", "") or "").strip() for c in ctx.programme.criteria}
    problems = check_values(ctx, eid, values, partial=True)
    if problems:
        return _expert_page(request, portal, eid, session, status=422, problems=problems, typed=values)
    portal.store.save_drafts(eid, values, portal.now())
    portal.audit(_actor(eid), "portal_draft_saved", submission_id,
                 values={c: v for (_, c), v in values.items() if v})
    prefix = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{prefix}/expert?ok=saved#app-{submission_id}", status_code=303)


def _units_text(units: int, decimals: int) -> str:
    text = format(Decimal(int(units)).scaleb(-decimals), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@router.post("/expert/upload")
async def upload_sheet(request: Request):
    form = await _read_form(request)
    upload = form.get("file")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else None
    return await run_in_threadpool(_upload_sheet, request, form, data, getattr(upload, "filename", None))


def _upload_sheet(request: Request, form, data: bytes | None, filename: str | None):
    portal = _portal(request)
    link, session = portal.session(request)
    _checked(portal, form, session)
    eid = link.expert_id
    ctx = portal.context()
    if data is None:
        raise Refused(400, "没有选择文件", "请选择要上传的评分表（.xlsx 或 .csv）。")
    digest = hashlib.sha256(data).hexdigest()
    try:
        with staged_upload(data, filename, portal.settings) as path:
            frame, found = check_score_file(ctx, eid, path, "上传的评分表")
    except UploadRefused as err:
        portal.audit(_actor(eid), "portal_upload_refused", eid, sha256=digest, size=len(data), reason=str(err))
        return _expert_page(request, portal, eid, session, status=422, problems=[FieldProblem(None, None, str(err))])
    if found:
        portal.audit(_actor(eid), "portal_upload_refused", eid, sha256=digest, size=len(data),
                     problems=[str(p) for p in found][:50])
        return _expert_page(request, portal, eid, session, status=422,
                            problems=[FieldProblem(None, None, in_chinese(p, ctx)) for p in found])
    decimals = ctx.programme.scoring.score_decimals
    values = {(s, c): _units_text(u, decimals) for s, c, u in
              zip(frame[C.SUBMISSION_ID], frame[C.CRITERION], frame[C.SCORE_UNITS])}
    portal.store.save_drafts(eid, values, portal.now())
    portal.audit(_actor(eid), "portal_sheet_uploaded", eid, sha256=digest, size=len(data),
                 applications=len({s for s, _ in values}))
    prefix = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{prefix}/expert?ok=uploaded", status_code=303)


@router.post("/expert/submit")
async def submit_scores(request: Request):
    form = await _read_form(request)
    return await run_in_threadpool(_submit_scores, request, form)


def _submit_scores(request: Request, form):
    portal = _portal(request)
    link, session = portal.session(request)
    _checked(portal, form, session)
    eid = link.expert_id
    _, problems = submit(portal.store, portal.ws, portal.context(), eid, portal.now)
    if problems:
        portal.audit(_actor(eid), "portal_submit_refused", eid, problems=[p.text for p in problems][:50])
        return _expert_page(request, portal, eid, session, status=422, problems=problems)
    prefix = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{prefix}/expert/submitted", status_code=303)


@router.get("/expert/submitted")
def submitted(request: Request):
    portal = _portal(request)
    link, _ = portal.session(request)
    latest = portal.store.latest_submission(link.expert_id)
    if latest is None:
        raise Refused(404, "尚未提交", "您还没有提交评分。")
    ctx = portal.context()
    return portal.page(request, "submitted.html.j2", expert=ctx.expert(link.expert_id), latest=latest,
                       n_apps=len(ctx.applications(link.expert_id)), deadline=portal.store.get_meta("deadline") or "")
