"""Read ``prefect.yaml`` (the one list of deployments and schedules) and serve it in the embedded profile."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

from zhidu import ROOT


@dataclass
class DeploymentEntry:
    name: str
    entrypoint: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flow_name(self) -> str:
        return load_flow(self.entrypoint).name

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


def read_deployments(path: Path = ROOT / "prefect.yaml") -> list[DeploymentEntry]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = DeploymentEntry.__dataclass_fields__
    return [DeploymentEntry(**{k: v for k, v in d.items() if k in keys}) for d in raw["deployments"]]


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    """The flow object named by ``path/to/file.py:function``."""
    file, func = entrypoint.split(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, func)


def _schedule(raw: dict[str, Any]) -> CronSchedule | IntervalSchedule:
    tz = raw.get("timezone", "Asia/Shanghai")
    if "cron" in raw:
        return CronSchedule(cron=raw["cron"], timezone=tz, day_or=raw.get("day_or", True))
    return IntervalSchedule(interval=raw["interval"], timezone=tz)


def to_runner_deployments(entries: list[DeploymentEntry], with_schedules: bool = True) -> list[Any]:
    out = []
    for e in entries:
        schedules = [_schedule(s) for s in e.schedules] if with_schedules else None
        out.append(load_flow(e.entrypoint).to_deployment(
            name=e.name, description=e.description, tags=e.tags, parameters=e.parameters, schedules=schedules))
    return out


def serve_all(with_schedules: bool = True, limit: int | None = None) -> None:
    """Serve every deployment of prefect.yaml from this process (blocks; Ctrl-C stops it)."""
    from prefect import serve

    serve(*to_runner_deployments(read_deployments(), with_schedules), limit=limit)
