"""Headless Chromium (Debian's): open the inbox, follow the link in the mail, approve, see the confirmation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from sqlmodel import Session

from models.approval import ApprovalRequest, RequestStatus
from tests.conftest import Zhidu, clear_caches
from tests.prefect_stack import free_port, poll
from tests.test_approvals import open_step, spec
from zhidu.db import get_engine, utcnow

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def web(zhidu: Zhidu, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The web service on a real port, its links pointing at itself."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ZHIDU_PUBLIC_URL", base)
    clear_caches()
    from zhidu.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    poll(lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200, 30, "the web service")
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def test_inbox_link_approve_confirmation(zhidu: Zhidu, web: str) -> None:
    req, _ = open_step(spec(title="浏览器测试事项", deadline=utcnow() + timedelta(days=1)))
    zhidu.inbox.wait_for(1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.goto(f"{web}/inbox")
        page.get_by_text("【待审批】浏览器测试事项").first.click()
        page.frame_locator("iframe").get_by_text("打开审批页面").click()
        page.wait_for_url(f"{web}/a/**")
        assert "浏览器测试事项" in page.locator("h1").inner_text()
        page.fill("textarea[name=comment]", "同意，按期办理")
        page.click("#approve")
        confirmation = page.locator("#confirmation").inner_text()
        browser.close()
    assert "已提交" in confirmation and "同意" in confirmation
    with Session(get_engine()) as session:
        row = session.get(ApprovalRequest, req.id)
        assert row is not None and row.status == RequestStatus.approved and row.comment == "同意，按期办理"
