"""Web pages of the customers process (可疑客户信息核查（篇九）)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["customers"])
