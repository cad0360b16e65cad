"""Breaker: the mail boundary and masking under bad addresses, odd subjects, slow servers and odd number formats."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from models.mail import SentMail, SentMailStatus
from tests.conftest import Zhidu
from tests.test_approvals import LI, WANG, open_step, spec
from tests.test_mail import MailEnv, body, context, mail_env  # noqa: F401  (fixture)
from zhidu.approvals.schemas import Approver
from zhidu.db import get_engine, utcnow
from zhidu.mail import MAX_MESSAGE_BYTES, send_email, use_mailer
from zhidu.masking import mask_text
from zhidu.settings import get_settings
from zhidu.templating import render_masked

BAD = Approver(email="a-bad@example.com", name="错地址")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("１３８００１３８０００", "138****8000"),  # full-width digits (Chinese IME)
        ("１３８-００１３-８０００", "138****8000"),
        ("电话：138.0013.8000", "电话：138****8000"),
        ("8613800138000", "+86 138****8000"),
        ("+86 138 00 13 80 00", "+86 138****8000"),
        ("身份证 110105 19491231 002x", "身份证 110***********002X"),
        ("110105-19491231-002X", "110***********002X"),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证110***********002X"),
        ("旧证 110105-491231-002", "旧证 110********1002"),
        ("账号：6222０２１２３４５６７８９０１２３", "账号：6222***********0123"),
        ("021-1234-5678", "021-****5678"),
        ("+86 10 12345678", "+86 010-****5678"),
        ("+86 (755) 1234 5678", "+86 0755-****5678"),
    ],
)
def test_numbers_in_the_formats_people_type_are_masked(raw: str, masked: str) -> None:
    # Was: every one of these passed through mask_text unchanged (or half-masked).
    assert mask_text(raw) == masked
    assert mask_text(masked) == masked


def test_amounts_dates_versions_and_timestamps_stay() -> None:
    text = "金额 1380013800.00 日期 2026.12.03 版本 1.3.8 时间 2026-12-03T17:32:11.014315+00:00 编号 ZL-2026-0001"
    assert mask_text(text) == text


def test_every_value_a_mail_template_prints_is_masked() -> None:
    # Was: only values piped through mask_text were masked; a title or a name with a phone went out in full.
    html = render_masked("email/approval_request.html", title="客户１３９１２３４５６７８投诉", approver_name="王 13912345678",
                         details={}, deadline=context()["deadline"], expires_at=context()["deadline"], level=0,
                         mode="any", url="http://x/a/t", case_id="C-1", step="决策")
    assert "13912345678" not in html and "１３９１２３４５６７８" not in html and "客户139****5678投诉" in html


def test_a_title_with_a_line_break_and_a_phone_is_mailed_on_one_masked_line(zhidu: Zhidu) -> None:
    # Was: a newline in the title raised ValueError in the Subject header on every retry; the step never mailed.
    open_step(spec(title="客户13912345678投诉\r\n第二行\tBcc: evil@example.com"))
    [item] = zhidu.inbox.wait_for(1)
    assert item.subject == "【待审批】客户139****5678投诉 第二行 Bcc: evil@example.com"
    assert item.recipients == ["wang@example.com"]
    message = zhidu.inbox.get(item.id)
    assert message.text is not None and message.html is not None
    assert "13912345678" not in message.text and "13912345678" not in message.html


@pytest.mark.parametrize(
    "to",
    [[], ["not-an-address"], ["a@example.com, b@example.com"], ["a@example.com\r\nBcc: evil@example.com"],
     ["<a@example.com"], [" "], "a@example.com"],
)
def test_bad_recipients_are_refused_before_anything_is_claimed(mail_env: MailEnv, to: object) -> None:  # noqa: F811
    # Was: a bad address was claimed under its key and failed in smtplib, or went to the server as given.
    with pytest.raises(ValueError):
        send_email(to=to, subject="s", template="test_message", context=context(),  # type: ignore[arg-type]
                   idempotency_key="k-bad")
    with Session(mail_env.engine) as session:
        assert session.exec(select(SentMail)).all() == []
    assert list(mail_env.maildir.glob("*.eml")) == []


def test_an_oversized_attachment_is_refused_with_its_size(mail_env: MailEnv) -> None:  # noqa: F811
    with pytest.raises(ValueError, match=r"attachments total 20\.0 MB, over the 20 MB limit"):
        send_email(to=["a@example.com"], subject="s", template="test_message", context=context(),
                   attachments=[("大文件.bin", b"x" * (MAX_MESSAGE_BYTES + 1))], idempotency_key="k-big")
    with Session(mail_env.engine) as session:
        assert session.exec(select(SentMail)).all() == []


def test_an_attachment_name_with_a_line_break_or_a_path_is_sent_flat(mail_env: MailEnv) -> None:  # noqa: F811
    send_email(to=["a@example.com"], subject="s", template="test_message", context=context(),
               attachments=[("../报表\r\n2026.xlsx", b"PK")])
    [message] = mail_env.messages()
    [part] = list(message.iter_attachments())
    assert part.get_filename() == ".._报表 2026.xlsx"


@pytest.fixture
def silent_smtp() -> Iterator[int]:
    """A server that accepts the TCP connection and never says a word (a hung relay)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_hung_smtp_server_times_out_and_the_key_can_be_retried(mail_env: MailEnv, silent_smtp: int,  # noqa: F811
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIDU_SMTP_PORT", str(silent_smtp))
    monkeypatch.setenv("ZHIDU_SMTP_TIMEOUT", "0.5")
    get_settings.cache_clear()
    started = time.monotonic()
    with pytest.raises(OSError):  # socket timeout: the Prefect task retries it
        send_email(to=["a@example.com"], subject="s", template="test_message", context=context(), idempotency_key="k1")
    assert time.monotonic() - started < 5
    with Session(mail_env.engine) as session:
        [row] = session.exec(select(SentMail)).all()
        assert row.status == SentMailStatus.failed and "timed out" in (row.error or "")
    monkeypatch.setenv("ZHIDU_SMTP_PORT", str(mail_env.port))
    get_settings.cache_clear()
    send_email(to=["a@example.com"], subject="s", template="test_message", context=context(), idempotency_key="k1")
    assert len(mail_env.messages()) == 1


def test_approval_mail_link_is_never_masked(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    message = zhidu.inbox.get(zhidu.inbox.wait_for(1)[0].id)
    assert message.text is not None and f"http://testserver/a/{token}" in message.text
    with Session(get_engine()) as session:
        assert len(session.exec(select(SentMail)).all()) == 1


class RefusingMailer:
    """SMTP that refuses one address for good (550) and delivers the rest through the real sink."""

    def __init__(self, refused: str) -> None:
        from zhidu.mail import SmtpMailer

        self.refused, self.real = refused, SmtpMailer.from_settings()

    def send(self, message: Any) -> None:
        if self.refused in str(message["To"]):
            raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"5.1.1 user unknown")})
        self.real.send(message)


