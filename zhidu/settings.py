"""The one settings object: environment variables with the ``ZHIDU_`` prefix, or an optional ``.env``."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zhidu import ROOT

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"


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
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = 10.0
    mail_from: str = "zhidu@example.com"
    mail_from_name: str = "制度流程平台"

    # The approval web service.
    public_url: str = "http://127.0.0.1:8000"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    secret_key: str = DEV_SECRET_KEY
    link_grace_hours: int = 72  # a link stays usable this long past its step's deadline
    csrf_cookie_name: str = "zhidu_csrf"

    # Prefect.
    prefect_api_url: str = "http://127.0.0.1:4200/api"
    resume_timeout: float = 5.0  # seconds for one resume call from the web

    # The working-day calendar.
    timezone: str = "Asia/Shanghai"
    calendar_override_path: Path = ROOT / "data" / "calendar_override.yaml"
    office_start: time = time(9, 0)
    office_end: time = time(17, 30)

    # Outbox delivery back-off (seconds): attempt n waits min(base * 2**n, max).
    outbox_backoff_base: float = 5.0
    outbox_backoff_max: float = 300.0

    directory_path: Path = Field(default=ROOT / "data" / "directory.yaml")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.profile != "dev" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "ZHIDU_SECRET_KEY is the development default; set a long random key outside the dev profile"
            )
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'zhidu.db'}"
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing the env)."""
    return Settings()
