"""The approval web service: approval pages, case pages, and (dev profile) the inbox of the local mail sink."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from zhidu.db import init_db
from zhidu.settings import get_settings
from zhidu.templating import render
from zhidu.web import approval, customers, market, procurement


def create_app() -> FastAPI:
    """The FastAPI app; stateless (everything lives in the database), so several can run side by side."""
    settings = get_settings()
    app = FastAPI(title="zhidu 审批服务", docs_url=None if settings.profile == "prod" else "/docs")
    init_db()
    app.include_router(approval.router)
    for pages in (customers, market, procurement):
        app.include_router(pages.router)
    if settings.profile == "dev":
        from zhidu.web import inbox

        app.include_router(inbox.router)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return HTMLResponse(render("pages/home.html", profile=settings.profile))

    return app
