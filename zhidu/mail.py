"""The one mail boundary: ``send_email`` renders a template pair, builds a stdlib MIME message and sends it.

Messages are built with the stdlib ``email`` package (multipart/alternative with a real text part, RFC 2047
subject, RFC 2231 attachment names) and sent with ``smtplib``. yagmail is not used for either: it rewrites
every newline to ``<br>`` and sends the HTML source as the text part, and its login falls back to an
interactive keyring prompt; its only reusable piece is its ``smtplib`` connection, which ``smtplib`` gives
directly with explicit TLS modes and timeouts.

Idempotency (``idempotency_key``): a ``SentMail`` row is inserted *before* the SMTP call (the unique key is
the claim) and marked ``sent`` after it, so a key sends at most once across processes:

* key already ``sent`` → nothing is sent, the stored Message-ID is returned;
* key ``sending``, claimed less than ``sending_stale_after()`` (2 min by default) ago → another sender is in
  flight: ``MailInFlightError`` (retryable; nothing is sent, and success is not reported for a mail not known sent);
* key ``failed`` (the SMTP call raised) or ``sending`` but stale (its sender crashed) → re-claimed and sent
  again with the *same* Message-ID. A crash after the server accepted the mail but before the row was marked
  therefore yields a second copy (at-least-once in that window, chosen over losing an approval mail); the
  identical Message-ID lets clients and the dev inbox recognise the duplicate.

With a caller's ``session`` the claim and the outcome are committed on that session (other senders must
see the claim before the SMTP call), so the caller's earlier pending changes are committed with them.
SMTP errors propagate (the Prefect task around ``send_email`` retries).
"""

from __future__ import annotations

import logging
import mimetypes
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import and_, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.mail import SentMail, SentMailStatus
from zhidu.db import session_scope, utcnow
from zhidu.masking import mask_text
from zhidu.settings import Settings, get_settings
from zhidu.templating import render_masked

log = logging.getLogger(__name__)

MIN_SENDING_STALE_AFTER = timedelta(minutes=2)


def sending_stale_after(settings: Settings | None = None) -> timedelta:
    """How old a ``sending`` claim must be before it is taken for a crashed sender's and re-sent:
    two minutes, or twelve SMTP timeouts if that is longer (one send never legitimately takes that long)."""
    s = settings or get_settings()
    return max(MIN_SENDING_STALE_AFTER, timedelta(seconds=12 * s.smtp_timeout))


class MailInFlightError(RuntimeError):
    """Another sender holds a fresh claim on this idempotency key; retry later (nothing was sent)."""


@dataclass(frozen=True)
class Attachment:
    """A file to attach; ``content_type`` is guessed from the file name when not given."""

    filename: str
    content: bytes
    content_type: str | None = None


AttachmentLike = Attachment | Path | tuple[str, bytes]


