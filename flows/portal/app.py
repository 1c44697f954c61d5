"""The portal's FastAPI application: `create_app(workspace, settings=...)`.

On creation it opens (or makes) out/portal.sqlite, finishes any submission a
crash interrupted (`submit.recover`), and checks that the round can be read,
so a misconfigured workspace fails at start, not at the first expert's click.
Errors are pages in Chinese with the right status; no traceback reaches a browser.
"""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from flows.portal import expert_routes, manage_routes
from flows.portal.security import BodyLimit
from flows.portal.settings import PortalSettings
from flows.portal.submit import recover
from flows.portal.web import Portal, Refused
from flows.workspace import Workspace

log = logging.getLogger("rounds.portal")

_STATUS_TEXT = {400: "请求有误", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作", 413: "上传内容过大",
                422: "请求有误", 429: "尝试次数过多"}


def create_app(workspace: Path | str, *, settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    ws = Workspace.at(workspace)
    portal = Portal(ws, settings)
    recovered = recover(portal.store, ws, settings.clock)
    if recovered:
        log.warning("finished %d submission(s) interrupted by a crash", recovered)
    portal.context()  # fail now on a workspace the portal cannot serve

    app = FastAPI(title="rounds portal", root_path=settings.root_path, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.portal = portal
    app.include_router(expert_routes.router)
    app.include_router(manage_routes.router)
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)

    @app.exception_handler(Refused)
    async def refused(request: Request, err: Refused):
        return portal.page(request, "message.html.j2", status=err.status, title=err.title, message=err.message)

    @app.exception_handler(manage_routes.NeedsLogin)
    async def needs_login(request: Request, err: Exception):
        return PlainTextResponse("需要管理员密码", status_code=401,
                                 headers={"WWW-Authenticate": 'Basic realm="rounds portal", charset="UTF-8"'})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException):
        title = _STATUS_TEXT.get(err.status_code, "请求未能完成")
        message = "请求内容过大。评分表通常远小于上限；请检查是否选错了文件。" if err.status_code == 413 else ""
        return portal.page(request, "message.html.j2", status=err.status_code, title=title, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        return portal.page(request, "message.html.j2", status=400, title="请求有误", message="")

    @app.exception_handler(Exception)
    async def crashed(request: Request, err: Exception):
        log.exception("portal request failed: %s %s", request.method, request.url.path)
        return HTMLResponse("<!DOCTYPE html><meta charset='utf-8'><title>服务器错误</title>"
                            "<p>服务器内部错误，您的已提交内容不受影响。请稍后重试，或联系项目管理人员。</p>",
                            status_code=500)

    return app
