"""Database engine, sessions and the two column types every model uses: UTC instants and exact money."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import DateTime, Numeric, TypeDecorator
from sqlmodel import Session, create_engine

from zhidu.settings import get_settings


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant, stored as UTC; a naive datetime is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: zhidu stores only timezone-aware instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """A Decimal stored exactly: NUMERIC without scale on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        dec = Decimal(value)
        return str(dec) if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's recommended level: consistent, no fsync per commit
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for ``ZHIDU_DATABASE_URL`` (cleared with ``reset_engine``)."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


def reset_engine() -> None:
    """Forget the cached engine and settings (tests and CLI after changing the environment)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def load_models() -> None:
    """Import every module of the ``models`` package so that all tables are registered."""
    import models

    for info in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"models.{info.name}")


def init_db(engine: Engine | None = None) -> None:
    """Bring the schema to the newest alembic revision (``migrations/``); safe to call at every start."""
    from zhidu.migrate import upgrade

    load_models()
    upgrade(engine or get_engine())


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
