"""The ``zhidu`` command: run the system's parts, and operate each process from the shell."""

from __future__ import annotations

import typer

from zhidu.cli import platform, quality

app = typer.Typer(help="zhidu 制度流程平台", no_args_is_help=True, add_completion=False)
platform.register(app)
app.add_typer(quality.app, name="quality", help="质量信息（篇五）")

if __name__ == "__main__":
    app()
