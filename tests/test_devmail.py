"""The dev mail sink (aiosmtpd → .eml files), the Inbox reader and the /inbox pages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from zhidu import ROOT
from zhidu.db import reset_engine
from zhidu.devmail import Inbox, start_sink
from zhidu.mail import SmtpMailer, build_message, send_email, set_mailer
from zhidu.templating import local_dt
from zhidu.web.inbox import router, with_top_target


@pytest.fixture
def maildir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    var_dir = tmp_path / "var"
    monkeypatch.setenv("ZHIDU_VAR_DIR", str(var_dir))
    monkeypatch.setenv("ZHIDU_SMTP_HOST", "127.0.0.1")
    monkeypatch.delenv("ZHIDU_SMTP_USER", raising=False)
    reset_engine()
    controller = start_sink("127.0.0.1", 0, var_dir / "mail")
    monkeypatch.setenv("ZHIDU_SMTP_PORT", str(controller.port))
    reset_engine()
    set_mailer(None)
    try:
        yield var_dir / "mail"
    finally:
        controller.stop()
        reset_engine()


def send(subject: str, **extra: object) -> str:
    context = {
        "name": "王五",
        "title": subject,
        "phone": "13912345678",
        "amount": Decimal("88"),
        "deadline": datetime(2026, 12, 3, 1, 5, tzinfo=UTC),
        "note": "无",
        "link": "http://127.0.0.1:8000/approve/abc",
    } | extra
    return send_email(to=["wangwu@example.com"], subject=subject, template="test_message", context=context)


def test_sink_stores_eml_with_envelope_and_inbox_lists_newest_first(maildir: Path) -> None:
    ids = [send("第一封"), send("第二封"), send("第三封")]
    files = sorted(maildir.glob("*.eml"))
    assert len(files) == 3
    assert files[0].read_bytes().startswith(b"X-MailFrom: zhidu@example.com\r\nX-RcptTo: wangwu@example.com\r\n")
    items = Inbox(maildir).list()
    assert [i.subject for i in items] == ["第三封", "第二封", "第一封"]
    assert [i.message_id for i in items] == ids[::-1]
    newest = items[0]
    assert (newest.sender, newest.recipients, newest.has_html) == (
        "制度流程平台 <zhidu@example.com>",
        ["wangwu@example.com"],
        True,
    )
    assert newest.received_at.tzinfo == UTC
    assert items[2].received_at <= items[1].received_at <= newest.received_at


def test_inbox_get_returns_bodies_and_attachments(maildir: Path) -> None:
    send_email(
        to=["wangwu@example.com"],
        subject="带附件",
        template="test_message",
        context={
            "name": "王五",
            "title": "带附件",
            "phone": "13912345678",
            "amount": Decimal("88"),
            "deadline": datetime(2026, 12, 3, 1, 5, tzinfo=UTC),
            "note": "无",
            "link": "http://127.0.0.1:8000/approve/abc",
        },
        attachments=[("整改通知书.pdf", b"%PDF-1.4 test")],
    )
    inbox = Inbox(maildir)
    [item] = inbox.list()
    message = inbox.get(item.id)
    assert message.text is not None and message.text.startswith("王五，您好：\n\n带附件\n\n联系电话：139****5678\n")
    assert message.html is not None and "<td>139****5678</td>" in message.html
    assert [(a.filename, a.content_type, a.content, a.size) for a in message.attachments] == [
        ("整改通知书.pdf", "application/pdf", b"%PDF-1.4 test", 13)
    ]
    with pytest.raises(KeyError):
        inbox.get("20990101T000000000000-deadbeef")
    with pytest.raises(KeyError):
        inbox.get("../../etc/passwd")


def test_inbox_wait_for_polls_until_count(maildir: Path) -> None:
    inbox = Inbox(maildir)
    assert inbox.list() == []
    send("轮询")
    assert [i.subject for i in inbox.wait_for(1, timeout=5)] == ["轮询"]
    with pytest.raises(TimeoutError, match="1 of 2 messages"):
        inbox.wait_for(2, timeout=0.05)


def test_with_top_target_injects_base() -> None:
    assert with_top_target("<html><HEAD lang=x><title>t</title></HEAD></html>") == (
        '<html><HEAD lang=x><base target="_top"><title>t</title></HEAD></html>'
    )
    assert with_top_target("<p>x</p>") == '<base target="_top"><p>x</p>'


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_inbox_pages(maildir: Path, client: TestClient) -> None:
    send("早的一封")
    send("晚的一封", note="<b>加粗</b>")
    [late, early] = Inbox(maildir).list()

    page = client.get("/inbox")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "开发收件箱" in page.text
    assert page.text.index("晚的一封") < page.text.index("早的一封")
    assert f'<a href="/inbox/{late.id}">晚的一封</a>' in page.text
    assert f'<td class="muted">{local_dt(late.received_at)}</td>' in page.text

    detail = client.get(f"/inbox/{late.id}")
    assert detail.status_code == 200
    assert "<h1>晚的一封</h1>" in detail.text
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in detail.text
    assert "&lt;head&gt;&lt;base target=&#34;_top&#34;&gt;" in detail.text
    assert "<pre>王五，您好：\n\n晚的一封\n" in detail.text
    assert "说明：&lt;b&gt;加粗&lt;/b&gt;" in detail.text
    assert "（无附件）" in detail.text

    raw = client.get(f"/inbox/{late.id}/html")
    assert raw.status_code == 200
    assert raw.text == Inbox(maildir).get(late.id).html
    assert "<td>&lt;b&gt;加粗&lt;/b&gt;</td>" in raw.text

    listing = client.get("/inbox/api/messages")
    assert [(m["id"], m["subject"], m["recipients"]) for m in listing.json()] == [
        (late.id, "晚的一封", ["wangwu@example.com"]),
        (early.id, "早的一封", ["wangwu@example.com"]),
    ]
    one = client.get(f"/inbox/api/messages/{early.id}").json()
    assert (one["subject"], one["attachments"], one["text"].splitlines()[4]) == (
        "早的一封",
        [],
        "联系电话：139****5678",
    )

    assert client.get("/inbox/20990101T000000000000-deadbeef").status_code == 404
    assert client.get("/inbox/api/messages/nope").status_code == 404


def test_inbox_attachment_download(maildir: Path, client: TestClient) -> None:
    message = build_message(
        to=["a@example.com"],
        subject="附件下载",
        html="<p>见附件</p>",
        text="见附件",
        attachments=[("报表.csv", b"a,b\n")],
    )
    SmtpMailer.from_settings().send(message)
    [item] = Inbox(maildir).list()
    detail = client.get(f"/inbox/{item.id}")
    assert f'<a href="/inbox/{item.id}/attachments/0">报表.csv</a>' in detail.text
    download = client.get(f"/inbox/{item.id}/attachments/0")
    assert download.status_code == 200
    assert download.content == b"a,b\n"
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''%E6%8A%A5%E8%A1%A8.csv"
    assert client.get(f"/inbox/{item.id}/attachments/1").status_code == 404


def test_empty_inbox_page(maildir: Path, client: TestClient) -> None:
    page = client.get("/inbox")
    assert "暂无邮件" in page.text
    assert client.get("/inbox/api/messages").json() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_devmail_runs_the_sink(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"ZHIDU_VAR_DIR": str(tmp_path), "ZHIDU_SMTP_HOST": "127.0.0.1", "ZHIDU_SMTP_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "zhidu.devmail"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == f"zhidu dev mail sink on 127.0.0.1:{port}, storing in {tmp_path / 'mail'}\n"
        SmtpMailer("127.0.0.1", port).send(
            build_message(to=["a@example.com"], subject="独立运行", html="<p>x</p>", text="x")
        )
        assert [i.subject for i in Inbox(tmp_path / "mail").list()] == ["独立运行"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
