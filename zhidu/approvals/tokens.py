"""Signed link tokens (itsdangerous) and the CSRF token that binds a form to its browser."""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer

from zhidu.settings import get_settings


class InvalidToken(ValueError):
    pass


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="zhidu-approval-link")


def make_token(*, link_id: str, request_id: str) -> str:
    """The token in an approver's link: names the link and the request it belongs to."""
    return _serializer().dumps({"l": link_id, "r": request_id})


def read_token(token: str) -> tuple[str, str]:
    """(link_id, request_id) of a genuine token; ``InvalidToken`` for anything tampered or malformed."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise InvalidToken("签名无效") from exc
    if not isinstance(data, dict) or not isinstance(data.get("l"), str) or not isinstance(data.get("r"), str):
        raise InvalidToken("格式无效")
    return data["l"], data["r"]


def link_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/a/{token}"


def csrf_token(*, cookie_value: str, link_id: str) -> str:
    """The hidden form value: an HMAC of the browser's cookie and the link."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{cookie_value}:{link_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(*, cookie_value: str | None, form_value: str | None, link_id: str) -> bool:
    if not cookie_value or not form_value:
        return False
    return hmac.compare_digest(csrf_token(cookie_value=cookie_value, link_id=link_id), form_value)
