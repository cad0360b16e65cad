"""The product table (``data/insurance_products.yaml``): name, category, scope, 犹豫期 and return-visit days."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel

from zhidu.settings import get_settings

IN_SCOPE_CATEGORIES = frozenset({"寿险", "分红险", "投连险", "万能险", "普通寿险", "意外险", "健康险"})


class Product(BaseModel):
    code: str
    name: str
    category: str = "寿险"
    individual: bool = True
    cooling_off_days: int = 15  # 犹豫期
    return_visit_days: int = 2  # days the 犹豫期回访 needs before the period ends

    @property
    def in_scope_category(self) -> bool:
        return self.individual and self.category in IN_SCOPE_CATEGORIES


class ProductTable(BaseModel):
    defaults: dict[str, int] = {}
    products: list[Product] = []

    def get(self, code: str) -> Product | None:
        for p in self.products:
            if p.code == code:
                return p
        return None

    def default(self, code: str = "") -> Product:
        """An unknown product with the default 犹豫期 and return-visit days."""
        return Product(code=code, name=code, **self.defaults)  # type: ignore[arg-type]


def parse_products(path: Path) -> ProductTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    defaults = raw.get("defaults", {})
    products = [Product(**{**defaults, **p}) for p in raw.get("products", [])]
    return ProductTable(defaults=defaults, products=products)


@lru_cache
def load_products() -> ProductTable:
    """The product table from the data directory (cached; ``load_products.cache_clear()`` after editing)."""
    return parse_products(get_settings().data_dir / "insurance_products.yaml")
