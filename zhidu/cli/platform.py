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


def web() -> None:
    """Run the approval web service (uvicorn)."""
    import uvicorn

    from zhidu.settings import get_settings

    s = get_settings()
    uvicorn.run("zhidu.web.app:create_app", factory=True, host=s.web_host, port=s.web_port, log_level="warning")


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
    """Create the application tables."""
    from zhidu.db import init_db

    init_db()
    console.print("数据库已就绪")


def register(app: typer.Typer) -> None:
    for command in (up, serve, web, sink, sweep, initdb):
        app.command()(command)
