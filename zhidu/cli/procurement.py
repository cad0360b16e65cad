"""``zhidu procurement``: operate the procurement process from the shell (采购、验收、入库/固定资产、报销（篇二）)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
