"""The dev-profile mail sink: an aiosmtpd server that stores every message as ``.eml``, and an ``Inbox`` over them.

Run it alone with ``python -m zhidu.devmail`` (host/port from settings). Tests start it in-process with
``start_sink("127.0.0.1", 0, tmp_path)`` (port 0 picks a free port; read it back from ``controller.port``).
Each stored file starts with three headers added by the sink: ``X-MailFrom``, ``X-RcptTo`` (the envelope)
and ``X-Zhidu-Received`` (ISO UTC instant).
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from zhidu.settings import get_settings

_ID = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{8}$")


def default_maildir() -> Path:
    return get_settings().var_dir / "mail"


class MaildirHandler:
    """aiosmtpd handler: writes each message atomically to ``{maildir}/{id}.eml``.

    ``refusing = True`` makes it answer every recipient with a temporary failure (451), as a relay that is down
    or throttling does; fault tests use it.
    """

    def __init__(self, maildir: Path) -> None:
        self.maildir = Path(maildir)
        self.maildir.mkdir(parents=True, exist_ok=True)
        self.refusing = False

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refusing:
            return "451 4.3.2 System not accepting network messages (try again later)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        received = datetime.now(UTC)
        message_id = f"{received:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        trace = (
            f"X-MailFrom: {envelope.mail_from}\r\n"
            f"X-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Zhidu-Received: {received.isoformat()}\r\n"
        ).encode()
        content = envelope.original_content or b""
        tmp = self.maildir / f".{message_id}.tmp"
        tmp.write_bytes(trace + content)
        os.replace(tmp, self.maildir / f"{message_id}.eml")
        return "250 Message accepted for delivery"


def _accept_any_login(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> Any:
    """The sink takes any user/password, so a prod-like SMTP config with credentials also works in dev."""
    return AuthResult(success=isinstance(auth_data, LoginPassword))


class SinkController(Controller):
    """A ``Controller`` that also accepts port 0 and reports the port it bound."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def start_sink(host: str | None = None, port: int | None = None, maildir: Path | None = None) -> Controller:
    """Start the sink in a background thread and return its controller (``.stop()`` it when done)."""
    settings = get_settings()
    controller = SinkController(
        MaildirHandler(maildir or default_maildir()),
        hostname=host or settings.smtp_host,
        port=settings.smtp_port if port is None else port,
        authenticator=_accept_any_login,
        auth_require_tls=False,
        enable_SMTPUTF8=True,
    )
    controller.start()
    return controller


@dataclass(frozen=True)
class InboxAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class InboxItem:
    """One stored message, as listed."""

    id: str
    subject: str
    sender: str
    recipients: list[str]
    received_at: datetime
    has_html: bool
    message_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "from": self.sender,
            "recipients": self.recipients,
            "received_at": self.received_at.isoformat(),
            "has_html": self.has_html,
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class InboxMessage:
    """One stored message, parsed: both bodies and the attachments."""

    item: InboxItem
    message: EmailMessage = field(repr=False)
    html: str | None
    text: str | None
    attachments: list[InboxAttachment]
    headers: list[tuple[str, str]]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.item.as_json(),
            "headers": [list(pair) for pair in self.headers],
            "html": self.html,
            "text": self.text,
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in self.attachments
            ],
        }


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        return cast(EmailMessage, BytesParser(policy=policy.default).parse(fh))


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    return str(part.get_content()).replace("\r\n", "\n")


def _payload_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _item(msg_id: str, message: EmailMessage) -> InboxItem:
    received_header = message.get("X-Zhidu-Received")
    received = datetime.fromisoformat(str(received_header)) if received_header else datetime.fromtimestamp(0, UTC)
    rcpt = message.get("X-RcptTo")
    if rcpt:
        recipients = [a.strip() for a in str(rcpt).split(",") if a.strip()]
    else:
        headers = [str(v) for v in [*message.get_all("To", []), *message.get_all("Cc", [])]]
        recipients = [addr for _, addr in getaddresses(headers)]
    html_part = message.get_body(preferencelist=("html",))
    return InboxItem(
        id=msg_id,
        subject=str(message.get("Subject", "")),
        sender=str(message.get("From", "")),
        recipients=recipients,
        received_at=received,
        has_html=html_part is not None and html_part.get_content_type() == "text/html",
        message_id=str(message.get("Message-ID", "")),
    )


class Inbox:
    """Read side of the sink's maildir (dev inbox page, tests)."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.maildir = Path(maildir) if maildir is not None else default_maildir()

    def _ids(self) -> list[str]:
        if not self.maildir.is_dir():
            return []
        return sorted((p.stem for p in self.maildir.glob("*.eml") if _ID.match(p.stem)), reverse=True)

    def list(self) -> builtins.list[InboxItem]:
        """Every stored message, newest first."""
        items = [_item(i, _parse(self.maildir / f"{i}.eml")) for i in self._ids()]
        return sorted(items, key=lambda it: (it.received_at, it.id), reverse=True)

    def get(self, msg_id: str) -> InboxMessage:
        """The parsed message ``msg_id``; ``KeyError`` when there is none (or the id is malformed)."""
        path = self.maildir / f"{msg_id}.eml"
        if not _ID.match(msg_id) or not path.is_file():
            raise KeyError(msg_id)
        message = _parse(path)
        attachments = [
            InboxAttachment(
                filename=part.get_filename() or "attachment.bin",
                content_type=part.get_content_type(),
                content=_payload_bytes(part),
            )
            for part in message.iter_attachments()
            if isinstance(part, EmailMessage)
        ]
        return InboxMessage(
            item=_item(msg_id, message),
            message=message,
            html=_body(message, "html"),
            text=_body(message, "plain"),
            attachments=attachments,
            headers=[(k, str(v)) for k, v in message.items()],
        )

    def count(self) -> int:
        return len(self._ids())

    def wait_for(self, count: int, timeout: float = 10.0) -> builtins.list[InboxItem]:
        """Poll until at least ``count`` messages are stored (newest first); ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count()} of {count} messages in {self.maildir} after {timeout}s")
            time.sleep(0.02)
        return self.list()

    def clear(self) -> None:
        for path in self.maildir.glob("*.eml"):
            path.unlink(missing_ok=True)


def main() -> None:
    """Run the sink on settings' SMTP host/port until interrupted."""
    settings = get_settings()
    maildir = default_maildir()
    controller = start_sink(settings.smtp_host, settings.smtp_port, maildir)
    print(f"zhidu dev mail sink on {controller.hostname}:{controller.port}, storing in {maildir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
