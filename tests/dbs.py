"""Test databases: SQLite files or PostgreSQL databases (``ZHIDU_TEST_DB=postgresql``), each a copy of a template
built once per test session from the models and stamped at alembic head, so a test starts in milliseconds.
(``tests/test_migrations.py`` checks on an empty database that the migrations build exactly that schema.)"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from tests.prefect_stack import poll
from zhidu.db import load_models, make_engine
from zhidu.migrate import alembic_config

KIND = os.environ.get("ZHIDU_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("ZHIDU_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
if KIND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"ZHIDU_TEST_DB must be sqlite or postgresql, not {KIND!r}")


class TestDatabases:
    """Hands out fresh databases with the schema at alembic head; drops the PostgreSQL ones at exit."""

    def __init__(self) -> None:
        self._template: str | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="zhidu-tpl-"))
        self._counter = itertools.count()
        self._created: list[str] = []
        atexit.register(self.cleanup)

    def _prefix(self) -> str:
        return f"zt_{os.getpid()}"

    def _admin(self, *statements: str) -> None:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()

    def _pg_url(self, name: str) -> str:
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _schema(self, url: str) -> None:
        from alembic import command

        engine = make_engine(url)
        load_models()
        SQLModel.metadata.create_all(engine)
        command.stamp(alembic_config(engine), "head")
        if KIND == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    def _build_template(self) -> str:
        if KIND == "sqlite":
            path = self._dir / "template.db"
            self._schema(f"sqlite:///{path}")
            return str(path)
        name = f"{self._prefix()}_template"
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        self._created.append(name)
        self._schema(self._pg_url(name))
        return name

    def empty_url(self, tmp_path: Path) -> str:
        """A new database with no tables at all."""
        if KIND == "sqlite":
            return f"sqlite:///{tmp_path / 'empty.db'}"
        db = f"{self._prefix()}_{next(self._counter)}"
        self._admin(f"CREATE DATABASE {db}")
        self._created.append(db)
        return self._pg_url(db)

    def postgres_url(self, hint: str) -> str:
        """A new empty PostgreSQL database whatever ``ZHIDU_TEST_DB`` says (the production profile's tests)."""
        db = f"{self._prefix()}_{hint}_{next(self._counter)}"
        self._admin(f"CREATE DATABASE {db}")
        self._created.append(db)
        return self._pg_url(db)

    def new_url(self, tmp_path: Path, name: str = "zhidu") -> str:
        """The URL of a new database holding the whole schema and no rows."""
        if self._template is None:
            self._template = self._build_template()
        if KIND == "sqlite":
            target = tmp_path / f"{name}.db"
            shutil.copyfile(self._template, target)
            return f"sqlite:///{target}"
        db = f"{self._prefix()}_{next(self._counter)}"
        template = self._template

        def create() -> bool:  # "source database is being accessed by other users": autovacuum on the template
            try:
                self._admin(f"CREATE DATABASE {db} TEMPLATE {template}")
            except OperationalError as exc:
                if "being accessed by other users" not in str(exc):
                    raise
                return False
            return True

        poll(create, 30, f"CREATE DATABASE {db} TEMPLATE {template}")
        self._created.append(db)
        return self._pg_url(db)

    def cleanup(self) -> None:
        if self._created:
            self._admin(*(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)" for db in reversed(self._created)))
            self._created.clear()
        shutil.rmtree(self._dir, ignore_errors=True)


DATABASES = TestDatabases()


def new_database_url(tmp_path: Path, name: str = "zhidu") -> str:
    """A fresh database (SQLite file under ``tmp_path`` or a PostgreSQL database) at the schema's head."""
    return DATABASES.new_url(tmp_path, name)


def empty_database_url(tmp_path: Path) -> str:
    """A new database with no tables (to run the migrations on)."""
    return DATABASES.empty_url(tmp_path)
