"""The mail boundary against a real in-process aiosmtpd sink (zhidu.devmail), and the Jinja environment."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, cast

import pytest
from jinja2 import UndefinedError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.mail import SentMail, SentMailStatus
from tests.dbs import new_database_url
from zhidu.db import make_engine, reset_engine
from zhidu.devmail import start_sink
from zhidu.mail import (
    Attachment,
    MailInFlightError,
    SmtpMailer,
    build_message,
    get_mailer,
    send_email,
    sending_stale_after,
    set_mailer,
    use_mailer,
)
from zhidu.settings import get_settings
from zhidu.templating import local_dt, money, render


@dataclass
class MailEnv:
    maildir: Path
    port: int
    engine: Engine

    def messages(self) -> list[EmailMessage]:
        """Every stored .eml, oldest first, parsed straight from disk."""
        return [
            cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(p.read_bytes()))
            for p in sorted(self.maildir.glob("*.eml"))
        ]


@pytest.fixture
def mail_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MailEnv]:
    var_dir = tmp_path / "var"
    monkeypatch.setenv("ZHIDU_VAR_DIR", str(var_dir))
    monkeypatch.setenv("ZHIDU_DATABASE_URL", new_database_url(tmp_path))
    monkeypatch.setenv("ZHIDU_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ZHIDU_SMTP_TLS", "none")
    monkeypatch.delenv("ZHIDU_SMTP_USER", raising=False)
    reset_engine()
    controller = start_sink("127.0.0.1", 0, var_dir / "mail")
    monkeypatch.setenv("ZHIDU_SMTP_PORT", str(controller.port))
    reset_engine()
    engine = make_engine(get_settings().database_url)
    set_mailer(None)
    try:
        yield MailEnv(maildir=var_dir / "mail", port=controller.port, engine=engine)
    finally:
        set_mailer(None)
        controller.stop()
        engine.dispose()
        reset_engine()


DEADLINE = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai


def context(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "李四",
        "title": "质量事件 ZL-2026-001 待您审批",
        "phone": "13800138000",
        "amount": Decimal("1234.5"),
        "deadline": DEADLINE,
        "note": "客户身份证 11010519491231002X，回款卡 6222021234567890123",
        "link": "http://127.0.0.1:8000/a/tok?x=1&y=2",
    }
    return base | overrides


EXPECTED_TEXT = (
    "李四，您好：\n"
    "\n"
    "质量事件 ZL-2026-001 待您审批\n"
    "\n"
    "联系电话：138****8000\n"
    "金额：¥1,234.50\n"
    "截止时间：2026年12月3日 17:30\n"
    "说明：客户身份证 110***********002X，回款卡 6222***********0123\n"
    "\n"
    "同意请点击：http://127.0.0.1:8000/a/tok?x=1&y=2\n"
    "\n"
    "--\n"
    "本邮件由制度流程平台自动发送，请勿直接回复。\n"
)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_send_email_real_text_part_and_chinese_subject(mail_env: MailEnv) -> None:
    message_id = send_email(
        to=["李四 <lisi@example.com>"],
        cc=["wang@example.com"],
        subject="质量事件 ZL-2026-001 待审批",
        template="test_message",
        context=context(),
    )
    [message] = mail_env.messages()
    assert message["Subject"] == "质量事件 ZL-2026-001 待审批"
    assert message["Message-ID"] == message_id
    assert message["From"].addresses[0].display_name == "制度流程平台"
    assert message["From"].addresses[0].addr_spec == "zhidu@example.com"
    assert message["X-RcptTo"] == "lisi@example.com, wang@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(message["Date"]).utcoffset() == timedelta(hours=8)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = body(message, "plain")
    assert text == EXPECTED_TEXT
    assert "<" not in text
    html = body(message, "html")
    assert '<a href="http://127.0.0.1:8000/a/tok?x=1&amp;y=2"' in html
    assert "<p>李四，您好：</p>" in html
    assert "<br>" not in html


def test_html_part_autoescapes_context_and_text_part_keeps_it_literal(mail_env: MailEnv) -> None:
    send_email(
        to=["lisi@example.com"],
        subject="转义",
        template="test_message",
        context=context(name="<script>alert(1)</script>"),
    )
    [message] = mail_env.messages()
    html = body(message, "html")
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;，您好：</p>" in html
    assert "<script>" not in html
    assert body(message, "plain").splitlines()[0] == "<script>alert(1)</script>，您好："


def test_missing_variable_raises_and_nothing_is_sent(mail_env: MailEnv) -> None:
    ctx = context()
    del ctx["link"]
    with pytest.raises(UndefinedError, match="'link' is undefined"):
        send_email(to=["lisi@example.com"], subject="缺变量", template="test_message", context=ctx)
    assert mail_env.messages() == []


def test_masking_in_subject_and_both_bodies(mail_env: MailEnv) -> None:
    send_email(
        to=["lisi@example.com"],
        subject="客户 13800138000 投诉",
        template="test_message",
        context=context(),
    )
    [message] = mail_env.messages()
    assert message["Subject"] == "客户 138****8000 投诉"
    for subtype in ("plain", "html"):
        content = body(message, subtype)
        assert "138****8000" in content
        assert "110***********002X" in content
        assert "6222***********0123" in content
        assert "13800138000" not in content
        assert "11010519491231002X" not in content
        assert "6222021234567890123" not in content


def test_chinese_attachment_names_decode_exactly(mail_env: MailEnv, tmp_path: Path) -> None:
    report = tmp_path / "客户投诉登记表（2026年12月）.csv"
    report.write_bytes("编号,客户\n1,张三\n".encode())
    send_email(
        to=["lisi@example.com"],
        subject="附件",
        template="test_message",
        context=context(),
        attachments=[
            ("质量事件报告（第1期）.xlsx", b"PK\x03\x04xlsx"),
            report,
            Attachment("说明.bin", b"\x00\x01", "application/octet-stream"),
        ],
    )
    [message] = mail_env.messages()
    assert message.get_content_type() == "multipart/mixed"
    attachments = [
        (a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in message.iter_attachments()
    ]
    assert attachments == [
        (
            "质量事件报告（第1期）.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04xlsx",
        ),
        ("客户投诉登记表（2026年12月）.csv", "text/csv", "编号,客户\n1,张三\n".encode()),
        ("说明.bin", "application/octet-stream", b"\x00\x01"),
    ]
    assert body(message, "plain") == EXPECTED_TEXT


def sent_rows(engine: Engine) -> list[SentMail]:
    with Session(engine) as session:
        return list(session.exec(select(SentMail)).all())


def test_idempotency_key_sends_once(mail_env: MailEnv) -> None:
    kwargs: dict[str, Any] = {
        "to": ["lisi@example.com"],
        "subject": "只发一次",
        "template": "test_message",
        "context": context(),
        "idempotency_key": "quality:ZL-2026-001:notify",
    }
    first = send_email(**kwargs)
    second = send_email(**kwargs)
    assert second == first
    assert [m["Message-ID"] for m in mail_env.messages()] == [first]
    [row] = sent_rows(mail_env.engine)
    assert (row.status, row.attempts, row.message_id, row.recipients) == (
        SentMailStatus.sent,
        1,
        first,
        ["lisi@example.com"],
    )
    assert row.sent_at is not None and row.sent_at.tzinfo == UTC


def test_caller_session_is_used_and_committed(mail_env: MailEnv) -> None:
    with Session(mail_env.engine) as session:
        message_id = send_email(
            to=["lisi@example.com"],
            subject="会话",
            template="test_message",
            context=context(),
            idempotency_key="k-session",
            session=session,
        )
    [row] = sent_rows(mail_env.engine)
    assert (row.idempotency_key, row.status, row.message_id) == ("k-session", SentMailStatus.sent, message_id)


class GatedMailer:
    """Delivers through SMTP, but only after ``release`` is set (to hold a claim open)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, message: EmailMessage) -> None:
        self.entered.set()
        assert self.release.wait(30)
        SmtpMailer.from_settings().send(message)


