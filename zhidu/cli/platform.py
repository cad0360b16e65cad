"""Platform commands: up (everything), serve (deployments), web, sink, sweep, initdb."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()


def up() -> None:
    """Start the whole embedded system (Prefect server, deployments, web, mail sink, demo data)."""
    from zhidu.up import main

    raise typer.Exit(main())


def serve(schedules: bool = typer.Option(True, help="with the schedules of prefect.yaml")) -> None:
    """Serve every deployment in prefect.yaml from this process (the embedded runner)."""
    from zhidu.deployments import serve_all

    serve_all(with_schedules=schedules)


def web(host: str = typer.Option("", help="default ZHIDU_WEB_HOST"),
        port: int = typer.Option(0, help="default ZHIDU_WEB_PORT"),
        workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """Run the approval web service (uvicorn). It keeps no state: run as many as you like behind a proxy."""
    import uvicorn

    from zhidu.db import init_db
    from zhidu.settings import get_settings

    s = get_settings()
    init_db()
    uvicorn.run("zhidu.web.app:create_app", factory=True, host=host or s.web_host, port=port or s.web_port,
                workers=workers, log_level="warning", proxy_headers=True, forwarded_allow_ips="*")


def deploy() -> None:
    """Production: create the process work pool ``zhidu`` and deploy every deployment of prefect.yaml to it."""
    from zhidu.db import init_db
    from zhidu.production import deploy_all

    init_db()
    deploy_all()
    console.print("已部署 prefect.yaml 中的全部部署到工作池 zhidu；请在各工作机上运行 zhidu worker")


def worker(limit: int = typer.Option(0, help="flow runs at once on this worker (0: no limit)"),
           name: str = typer.Option("", help="worker name shown in the Prefect UI")) -> None:
    """Production: run one process worker on the pool ``zhidu`` (start one per machine, or more)."""
    import os

    from zhidu.production import worker_cmd

    cmd = worker_cmd(limit or None, name or None)
    os.execv(cmd[0], cmd)


def sink() -> None:
    """Run the local SMTP sink (dev profile) on ZHIDU_SMTP_HOST:ZHIDU_SMTP_PORT."""
    from zhidu.devmail import main

    main()


def sweep() -> None:
    """One pass of the approval sweeper, outside Prefect (delivery, reminders, escalation)."""
    from zhidu.approvals.delivery import PrefectResumer
    from zhidu.approvals.sweeper import sweep as run_sweep
    from zhidu.db import init_db, utcnow

    init_db()
    console.print(run_sweep(now=utcnow(), resumer=PrefectResumer()))


def initdb() -> None:
    """Create or migrate the application tables (alembic upgrade head)."""
    from zhidu.db import init_db

    init_db()
    console.print("数据库已就绪")


def register(app: typer.Typer) -> None:
    for command in (up, serve, web, deploy, worker, sink, sweep, initdb):
        app.command()(command)
