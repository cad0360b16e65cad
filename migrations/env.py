"""Alembic environment: zhidu's models (SQLModel metadata) on the engine of ZHIDU_DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from zhidu.db import get_engine, load_models

load_models()
target_metadata = SQLModel.metadata


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | bool:
    """Render zhidu's own column types (exact money, UTC instants) with their import."""
    if kind == "type" and isinstance(obj, TypeDecorator) and obj.__module__.split(".")[0] in ("zhidu", "models"):
        autogen.imports.add(f"import {obj.__module__}")
        return f"{obj.__module__}.{type(obj).__name__}()"
    return False


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting (``alembic upgrade head --sql``)."""
    context.configure(url=str(get_engine().url), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the engine given by ``zhidu.migrate`` or, from the alembic command, the settings' one."""
    engine = context.config.attributes.get("engine") or get_engine()
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, render_item=render_item)
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
