"""The one settings object: environment variables with the ``ZHIDU_`` prefix, or an optional ``.env``."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zhidu import ROOT

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    """Every knob of zhidu. ``ZHIDU_PROFILE=dev`` (default) runs on embedded parts."""

    model_config = SettingsConfigDict(env_prefix="ZHIDU_", env_file=".env", extra="ignore")

    profile: Literal["dev", "prod"] = "dev"
    var_dir: Path = ROOT / "var"
    data_dir: Path = ROOT / "data"
    templates_dir: Path = ROOT / "templates"
    database_url: str = ""  # default: SQLite under var_dir

    # Mail: the default is the local sink that `make run` starts (see zhidu.devmail).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = Field(default=10.0, gt=0)
    mail_from: str = "zhidu@example.com"
    mail_from_name: str = "制度流程平台"

    # The approval web service.
    public_url: str = "http://127.0.0.1:8000"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = DEV_SECRET_KEY
    link_grace_hours: int = Field(default=72, ge=0)  # a link stays usable this long past its step's deadline
    csrf_cookie_name: str = "zhidu_csrf"

    # Prefect.
    prefect_api_url: str = "http://127.0.0.1:4200/api"
    resume_timeout: float = Field(default=5.0, gt=0)  # seconds for one resume call from the web

    # The working-day calendar.
    timezone: str = "Asia/Shanghai"
    calendar_override_path: Path = ROOT / "data" / "calendar_override.yaml"
    office_start: time = time(9, 0)
    office_end: time = time(17, 30)

    # Outbox delivery back-off (seconds): attempt n waits min(base * 2**n, max).
    outbox_backoff_base: float = Field(default=5.0, ge=0)
    outbox_backoff_max: float = Field(default=300.0, ge=0)

    directory_path: Path = Field(default=ROOT / "data" / "directory.yaml")

    @field_validator("public_url", "prefect_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            port_ok = parts.port is None or 1 <= parts.port <= 65535
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or parts.query \
                or parts.fragment:
            raise ValueError(f"{value!r} is not an http(s) URL such as http://127.0.0.1:8000 "
                             "(scheme, host, optional port 1-65535 and path; no query)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not at or not local or not domain or any(c in value for c in ' <>,;"\r\n'):
            raise ValueError(f"{value!r} is not a bare mail address such as zhidu@example.com")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.profile != "dev" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "ZHIDU_SECRET_KEY is the development default; set a long random key outside the dev profile"
            )
        if self.profile != "dev" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"ZHIDU_SECRET_KEY is {len(self.secret_key)} characters; outside the dev profile use "
                             f"at least {MIN_SECRET_KEY_LENGTH} random ones (python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))')")
        if self.office_start >= self.office_end:
            raise ValueError(
                f"ZHIDU_OFFICE_START {self.office_start} must be before ZHIDU_OFFICE_END {self.office_end}"
            )
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'zhidu.db'}"
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(self.database_url)
        except ArgumentError:
            raise ValueError(f"ZHIDU_DATABASE_URL {self.database_url!r} is not a database URL such as "
                             "sqlite:///var/zhidu.db or postgresql+psycopg2://user@host:5432/zhidu") from None
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing the env)."""
    return Settings()
