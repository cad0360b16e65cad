"""A real Prefect server and a runner serving prefect.yaml, in subprocesses, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from zhidu import ROOT

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    """Call ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class PrefectStack:
    root: Path
    api: str
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    runner: subprocess.Popen[bytes] | None = None

    def start_server(self) -> None:
        log = (self.root / "prefect-server.log").open("ab")
        port = self.api.split(":")[-1].split("/")[0]
        self.server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                        "--port", port], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        poll(lambda: httpx.get(f"{self.api}/health", timeout=2).status_code == 200, 120, "the Prefect server")

    def stop_server(self) -> None:
        stop(self.server)
        self.server = None

    def start_runner(self) -> None:
        log = (self.root / "runner.log").open("ab")
        self.runner = subprocess.Popen([sys.executable, "-m", "zhidu.cli", "serve", "--no-schedules"], env=self.env,
                                       stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        poll(lambda: self.deployment_id("quality-routing/quality-routing"), 120, "the deployments")

    def deployment_id(self, name: str) -> str | None:
        r = httpx.get(f"{self.api}/deployments/name/{name}", timeout=5)
        return r.json()["id"] if r.status_code == 200 else None

    def run(self, name: str, parameters: dict[str, Any]) -> str:
        dep = self.deployment_id(name)

        def create() -> str | None:  # the SQLite-backed server answers 503 while its database is locked
            r = httpx.post(f"{self.api}/deployments/{dep}/create_flow_run", json={"parameters": parameters}, timeout=10)
            return None if r.status_code == 503 else str(r.raise_for_status().json()["id"])

        return poll(create, 30, f"a run of {name}")

    def state(self, run_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api}/flow_runs/{run_id}", timeout=5).json()["state"])

    def wait_state(self, run_id: str, kind: str, timeout: float = 90) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            state = self.state(run_id)
            if state["type"] in ("FAILED", "CRASHED") and kind not in ("FAILED", "CRASHED"):
                raise AssertionError(f"run {run_id} ended {state['type']}: {state.get('message')}")
            return state if state["type"] == kind else None

        return poll(check, timeout, f"run {run_id} to be {kind}")

    def stop(self) -> None:
        stop(self.runner)
        stop(self.server)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    for sig in (15, 2, 9):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return