def test_concurrent_second_caller_does_not_send(mail_env: MailEnv) -> None:
    kwargs: dict[str, Any] = {
        "to": ["lisi@example.com"],
        "subject": "并发",
        "template": "test_message",
        "context": context(),
        "idempotency_key": "k-concurrent",
    }
    gated = GatedMailer()
    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(send_email(mailer=gated, **kwargs)))
    first.start()
    assert gated.entered.wait(30)
    with pytest.raises(MailInFlightError, match="k-concurrent"):
        send_email(**kwargs)
    gated.release.set()
    first.join(30)
    assert send_email(**kwargs) == results[0]
    assert [m["Message-ID"] for m in mail_env.messages()] == results
    assert [(r.status, r.attempts) for r in sent_rows(mail_env.engine)] == [(SentMailStatus.sent, 1)]


class BrokenMailer:
    def send(self, message: EmailMessage) -> None:
        raise smtplib.SMTPServerDisconnected("connection lost")


def test_smtp_error_propagates_and_retry_reuses_message_id(mail_env: MailEnv) -> None:
    kwargs: dict[str, Any] = {
        "to": ["lisi@example.com"],
        "subject": "重试",
        "template": "test_message",
        "context": context(),
        "idempotency_key": "k-retry",
    }
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send_email(mailer=BrokenMailer(), **kwargs)
    [row] = sent_rows(mail_env.engine)
    assert (row.status, row.error) == (SentMailStatus.failed, "SMTPServerDisconnected: connection lost")
    assert mail_env.messages() == []
    assert send_email(**kwargs) == row.message_id
    assert [m["Message-ID"] for m in mail_env.messages()] == [row.message_id]
    [after] = sent_rows(mail_env.engine)
    assert (after.status, after.attempts, after.error) == (SentMailStatus.sent, 2, None)


