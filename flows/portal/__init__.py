"""Experts score through a web page of their own (`rounds portal DIR`).

    create_app(workspace, settings=PortalSettings(...)) -> FastAPI

Modules: settings (limits, credentials), store (out/portal.sqlite), context
(what the round says: who may score what), validation (the one score
validation, messages in Chinese), uploads (content checks of xlsx/csv),
submit (journaled atomic submission), links (personal links, reminders, the
outbox), security (rate limit, body limit, CSRF, local-only), web / app /
expert_routes / manage_routes (the FastAPI app), command (the CLI).
"""
from __future__ import annotations

from flows.portal.settings import PortalSettings

__all__ = ["PortalSettings", "create_app"]


def create_app(workspace, *, settings: PortalSettings | None = None):
    """Build the portal's FastAPI app for one round workspace (imported lazily: FastAPI is heavy)."""
    from flows.portal.app import create_app as _create

    return _create(workspace, settings=settings)
