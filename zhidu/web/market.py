"""Web pages of the market process (市场信息与定期报告（篇四、篇七）)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["market"])
