"""``zhidu customers``: operate the customers process from the shell (可疑客户信息核查（篇九）)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
