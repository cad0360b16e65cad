"""Schema migrations (alembic, ``migrations/``): upgrade a database to head, or check that models and head agree."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from zhidu import ROOT


def alembic_config(engine: Engine | None = None) -> Config:
    """The alembic configuration of ``alembic.ini``, bound to ``engine`` when given."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to ``revision``. A database made by ``create_all`` before migrations existed is stamped first."""
    tables = set(inspect(engine).get_table_names())
    cfg = alembic_config(engine)
    if tables and "alembic_version" not in tables:
        SQLModel.metadata.create_all(engine)
        command.stamp(cfg, "head")
        return
    command.upgrade(cfg, revision)


def pending_changes(engine: Engine) -> list[Any]:
    """What the models have that the database (at head) lacks, or the reverse; empty when they agree."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                     SQLModel.metadata))