def test_one_refused_approver_does_not_keep_the_others_from_their_mail(zhidu: Zhidu) -> None:
    # Was: mail_approvers stopped at the first refused address; approvers after it never got their link.
    from tasks.approvals import mail_approvers
    from zhidu.approvals.service import open_request

    with Session(get_engine(), expire_on_commit=False) as session:
        req = open_request(session=session, spec=spec(approvers=[BAD, WANG, LI]), level=0, flow_run_id="r",
                           now=utcnow())
    with use_mailer(RefusingMailer(BAD.email)), pytest.raises(RuntimeError, match="not sent to 1 of 3 approvers"):
        mail_approvers.fn(req.id)
    assert sorted(m.recipients[0] for m in zhidu.inbox.wait_for(2)) == ["li@example.com", "wang@example.com"]
    with use_mailer(RefusingMailer("nobody@example.com")):  # the retry after the address is fixed: only the missing one
        assert mail_approvers.fn(req.id) == 3
    assert sorted(m.recipients[0] for m in zhidu.inbox.wait_for(3)) == ["a-bad@example.com", "li@example.com",
                                                                        "wang@example.com"]


def test_a_failing_reminder_neither_stops_the_sweep_nor_is_lost(zhidu: Zhidu) -> None:
    # Was: the reminder claim was committed before sending, so a reminder that failed was never sent; and the
    # exception ended the sweep pass, so no escalation and no decision delivery happened while SMTP was down.
    from tests.test_approvals import Recorder, post
    from zhidu.approvals.delivery import ResumeOutcome
    from zhidu.approvals.service import open_request
    from zhidu.approvals.sweeper import sweep

    t0 = utcnow()
    with use_mailer(RefusingMailer(BAD.email)):
        with Session(get_engine(), expire_on_commit=False) as session:  # due for its reminder at once
            req = open_request(session=session, spec=spec(case_id="R-1", approvers=[BAD, WANG],
                                                          deadline=t0 + timedelta(hours=1), remind_before_hours=2),
                               level=0, flow_run_id="run-r", now=t0)
        _, [token] = open_step(spec(case_id="D-1"))  # another step, decided: its decision waits in the outbox
        post(zhidu.client(), token, "approve")
        recorder = Recorder(ResumeOutcome.delivered)
        report = sweep(now=t0 + timedelta(minutes=1), resumer=recorder)
    assert report.reminders_failed == [req.id] and report.reminded == [] and report.delivered == 1
    assert [m.recipients for m in zhidu.inbox.wait_for(2) if m.subject.startswith("【催办】")] == [["wang@example.com"]]
    report = sweep(now=t0 + timedelta(minutes=2), resumer=recorder)  # SMTP accepts the address again
    assert report.reminded == [req.id] and report.reminders_failed == []
    reminders = [m for m in zhidu.inbox.wait_for(3) if m.subject.startswith("【催办】")]
    assert sorted(m.recipients[0] for m in reminders) == ["a-bad@example.com", "wang@example.com"]
