"""``make run``: start the whole embedded system, load the demo, print the URLs; Ctrl-C stops everything."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console

from zhidu import ROOT
from zhidu.settings import get_settings

console = Console()
PREFECT_PORT = int(os.environ.get("ZHIDU_PREFECT_PORT", "4200"))


def child_env() -> dict[str, str]:
    """The environment every child shares: its own Prefect home under var/, no telemetry, quick polling."""
    s = get_settings()
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(s.var_dir / "prefect"))
    env.setdefault("PREFECT_API_URL", f"http://127.0.0.1:{PREFECT_PORT}/api")
    env.setdefault("ZHIDU_PREFECT_API_URL", env["PREFECT_API_URL"])
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    env.setdefault("ZHIDU_ROOT", str(ROOT))
    return env


class Supervisor:
    """Children in their own process groups, stopped together (twice-signalled, then killed)."""

    def __init__(self, logdir: Path) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logdir = logdir
        logdir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            alive = [(n, p) for n, p in reversed(self.children) if p.poll() is None]
            for _, p in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, sig)
            deadline = time.monotonic() + 8
            while any(p.poll() is None for _, p in alive) and time.monotonic() < deadline:
                time.sleep(0.2)
        console.print("所有进程已停止。")

    def dead(self) -> list[str]:
        return [n for n, p in self.children if p.poll() is not None]


def wait_until(check: Callable[[], bool], what: str, timeout: float, sup: Supervisor) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if sup.dead():
            raise RuntimeError(f"{', '.join(sup.dead())} exited early; see var/logs/")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s; see var/logs/")


def _ok(url: str) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=2).status_code == 200


def _deployments_ready(api: str, count: int) -> Callable[[], bool]:
    return lambda: len(httpx.post(f"{api}/deployments/filter", json={}, timeout=2).json()) >= count


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def busy_ports(ports: list[int]) -> list[int]:
    """Ports on 127.0.0.1 that something already listens on."""
    busy = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT comes ignored
    signal.signal(signal.SIGHUP, _interrupt)
    s = get_settings()
    own = "ZHIDU_SMTP_HOST" not in os.environ and "ZHIDU_SMTP_PORT" not in os.environ
    taken = busy_ports([PREFECT_PORT, s.web_port] + ([s.smtp_port] if own else []))
    if taken:
        console.print(f"[red]端口 {taken} 已被占用：是否已有一个 zhidu 在运行？请先停止它。[/red]")
        return 1
    env = child_env()
    api = env["PREFECT_API_URL"]
    sup = Supervisor(s.var_dir / "logs")
    py = sys.executable
    own_sink = "ZHIDU_SMTP_HOST" not in os.environ and "ZHIDU_SMTP_PORT" not in os.environ
    try:
        if own_sink:
            sup.start("mail-sink", [py, "-m", "zhidu.cli", "sink"], env)
        sup.start("prefect-server", [py, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                     "--port", str(PREFECT_PORT)], env)
        sup.start("web", [py, "-m", "zhidu.cli", "web"], env)
        wait_until(_ok(f"{api}/health"), "Prefect server", 90, sup)
        sup.start("runner", [py, "-m", "zhidu.cli", "serve"], env)
        from zhidu.deployments import read_deployments

        wait_until(_ok(f"http://{s.web_host}:{s.web_port}/healthz"), "web", 60, sup)
        wait_until(_deployments_ready(api, len(read_deployments())), "deployments", 90, sup)
        subprocess.run([py, "-m", "zhidu.demo"], env=env, check=True, cwd=ROOT)
        ready = time.monotonic() - started
        console.rule("[bold green]zhidu 已启动")
        console.print(f"Prefect 界面:   http://127.0.0.1:{PREFECT_PORT}")
        console.print(f"审批服务:       {s.public_url}")
        if own_sink:
            console.print(f"本地收件箱:     {s.public_url}/inbox")
        else:
            console.print(f"邮件发往:       {s.smtp_host}:{s.smtp_port}")
        console.print(f"日志:           {s.var_dir / 'logs'}")
        console.print(f"就绪用时 {ready:.1f} 秒。按 Ctrl-C 停止全部进程。")
        while not sup.dead():
            time.sleep(1)
        console.print(f"[red]{', '.join(sup.dead())} 意外退出，正在停止其余进程（见 var/logs/）[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("\n正在停止……")
        return 0
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        console.print(f"[red]启动失败：{exc}[/red]")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sup.stop()
