"""``zhidu market``: operate the market process from the shell (市场信息与定期报告（篇四、篇七）)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
