"""Web pages of the procurement process (采购、验收、入库/固定资产、报销（篇二）)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["procurement"])
