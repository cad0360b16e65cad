"""The ``zhidu`` command: run the system's parts, and operate each process from the shell."""

from __future__ import annotations

import typer

from zhidu.cli import customers, market, platform, procurement, quality

app = typer.Typer(help="zhidu 制度流程平台", no_args_is_help=True, add_completion=False)
platform.register(app)
app.add_typer(quality.app, name="quality", help="质量信息（篇五）")
app.add_typer(customers.app, name="customers", help="可疑客户信息核查（篇九）")
app.add_typer(market.app, name="market", help="市场信息与定期报告（篇四、篇七）")
app.add_typer(procurement.app, name="procurement", help="采购到报销（篇二）")

if __name__ == "__main__":
    app()
