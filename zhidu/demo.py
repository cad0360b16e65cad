"""Demo data for ``make run``: each process's ``zhidu/<process>/demo.py:start_demo`` loads its data once and
starts its runs; a second ``make run`` finds the data there and starts nothing twice."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from rich.console import Console

from zhidu.db import init_db

console = Console()

PROCESSES = ("quality", "customers", "market", "procurement")


def starters() -> list[tuple[str, Callable[[], str | None]]]:
    """Every process's ``start_demo`` (a process without one yet is left out)."""
    found = []
    for name in PROCESSES:
        module = importlib.import_module(f"zhidu.{name}.demo")
        start = getattr(module, "start_demo", None)
        if start is not None:
            found.append((name, start))
    return found


def main() -> None:
    init_db()
    for name, start in starters():
        line = start()
        console.print(line if line else f"{name}: 演示数据已存在，未重复载入。")


if __name__ == "__main__":
    main()
