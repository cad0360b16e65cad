"""Favourable and unfavourable effects (有利影响/不利影响, 篇四 §14) and immediate-report triggers (§15), by rules
kept as data in ``data/market_effects.yaml``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from models.market import PRICE_TYPE_LABELS, PriceType
from zhidu.settings import get_settings

Subject = Literal["own", "competitor", "market"]
Metric = Literal["avg_price", "volume"]
EffectKind = Literal["favourable", "unfavourable"]
EFFECT_LABELS: dict[str, str] = {"favourable": "有利", "unfavourable": "不利"}
SUBJECT_LABELS: dict[str, str] = {"own": "本公司", "competitor": "竞争对手", "market": "市场"}
PCT = Decimal("0.01")

# (product, price type, subject, metric) → percent change against the previous period
ChangeKey = tuple[str, str, str, str]


class Condition(BaseModel):
    subject: Subject
    metric: Metric
    direction: Literal["up", "down"]
    threshold_pct: Decimal = Field(ge=0)

    def holds(self, pct: Decimal | None) -> bool:
        if pct is None:
            return False
        return pct >= self.threshold_pct if self.direction == "up" else pct <= -self.threshold_pct


class EffectRule(BaseModel):
    code: str
    name: str
    effect: EffectKind
    when: list[Condition] = Field(min_length=1)
    text: str

    @model_validator(mode="after")
    def _placeholders(self) -> EffectRule:
        try:
            self.text.format(product="p", price_type="t", change="1%", changes="1%")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"rule {self.code}: bad placeholder in text: {exc}") from exc
        return self


class SizeLevel(BaseModel):
    min_pct: Decimal = Field(ge=0)
    label: str


class ImmediateSettings(BaseModel):
    threshold_pct: Decimal = Field(default=Decimal(8), gt=0)
    baseline: Literal["weekly", "monthly", "quarterly"] = "weekly"


class EffectRules(BaseModel):
    size_levels: list[SizeLevel] = Field(min_length=1)
    immediate: ImmediateSettings = ImmediateSettings()
    rules: list[EffectRule]

    @model_validator(mode="after")
    def _check(self) -> EffectRules:
        codes = [r.code for r in self.rules]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate rule code")
        self.size_levels = sorted(self.size_levels, key=lambda s: s.min_pct, reverse=True)
        return self

    def size_of(self, magnitude: Decimal) -> str:
        for level in self.size_levels:
            if magnitude >= level.min_pct:
                return level.label
        return self.size_levels[-1].label


class EffectRulesError(ValueError):
    pass


def parse_rules(path: Path) -> EffectRules:
    """Load and validate a rules file; errors name the file and the entry."""
    try:
        return EffectRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise EffectRulesError(f"{path}: {exc}") from exc


@lru_cache
def load_rules() -> EffectRules:
    """The rules in ``<data_dir>/market_effects.yaml``."""
    return parse_rules(get_settings().data_dir / "market_effects.yaml")


def pct_change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """(current − previous) / previous × 100, rounded half-up to 0.01; None when there is nothing to compare."""
    if current is None or previous is None or previous == 0:
        return None
    return ((current - previous) * 100 / previous).quantize(PCT, rounding=ROUND_HALF_UP)


def fmt_pct(pct: Decimal | None) -> str:
    """``+3.25%`` / ``-1.00%`` / ``—``."""
    return "—" if pct is None else f"{pct:+.2f}%"


@dataclass(frozen=True)
class Effect:
    """One favourable or unfavourable effect found in a period, with its size (影响程度)."""

    code: str
    name: str
    effect: EffectKind
    product: str
    price_type: str
    magnitude: Decimal  # the largest absolute percent change among the rule's conditions
    size: str
    text: str

    @property
    def effect_label(self) -> str:
        return EFFECT_LABELS[self.effect]


def price_type_label(code: str) -> str:
    try:
        return PRICE_TYPE_LABELS[PriceType(code)]
    except ValueError:
        return code


def evaluate_effects(changes: Mapping[ChangeKey, Decimal | None], rules: EffectRules) -> list[Effect]:
    """Apply every rule to every (product, price type); unfavourable first, then by size, then by product."""
    pairs = sorted({(product, ptype) for product, ptype, _, _ in changes})
    found: list[Effect] = []
    for rule in rules.rules:
        for product, ptype in pairs:
            pcts = [changes.get((product, ptype, c.subject, c.metric)) for c in rule.when]
            if not all(c.holds(p) for c, p in zip(rule.when, pcts, strict=True)):
                continue
            values = [p for p in pcts if p is not None]
            magnitude = max(abs(p) for p in values)
            label = price_type_label(ptype)
            text = rule.text.format(
                product=product,
                price_type=label,
                change=f"{abs(values[0]):.2f}%",
                changes="，".join(
                    f"{SUBJECT_LABELS[c.subject]}{fmt_pct(p)}" for c, p in zip(rule.when, values, strict=True)
                ),
            )
            found.append(
                Effect(rule.code, rule.name, rule.effect, product, label, magnitude, rules.size_of(magnitude), text)
            )
    return sorted(found, key=lambda e: (e.effect != "unfavourable", -e.magnitude, e.product, e.price_type, e.code))


# --- immediate reports (不定期即时上报) --------------------------------------------------------------------------


class PricedEntry(Protocol):
    @property
    def entry_date(self) -> date: ...
    @property
    def region(self) -> str: ...
    @property
    def product(self) -> str: ...
    @property
    def price_type(self) -> str: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def competitor(self) -> str: ...


BaselineKey = tuple[str, str, str]  # (product, region, price type)


@dataclass(frozen=True)
class ImmediateTrigger:
    """A new price that moved more than the threshold from the previous period's average."""

    entry_date: date
    region: str
    product: str
    price_type: str
    competitor: str
    price: Decimal
    baseline: Decimal
    change_pct: Decimal
    baseline_label: str

    @property
    def label(self) -> str:
        """The immediate report's key: one report per day, region, product, price type and company."""
        who = self.competitor or "本公司"
        return f"{self.entry_date.isoformat()}/{self.region}/{self.product}/{self.price_type}/{who}"

    @property
    def text(self) -> str:
        who = self.competitor or "本公司"
        return (
            f"{self.entry_date.isoformat()} {self.region}{who}{self.product}{price_type_label(self.price_type)}"
            f"为{self.price}，较上期（{self.baseline_label}）均价{self.baseline}变动{fmt_pct(self.change_pct)}"
        )


def detect_immediate(
    entries: Iterable[PricedEntry],
    baseline: Mapping[BaselineKey, Decimal],
    *,
    threshold_pct: Decimal,
    baseline_label: str = "",
) -> list[ImmediateTrigger]:
    """Entries whose price is at least ``threshold_pct`` percent from the baseline average (same key)."""
    triggers: list[ImmediateTrigger] = []
    for entry in entries:
        if entry.price is None:
            continue
        ptype = str(entry.price_type)
        avg = baseline.get((entry.product, entry.region, ptype))
        change = pct_change(entry.price, avg)
        if change is None or abs(change) < threshold_pct:
            continue
        assert avg is not None
        triggers.append(
            ImmediateTrigger(
                entry.entry_date, entry.region, entry.product, ptype, entry.competitor, entry.price, avg, change,
                baseline_label,
            )
        )
    return triggers
