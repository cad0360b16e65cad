"""The quality demo for ``make run``: one item of each class, registered once, each started as a routing run."""

from __future__ import annotations

from sqlmodel import func, select

from models.quality import QualityItem, QualityItemCreate, Source
from zhidu.db import session_scope, utcnow

QUALITY_DEMO = [
    QualityItemCreate(source=Source.outside, kind="药品抽查公告", title="省药监局抽查公告：某批次阿莫西林胶囊不合格",
                      description="公告编号 2026-118，涉及批号 A2611，"
                                  "需全店下架排查并通知已购顾客（联系电话 13800138000）。",
                      departments=["PUR", "STORE", "WH"], reporter="孙质管员", sudden_major=True),
    QualityItemCreate(source=Source.inside, kind="质量信息反馈单", title="冷链药品到货温度记录缺失",
                      description="本周两批冷链药品到货时温度记录仪数据缺失，需采购与仓储协同追查供应商。",
                      departments=["PUR", "WH"], reporter="吴仓管"),
    QualityItemCreate(source=Source.outside, kind="质量投诉", title="顾客投诉：维生素C泡腾片包装破损",
                      description="顾客反映购买的维生素C泡腾片外包装破损，要求换货。",
                      departments=["STORE"], reporter="郑客服"),
]


def load_quality_demo() -> list[str]:
    """Register the demo quality items (one of each class) unless the register already has items."""
    from zhidu.quality.intake import store_items

    with session_scope() as session:
        if session.exec(select(func.count()).select_from(QualityItem)).one():
            return []
        return [s.number for s in store_items(session=session, items=QUALITY_DEMO, now=utcnow())]


def start_quality_runs(numbers: list[str]) -> None:
    from flows.quality_intake import start_routing_run

    for number in numbers:
        start_routing_run(number, "demo")



def start_demo() -> str | None:
    """Load and start the quality demo; a line for the console, or None when it was loaded before."""
    numbers = load_quality_demo()
    start_quality_runs(numbers)
    return f"质量信息：已登记并启动流转 {'、'.join(numbers)}" if numbers else None