class Mailer(Protocol):
    """The external mail system: anything that can deliver a finished message."""

    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Delivers over SMTP with ``smtplib``: no prompt, explicit TLS mode, and one connection per thread kept open
    between messages (a NOOP checks it before reuse; after ``idle_seconds`` or any error it is replaced)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str = "",
        password: str = "",
        tls: Literal["none", "starttls", "ssl"] = "none",
        timeout: float = 10.0,
        idle_seconds: float = 30.0,
    ) -> None:
        if user and not password:
            raise ValueError("smtp_user is set but smtp_password is empty (ZHIDU_SMTP_PASSWORD)")
        self.host, self.port, self.user, self.password = host, port, user, password
        self.tls, self.timeout, self.idle_seconds = tls, timeout, idle_seconds
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SmtpMailer:
        s = settings or get_settings()
        return cls(
            s.smtp_host,
            s.smtp_port,
            user=s.smtp_user,
            password=s.smtp_password,
            tls=s.smtp_tls,
            timeout=s.smtp_timeout,
        )

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if self.user:
            smtp.login(self.user, self.password)
        return smtp

    def _connection(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        fresh = time.monotonic() - getattr(self._local, "used", 0.0) < self.idle_seconds
        if smtp is not None and fresh:
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (smtplib.SMTPException, OSError):
                pass
        self.close()
        self._local.smtp = self._connect()
        return self._local.smtp  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close this thread's connection, if any."""
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(self, message: EmailMessage) -> None:
        smtp = self._connection()
        try:
            refused = smtp.send_message(message)
        except BaseException:
            self.close()  # never reuse a connection in an unknown state; the caller retries on a new one
            raise
        self._local.used = time.monotonic()
        if refused:  # some (not all) recipients refused: the others have it, so this is not retried
            log.warning("mail %s: recipients refused: %s", message["Message-ID"], sorted(refused))


_mailer_override: Mailer | None = None
_smtp_mailers: dict[tuple[Any, ...], SmtpMailer] = {}


def get_mailer() -> Mailer:
    """The mailer in use: the one set by ``set_mailer``, else an ``SmtpMailer`` from the current settings."""
    if _mailer_override is not None:
        return _mailer_override
    s = get_settings()
    key = (s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_tls, s.smtp_timeout)
    if key not in _smtp_mailers:  # one per configuration, so its connections are reused
        _smtp_mailers[key] = SmtpMailer.from_settings(s)
    return _smtp_mailers[key]


def set_mailer(mailer: Mailer | None) -> Mailer | None:
    """Swap the external mail system (``None`` restores SMTP from settings); returns the previous override."""
    global _mailer_override
    previous, _mailer_override = _mailer_override, mailer
    return previous


@contextmanager
def use_mailer(mailer: Mailer) -> Iterator[Mailer]:
    """``set_mailer`` for the duration of a ``with`` block."""
    previous = set_mailer(mailer)
    try:
        yield mailer
    finally:
        set_mailer(previous)


MAX_MESSAGE_BYTES = 20 * 1024 * 1024  # attachments and inline images together; common relays refuse 20–25 MB
_ADDR_SPEC = r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+"
_ADDRESS = re.compile(rf"{_ADDR_SPEC}|[^<>,;\"\x00-\x1f\x7f]*<{_ADDR_SPEC}>")  # bare, or 显示名 <addr>
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(value: str) -> str:
    """A header value on one line: line breaks, tabs and control characters become one space."""
    return _HEADER_BREAKS.sub(" ", value).strip()


def check_message(to: Sequence[str], cc: Sequence[str], attachments: Sequence[AttachmentLike],
                  inline_images: Mapping[str, bytes] | None) -> None:
    """Refuse, before anything is claimed or sent, what no retry can fix: no recipient, a malformed address
    (also a string of several addresses), an oversized message."""
    if isinstance(to, str) or isinstance(cc, str):
        raise ValueError("'to' and 'cc' must be lists of addresses, not one string")
    if not to:
        raise ValueError("an email needs at least one recipient in 'to'")
    bad = [a for a in [*to, *cc] if not isinstance(a, str) or not _ADDRESS.fullmatch(a)]
    if bad:
        raise ValueError(f"invalid recipient address(es): {', '.join(repr(a) for a in bad)}")
    size = sum(len(_as_attachment(a).content) for a in attachments) + sum(map(len, (inline_images or {}).values()))
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(f"attachments total {size / 2**20:.1f} MB, over the {MAX_MESSAGE_BYTES // 2**20} MB limit "
                         "of a mail; send a link to the file instead")


def new_message_id(settings: Settings | None = None) -> str:
    """A fresh ``<…@domain>`` Message-ID in the sender's domain."""
    s = settings or get_settings()
    return make_msgid(domain=s.mail_from.rpartition("@")[2] or "localhost")


def _as_attachment(item: AttachmentLike) -> Attachment:
    if isinstance(item, Attachment):
        return item
    if isinstance(item, Path):
        return Attachment(item.name, item.read_bytes())
    filename, content = item
    return Attachment(filename, content)


def build_message(
    *,
    to: Sequence[str],
    subject: str,
    html: str,
    text: str,
    cc: Sequence[str] = (),
    attachments: Sequence[AttachmentLike] = (),
    message_id: str | None = None,
    settings: Settings | None = None,
    inline_images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    """A complete message: text + HTML alternatives, then attachments; From, Date, Message-ID set.

    ``inline_images`` (Content-ID → PNG bytes) become multipart/related parts of the HTML alternative, shown
    where the HTML says ``<img src="cid:{content id}">``.
    """
    check_message(to, cc, attachments, inline_images)
    s = settings or get_settings()
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=s.mail_from_name, addr_spec=s.mail_from)
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(utcnow().astimezone(s.tz))
    message["Message-ID"] = message_id or new_message_id(s)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if inline_images:
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for cid, png in inline_images.items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline")
    for item in attachments:
        attachment = _as_attachment(item)
        content_type = (
            attachment.content_type or mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
        )
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=one_line(attachment.filename).replace("/", "_").replace("\\", "_") or "attachment",
        )
    return message


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render ``email/{template}.html`` and ``email/{template}.txt`` with every printed value masked; (html, text)."""
    return render_masked(f"email/{template}.html", **context), render_masked(f"email/{template}.txt", **context)


def send_email(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Sequence[AttachmentLike] = (),
    cc: Sequence[str] = (),
    idempotency_key: str | None = None,
    session: Session | None = None,
    mailer: Mailer | None = None,
    inline_images: Mapping[str, bytes] | None = None,
) -> str:
    """Render the template pair, send, and return the Message-ID (see the module doc for idempotency).

    ``inline_images``: Content-ID → PNG bytes, shown inline by the HTML's ``cid:`` references.
    The subject goes through ``mask_text``. With ``idempotency_key`` and a ``session``, that session is
    committed (the claim must be visible to other senders before the SMTP call).
    """
    check_message(to, cc, attachments, inline_images)
    html, text = render_email(template, context)
    subject = one_line(mask_text(subject))
    delivery = mailer or get_mailer()

    def deliver(message_id: str | None) -> str:
        message = build_message(
            to=to, subject=subject, html=html, text=text, cc=cc, attachments=attachments, message_id=message_id,
            inline_images=inline_images,
        )
        delivery.send(message)
        log.info(
            "mail %s sent: template=%s recipients=%d subject=%s",
            message["Message-ID"],
            template,
            len(to) + len(cc),
            subject,
        )
        return str(message["Message-ID"])

    if idempotency_key is None:
        return deliver(None)
    if session is None:
        with session_scope() as own:
            return _send_once(own, idempotency_key, [*to, *cc], subject, template, deliver)
    return _send_once(session, idempotency_key, [*to, *cc], subject, template, deliver)


def _send_once(session: Session, key: str, recipients: list[str], subject: str, template: str, deliver: Any) -> str:
    message_id, owned = _claim(session, key, recipients, subject, template)
    if not owned:
        log.info("mail key %s already sent as %s; not sent again", key, message_id)
        return message_id
    try:
        deliver(message_id)
    except Exception as exc:
        _finish(session, key, SentMailStatus.failed, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    _finish(session, key, SentMailStatus.sent)
    return message_id


def _claim(session: Session, key: str, recipients: list[str], subject: str, template: str) -> tuple[str, bool]:
    """(Message-ID, True) when this caller now owns ``key``; (its Message-ID, False) when already sent;
    ``MailInFlightError`` when another sender holds a fresh claim."""
    now = utcnow()
    row = SentMail(
        idempotency_key=key,
        message_id=new_message_id(),
        recipients=recipients,
        subject=subject,
        template=template,
        created_at=now,
        claimed_at=now,
    )
    try:
        with session.begin_nested():  # a duplicate key rolls back only this insert, not the caller's work
            session.add(row)
        session.commit()
        return row.message_id, True
    except IntegrityError:
        pass
    existing = session.exec(select(SentMail).where(SentMail.idempotency_key == key)).one()
    session.refresh(existing)
    if existing.status == SentMailStatus.sent:
        return existing.message_id, False
    reclaimed = session.exec(
        update(SentMail)
        .where(
            col(SentMail.idempotency_key) == key,
            or_(
                col(SentMail.status) == SentMailStatus.failed,
                and_(
                    col(SentMail.status) == SentMailStatus.sending,
                    col(SentMail.claimed_at) < now - sending_stale_after(),
                ),
            ),
        )
        .values(status=SentMailStatus.sending, claimed_at=now, attempts=col(SentMail.attempts) + 1, error=None)
    )
    session.commit()
    if reclaimed.rowcount == 1:
        log.warning("mail key %s re-sent (attempt %d) as %s", key, existing.attempts + 1, existing.message_id)
        return existing.message_id, True
    session.refresh(existing)
    if existing.status == SentMailStatus.sent:
        return existing.message_id, False
    raise MailInFlightError(f"mail {key!r} is being sent by another worker since {existing.claimed_at}")


def _finish(session: Session, key: str, status: SentMailStatus, error: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "error": error}
    if status == SentMailStatus.sent:
        values["sent_at"] = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # Losing this mark in a database crash only leaves the claim to go stale and the mail to be resent with the
        # same Message-ID (the window the module doc accepts), so this commit need not wait for the disk.
        session.exec(text("SET LOCAL synchronous_commit TO OFF"))  # type: ignore[call-overload]
    session.exec(update(SentMail).where(col(SentMail.idempotency_key) == key).values(**values))
    session.commit()
