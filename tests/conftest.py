"""Shared fixtures: an isolated zhidu (tmp SQLite, tmp var/, a real in-process SMTP sink) per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.dbs import new_database_url
from tests.prefect_stack import PrefectStack, free_port
from zhidu import ROOT
from zhidu.db import init_db, load_models, make_engine, reset_engine
from zhidu.devmail import Inbox, start_sink


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A fresh database (SQLite, or PostgreSQL with ZHIDU_TEST_DB) with every table, for plain business functions."""
    engine = make_engine(new_database_url(tmp_path, "c"))
    load_models()
    with Session(engine) as s:
        yield s
    engine.dispose()


def clear_caches() -> None:
    """Forget every cached object that was built from settings."""
    from zhidu.directory import load_directory
    from zhidu.quality.classify import decision_table
    from zhidu.templating import get_env
    from zhidu.workdays import get_calendar

    reset_engine()
    for cached in (load_directory, decision_table, get_env, get_calendar):
        getattr(cached, "cache_clear", lambda: None)()


@dataclass
class Zhidu:
    root: Path
    inbox: Inbox
    smtp_port: int

    def client(self) -> TestClient:
        """A fresh web app (as after a restart of the web service)."""
        from zhidu.web.app import create_app

        return TestClient(create_app(), base_url="http://testserver")


def apply_env(monkeypatch: pytest.MonkeyPatch, root: Path, smtp_port: int, prefect_api: str, db_url: str) -> None:
    monkeypatch.setenv("ZHIDU_VAR_DIR", str(root / "var"))
    monkeypatch.setenv("ZHIDU_DATABASE_URL", db_url)
    monkeypatch.setenv("ZHIDU_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ZHIDU_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("ZHIDU_SMTP_TLS", "none")
    monkeypatch.delenv("ZHIDU_SMTP_USER", raising=False)
    monkeypatch.setenv("ZHIDU_PUBLIC_URL", "http://testserver")
    monkeypatch.setenv("ZHIDU_SECRET_KEY", "test-secret-key-for-zhidu")
    monkeypatch.setenv("ZHIDU_PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ZHIDU_OUTBOX_BACKOFF_BASE", "0")
    clear_caches()


@pytest.fixture
def zhidu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Zhidu]:
    """zhidu on a tmp database and a real SMTP sink; Prefect pointed at a closed port."""
    sink = start_sink("127.0.0.1", 0, tmp_path / "var" / "mail")
    apply_env(monkeypatch, tmp_path, sink.port, "http://127.0.0.1:9/api", new_database_url(tmp_path))
    init_db()
    try:
        yield Zhidu(tmp_path, Inbox(tmp_path / "var" / "mail"), sink.port)
    finally:
        sink.stop()
        clear_caches()


@dataclass
class Stack:
    zhidu: Zhidu
    prefect: PrefectStack


@pytest.fixture(scope="session")
def _prefect_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, PrefectStack, str]]:
    """One Prefect server, one SMTP sink and one runner (serving prefect.yaml) for all end-to-end tests."""
    root = tmp_path_factory.mktemp("e2e")
    sink = start_sink("127.0.0.1", 0, root / "var" / "mail")
    api = f"http://127.0.0.1:{free_port()}/api"
    db_url = new_database_url(root)
    env = dict(os.environ)
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, root, sink.port, api, db_url)
        env |= {k: v for k, v in os.environ.items() if k.startswith("ZHIDU_")}
        init_db()
    clear_caches()
    env |= {"PREFECT_HOME": str(root / "prefect"), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1", "ZHIDU_ROOT": str(ROOT), "PREFECT_LOGGING_LEVEL": "INFO"}
    stack = PrefectStack(root=root, api=api, env=env)
    try:
        stack.start_server()
        stack.start_runner()
        yield root, sink.port, stack, db_url
    finally:
        stack.stop()
        sink.stop()


@pytest.fixture
def stack(_prefect_stack: tuple[Path, int, PrefectStack, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    root, port, prefect, db_url = _prefect_stack
    apply_env(monkeypatch, root, port, prefect.api, db_url)
    yield Stack(Zhidu(root, Inbox(root / "var" / "mail"), port), prefect)
    clear_caches()
