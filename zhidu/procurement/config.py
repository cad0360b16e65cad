"""The administrator's procurement settings (``data/procurement.yaml``): threshold, quotes, SLAs, categories."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from models.procurement import ItemKind, Registration, Stage
from zhidu.settings import get_settings


class Category(BaseModel):
    code: str
    name: str
    kind: ItemKind
    registration: Registration


class ProcurementConfig(BaseModel):
    leader_threshold: Decimal
    min_quotes: dict[ItemKind, int]
    sla_workdays: dict[Stage, int]
    inventory_workdays: int = 5
    escalation_workdays: int = 2  # after a step's deadline, the next level (IT centre head / factory leader) has this
    remind_before_hours: float = 8  # a reminder (催办) this long before a step's deadline
    asset_tag_prefix: str = "ZC"
    warehouse_prefix: str = "RK"
    case_prefix: str = "CG"
    asset_categories: list[Category]

    @field_validator("leader_threshold", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('money must be written as a quoted string, e.g. "50000.00", not a float')
        return value

    @model_validator(mode="after")
    def _complete(self) -> ProcurementConfig:
        missing = [s.value for s in Stage if s is not Stage.paid and s not in self.sla_workdays]
        if missing:
            raise ValueError(f"sla_workdays lacks stages: {', '.join(missing)}")
        if set(self.min_quotes) != set(ItemKind):
            raise ValueError("min_quotes needs hardware and software")
        codes = [c.code for c in self.asset_categories]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate asset category code")
        return self

    def category(self, code: str) -> Category | None:
        for c in self.asset_categories:
            if c.code == code:
                return c
        return None

    def category_names(self) -> str:
        return "、".join(f"{c.code}({c.name})" for c in self.asset_categories)


class ConfigError(ValueError):
    pass


def parse_config(path: Path) -> ProcurementConfig:
    """Load and validate one procurement settings file; errors name the file."""
    try:
        return ProcurementConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@lru_cache
def load_config() -> ProcurementConfig:
    """The settings in ``<data_dir>/procurement.yaml``."""
    return parse_config(get_settings().data_dir / "procurement.yaml")
