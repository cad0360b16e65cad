"""Who is reading the archive (篇四 §16): a signed, expiring reader token naming one directory person.

The token carries only the person's id (itsdangerous ``URLSafeTimedSerializer``, its own salt, so an approval
link can never pass for a reader token and vice versa). The clearance is looked up in the directory at every
read, so lowering someone's ``clearance:<level>`` role takes effect at once, even for links already mailed.
Each distribution mail carries the recipient's own link; ``zhidu market reader-link PERSON`` prints one.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from zhidu.directory import load_directory
from zhidu.market.records import Reader, reader_for
from zhidu.settings import get_settings

PROCESS = "market"
MAX_AGE_DAYS = 90  # a mailed archive link stays usable for one quarter


class ReaderTokenError(PermissionError):
    """A missing, tampered, expired or unknown reader token (the message is Chinese, for the page)."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="zhidu-market-reader")


def reader_token(person_id: str) -> str:
    """A token for ``person_id`` (who must be in ``data/directory/market.yaml``)."""
    load_directory(PROCESS).person(person_id)
    return _serializer().dumps({"p": person_id})


def reader_from_token(token: str | None) -> Reader:
    """The reader a genuine, unexpired token names, with their clearance from the directory."""
    if not token:
        raise ReaderTokenError("缺少查阅凭证，请使用邮件中的个人链接")
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_DAYS * 86400)
    except SignatureExpired as exc:
        raise ReaderTokenError("查阅链接已过期，请联系市场部重新获取") from exc
    except BadSignature as exc:
        raise ReaderTokenError("查阅凭证无效") from exc
    if not isinstance(data, dict) or not isinstance(data.get("p"), str):
        raise ReaderTokenError("查阅凭证无效")
    try:
        person = load_directory(PROCESS).person(data["p"])
    except KeyError as exc:
        raise ReaderTokenError("查阅人不在名录中") from exc
    return reader_for(person)


def reader_url(person_id: str, report_id: str | None = None) -> str:
    """The person's link to the archive list, or to one report."""
    base = get_settings().public_url.rstrip("/")
    path = f"/market/reports/{report_id}" if report_id else "/market/reports"
    return f"{base}{path}?t={reader_token(person_id)}"
