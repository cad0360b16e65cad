"""Breaker: settings that used to be accepted and failed later (or never): each is refused at start, named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zhidu.settings import DEV_SECRET_KEY, Settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ZHIDU_PROFILE": "prod"}, "ZHIDU_SECRET_KEY is the development default"),
        ({"ZHIDU_PROFILE": "prod", "ZHIDU_SECRET_KEY": "short"}, "ZHIDU_SECRET_KEY is 5 characters"),
        ({"ZHIDU_SMTP_PORT": "70000"}, "less than or equal to 65535"),
        ({"ZHIDU_SMTP_PORT": "abc"}, "valid integer"),
        ({"ZHIDU_WEB_PORT": "0"}, "greater than or equal to 1"),
        ({"ZHIDU_PUBLIC_URL": "127.0.0.1:8000"}, "'127.0.0.1:8000' is not an http(s) URL"),
        ({"ZHIDU_PUBLIC_URL": "ftp://files"}, "'ftp://files' is not an http(s) URL"),
        ({"ZHIDU_PUBLIC_URL": "http://host:99999"}, "is not an http(s) URL"),
        ({"ZHIDU_PUBLIC_URL": "http://host/?next=1"}, "is not an http(s) URL"),
        ({"ZHIDU_PREFECT_API_URL": "localhost:4200/api"}, "is not an http(s) URL"),
        ({"ZHIDU_DATABASE_URL": "var/zhidu.db"}, "ZHIDU_DATABASE_URL 'var/zhidu.db' is not a database URL"),
        ({"ZHIDU_TIMEZONE": "Beijing"}, "'Beijing' is not an IANA time zone"),
        ({"ZHIDU_OFFICE_START": "18:00"}, "ZHIDU_OFFICE_START 18:00:00 must be before ZHIDU_OFFICE_END"),
        ({"ZHIDU_LINK_GRACE_HOURS": "-1"}, "greater than or equal to 0"),
        ({"ZHIDU_SMTP_TIMEOUT": "0"}, "greater than 0"),
        ({"ZHIDU_MAIL_FROM": "制度平台"}, "is not a bare mail address"),
    ],
)
def test_bad_settings_are_refused_at_start_with_a_clear_reason(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                               message: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_good_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"ZHIDU_PROFILE": "prod", "ZHIDU_SECRET_KEY": "k" * 32, "ZHIDU_SMTP_PORT": "465",
                       "ZHIDU_PUBLIC_URL": "https://zhidu.example.com/approvals",
                       "ZHIDU_DATABASE_URL": "postgresql+psycopg2://zhidu@db:5432/zhidu"}.items():
        monkeypatch.setenv(key, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.smtp_port, s.public_url, s.secret_key != DEV_SECRET_KEY) == (465, "https://zhidu.example.com/approvals",
                                                                          True)
