"""Classification A/B/C by a decision table kept as data (``data/quality_classes.yaml``, 篇五 §5)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from models.quality import QClass, QualityItemBase, Source
from zhidu.settings import get_settings


class Condition(BaseModel, extra="forbid"):
    sudden_major: bool | None = None
    abnormal: bool | None = None
    source: Source | None = None
    kinds: list[str] | None = None
    min_departments: int | None = None
    max_departments: int | None = None

    def holds(self, item: QualityItemBase) -> bool:
        n = len(item.departments)
        checks = [
            self.sudden_major is None or item.sudden_major == self.sudden_major,
            self.abnormal is None or item.abnormal == self.abnormal,
            self.source is None or item.source == self.source,
            self.kinds is None or item.kind in self.kinds,
            self.min_departments is None or n >= self.min_departments,
            self.max_departments is None or n <= self.max_departments,
        ]
        return all(checks)


class Rule(BaseModel, extra="forbid"):
    name: str
    when: Condition
    qclass: QClass = Field(alias="class")


class Sla(BaseModel):
    decision_workdays: dict[QClass, int]
    execution_workdays: int
    feedback_hours: float
    remind_before_hours: float


class DecisionTable(BaseModel):
    rules: list[Rule]
    sla: Sla

    def classify(self, item: QualityItemBase) -> Rule:
        """The first rule whose conditions all hold."""
        for rule in self.rules:
            if rule.when.holds(item):
                return rule
        raise LookupError("no classification rule matched; the table needs a last rule with an empty 'when'")


def parse_table(path: Path) -> DecisionTable:
    return DecisionTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache
def decision_table() -> DecisionTable:
    """The table in ``data/quality_classes.yaml`` (re-read after ``decision_table.cache_clear()``)."""
    return parse_table(get_settings().data_dir / "quality_classes.yaml")
