"""The production profile on loopback, in subprocesses: a Prefect server on PostgreSQL, the deployments of
prefect.yaml on the process work pool, N process workers, M stateless approval web instances, the application
database on PostgreSQL, and an in-process SMTP sink (which can be told to refuse mail)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from tests.dbs import DATABASES
from tests.prefect_stack import free_port, poll, stop
from zhidu import ROOT
from zhidu.db import init_db, make_engine
from zhidu.devmail import Inbox, MaildirHandler, start_sink
from zhidu.production import deploy_all, worker_cmd

PUBLIC_URL = "http://zhidu.test"  # what the reverse proxy would serve; every instance accepts its Origin
SECRET = "production-test-secret-key-0123456789abcdef"


@dataclass
class Production:
    root: Path
    api: str
    env: dict[str, str]
    db_url: str
    sink: Controller
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    web_urls: list[str] = field(default_factory=list)

    @property
    def inbox(self) -> Inbox:
        return Inbox(self.root / "mail")

    @property
    def smtp(self) -> MaildirHandler:
        handler: MaildirHandler = self.sink.handler
        return handler

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(cmd, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                            start_new_session=True)

    def start_server(self) -> None:
        port = self.api.split(":")[-1].split("/")[0]
        self._spawn("prefect-server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", port])
        poll(lambda: httpx.get(f"{self.api}/health", timeout=2).status_code == 200, 120, "the Prefect server")

    def stop_server(self) -> None:
        stop(self.procs.pop("prefect-server", None))

    def start_workers(self, count: int, limit: int) -> None:
        for i in range(count):
            self._spawn(f"worker-{i}", worker_cmd(limit, f"worker-{i}"))

    def start_webs(self, count: int) -> None:
        for i in range(count):
            port = free_port()
            self._spawn(f"web-{i}", [sys.executable, "-m", "zhidu.cli", "web", "--port", str(port)])
            self.web_urls.append(f"http://127.0.0.1:{port}")
        for url in self.web_urls:
            poll(lambda u=url: httpx.get(f"{u}/healthz", timeout=2).status_code == 200, 60, f"web {url}")

    def deployment_id(self, name: str) -> str:
        return str(httpx.get(f"{self.api}/deployments/name/{name}", timeout=10).raise_for_status().json()["id"])

    def create_run(self, deployment_id: str, parameters: dict[str, Any]) -> str:
        r = httpx.post(f"{self.api}/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters},
                       timeout=30)
        return str(r.raise_for_status().json()["id"])

    def runs_in(self, deployment_id: str, state_type: str) -> int:
        body = {"deployments": {"id": {"any_": [deployment_id]}},
                "flow_runs": {"state": {"type": {"any_": [state_type]}}}}
        return int(httpx.post(f"{self.api}/flow_runs/count", json=body, timeout=30).raise_for_status().json())

    def runs(self, deployment_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200, "offset": len(out)}
            page = httpx.post(f"{self.api}/flow_runs/filter", json=body, timeout=30).raise_for_status().json()
            out += page
            if len(page) < 200:
                return out

    def running_transitions(self, run_id: str) -> int:
        states = httpx.get(f"{self.api}/flow_run_states/", params={"flow_run_id": run_id}, timeout=30).json()
        return sum(1 for s in states if s["type"] == "RUNNING")

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            stop(proc)
        self.procs.clear()
        self.sink.stop()


def production_env(root: Path, api: str, db_url: str, smtp_port: int, prefect_db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHIDU_", "PREFECT_"))}
    return env | {
        "ZHIDU_PROFILE": "prod", "ZHIDU_ROOT": str(ROOT), "ZHIDU_VAR_DIR": str(root / "var"),
        "ZHIDU_DATABASE_URL": db_url, "ZHIDU_SMTP_HOST": "127.0.0.1", "ZHIDU_SMTP_PORT": str(smtp_port),
        "ZHIDU_SMTP_TLS": "none", "ZHIDU_PUBLIC_URL": PUBLIC_URL, "ZHIDU_SECRET_KEY": SECRET,
        "ZHIDU_PREFECT_API_URL": api, "ZHIDU_OUTBOX_BACKOFF_BASE": "1", "ZHIDU_OUTBOX_BACKOFF_MAX": "10",
        "PREFECT_API_URL": api, "PREFECT_HOME": str(root / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db_url, "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


def start_production(root: Path, workers: int = 2, webs: int = 2, limit: int = 6) -> Production:
    """Start everything (the deployments are deployed with ``zhidu.production.deploy_all``, as ``zhidu deploy``)."""
    db_url = DATABASES.postgres_url("app")
    engine = make_engine(db_url)
    init_db(engine)
    engine.dispose()
    prefect_db = DATABASES.postgres_url("prefect").replace("postgresql+psycopg2", "postgresql+asyncpg")
    sink = start_sink("127.0.0.1", 0, root / "mail")
    api = f"http://127.0.0.1:{free_port()}/api"
    prod = Production(root, api, production_env(root, api, db_url, sink.port, prefect_db), db_url, sink)
    try:
        prod.start_server()
        deploy_all(prod.env)
        prod.start_workers(workers, limit)
        prod.start_webs(webs)
    except BaseException:
        prod.stop()
        raise
    return prod
