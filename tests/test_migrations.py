"""The alembic migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlmodel import SQLModel

from tests.dbs import empty_database_url
from zhidu.db import init_db, load_models, make_engine
from zhidu.migrate import pending_changes, upgrade


def test_head_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(empty_database_url(tmp_path))
    upgrade(engine)
    assert pending_changes(engine) == [], "models changed without a migration: alembic revision --autogenerate"
    load_models()
    assert set(inspect(engine).get_table_names()) == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    engine = make_engine(empty_database_url(tmp_path))
    init_db(engine)
    init_db(engine)
    with engine.connect() as conn:
        [version] = conn.exec_driver_sql("select version_num from alembic_version").all()
    assert len(version[0]) == 12


def test_a_database_made_before_migrations_is_stamped(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    load_models()
    SQLModel.metadata.create_all(engine)
    upgrade(engine)
    assert pending_changes(engine) == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from alembic_version").scalar() == 1