def test_stale_sending_claim_is_resent_and_fresh_one_is_not(mail_env: MailEnv) -> None:
    assert sending_stale_after() == timedelta(minutes=2)
    now = datetime.now(UTC)
    with Session(mail_env.engine) as session:
        for key, claimed in (("k-stale", now - timedelta(minutes=6)), ("k-fresh", now - timedelta(minutes=1))):
            session.add(
                SentMail(
                    idempotency_key=key,
                    message_id=f"<{key}@example.com>",
                    recipients=["lisi@example.com"],
                    subject="崩溃",
                    template="test_message",
                    created_at=claimed,
                    claimed_at=claimed,
                )
            )
        session.commit()
    kwargs: dict[str, Any] = {
        "to": ["lisi@example.com"],
        "subject": "崩溃",
        "template": "test_message",
        "context": context(),
    }
    assert send_email(idempotency_key="k-stale", **kwargs) == "<k-stale@example.com>"
    with pytest.raises(MailInFlightError):
        send_email(idempotency_key="k-fresh", **kwargs)
    assert [m["Message-ID"] for m in mail_env.messages()] == ["<k-stale@example.com>"]
    rows = {r.idempotency_key: (r.status, r.attempts) for r in sent_rows(mail_env.engine)}
    assert rows == {"k-stale": (SentMailStatus.sent, 2), "k-fresh": (SentMailStatus.sending, 1)}


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
def test_smtp_mailer_logs_in_without_prompt(mail_env: MailEnv) -> None:
    mailer = SmtpMailer("127.0.0.1", mail_env.port, user="zhidu", password="secret", timeout=5)
    message = build_message(to=["a@example.com"], subject="登录", html="<p>好</p>", text="好")
    mailer.send(message)
    assert [m["Subject"] for m in mail_env.messages()] == ["登录"]
    with pytest.raises(ValueError, match="smtp_password is empty"):
        SmtpMailer("127.0.0.1", mail_env.port, user="zhidu")


def test_get_mailer_follows_settings_and_can_be_swapped(mail_env: MailEnv) -> None:
    default = get_mailer()
    assert isinstance(default, SmtpMailer)
    assert (default.host, default.port, default.tls) == ("127.0.0.1", mail_env.port, "none")
    broken = BrokenMailer()
    with use_mailer(broken):
        assert get_mailer() is broken
        with pytest.raises(smtplib.SMTPServerDisconnected):
            send_email(to=["a@example.com"], subject="换", template="test_message", context=context())
    assert isinstance(get_mailer(), SmtpMailer)


def test_build_message_requires_a_recipient() -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        build_message(to=[], subject="空", html="<p>x</p>", text="x")


def test_local_dt_and_money_filters() -> None:
    assert local_dt(DEADLINE) == "2026年12月3日 17:30"
    with pytest.raises(ValueError, match="naive datetime"):
        local_dt(datetime(2026, 12, 3, 9, 30))
    assert money(Decimal("1234.5")) == "¥1,234.50"
    assert money(Decimal("1234567.005")) == "¥1,234,567.01"
    assert money(Decimal("-0.5")) == "-¥0.50"
    assert money(12) == "¥12.00"
    with pytest.raises(TypeError, match="float"):
        money(cast(Any, 1234.5))


def test_render_escapes_html_templates_only() -> None:
    page = render("pages/inbox_list.html", items=[])
    assert "暂无邮件" in page
    text = render("email/test_message.txt", **context(name="A&B"))
    html = render("email/test_message.html", **context(name="A&B"))
    assert text.splitlines()[0] == "A&B，您好："
    assert "<p>A&amp;B，您好：</p>" in html


def test_racing_senders_insert_one_claim_and_send_once(mail_env: MailEnv) -> None:
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def race() -> None:
        barrier.wait(30)
        try:
            outcomes.append(
                send_email(
                    to=["lisi@example.com"],
                    subject="竞争",
                    template="test_message",
                    context=context(),
                    idempotency_key="k-race",
                )
            )
        except MailInFlightError:
            outcomes.append("in flight")

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    [message] = mail_env.messages()
    assert len(outcomes) == 4
    assert set(outcomes) <= {message["Message-ID"], "in flight"}
    assert message["Message-ID"] in outcomes
    assert [(r.status, r.attempts) for r in sent_rows(mail_env.engine)] == [(SentMailStatus.sent, 1)]


PNG = b"\x89PNG\r\n\x1a\nchart-bytes"


def test_inline_images_are_related_to_the_html_part(mail_env: MailEnv) -> None:
    send_email(
        to=["lisi@example.com"],
        subject="周报",
        template="test_message",
        context=context(),
        attachments=[("市场信息周报_2026-W48.xlsx", b"PK\x03\x04")],
        inline_images={"chart-1@zhidu": PNG, "chart-2@zhidu": PNG + b"2"},
    )
    [message] = mail_env.messages()
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(message.iter_parts())
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "multipart/related"]
    related = list(alternative.iter_parts())[1]
    parts = list(related.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/html", "image/png", "image/png"]
    assert [(p["Content-ID"], p.get_content_disposition(), p.get_payload(decode=True)) for p in parts[1:]] == [
        ("<chart-1@zhidu>", "inline", PNG), ("<chart-2@zhidu>", "inline", PNG + b"2")]
    assert "<p>李四，您好：</p>" in body(message, "html")
    assert body(message, "plain") == EXPECTED_TEXT
    assert [a.get_filename() for a in message.iter_attachments()] == ["市场信息周报_2026-W48.xlsx"]


def test_without_inline_images_the_message_is_unchanged(mail_env: MailEnv) -> None:
    send_email(to=["lisi@example.com"], subject="无图", template="test_message", context=context(), inline_images={})
    [message] = mail_env.messages()
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_local_midnight_is_written_as_24_00_of_the_day_before() -> None:
    end_of_dec_8 = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # 2026-12-09 00:00 in Shanghai
    assert local_dt(end_of_dec_8) == "2026年12月8日 24:00"
    assert local_dt(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2026年12月31日 24:00"
    assert local_dt(end_of_dec_8 + timedelta(minutes=1)) == "2026年12月9日 00:01"
