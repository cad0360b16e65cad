"""Benchmark: a decision's latency — POST → response, and POST → the flow's next step started — with a bare
Prefect resume call (what the web service does after writing the decision) measured in the same run as the floor.
Goal: POST response p95 ≤ 300 ms.

    .venv/bin/python bench/approval_latency.py [--cases 30] [--workers 1]

Stands up the production profile on loopback (tests/production_stack.py: Prefect server and application database
on PostgreSQL, process workers, one web instance, SMTP sink), starts ``2 × cases`` approval drills and waits until
all are suspended. Then, one at a time: half are decided through the web page (GET, then the timed POST), half
are resumed by a bare ``PrefectResumer.resume`` call. "Next step started" is the start time of the flow's
``take_decision`` task run after the resume; it includes the worker's poll (PREFECT_WORKER_QUERY_SECONDS=1 here)
and a new flow-run process. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.prefect_stack import poll  # noqa: E402
from tests.production_stack import PUBLIC_URL, Production, start_production  # noqa: E402

DRILL = "approval-drill/approval-drill"


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def links(prod: Production, count: int) -> dict[str, str]:
    def found() -> dict[str, str] | None:
        out = {}
        for m in prod.inbox.list():
            hit = re.search(re.escape(PUBLIC_URL) + r"(/a/\S+)", prod.inbox.get(m.id).text or "")
            if hit and "审批演练" in m.subject:
                out[m.recipients[0]] = hit.group(1)
        return out if len(out) >= count else None

    return poll(found, 1800, f"{count} approval mails", interval=2)


def next_step_started(prod: Production, run_id: str) -> datetime:
    def started() -> datetime | None:
        body = {"flow_runs": {"id": {"any_": [run_id]}}, "task_runs": {"name": {"like_": "审批-结果"}}}
        rows: list[dict[str, Any]] = httpx.post(f"{prod.api}/task_runs/filter", json=body, timeout=30).json()
        times = [r["start_time"] for r in rows if r.get("start_time")]
        return datetime.fromisoformat(min(times)) if times else None

    return poll(started, 600, f"the next step of {run_id}", interval=0.5)


def decide_by_web(prod: Production, path: str) -> float:
    with httpx.Client(base_url=prod.web_urls[0], timeout=60) as client:
        page = client.get(path)
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        form |= {"decision": "approve", "comment": "基准"}
        started = time.perf_counter()
        answer = client.post(path, data=form, headers={"Origin": PUBLIC_URL})
        elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return elapsed


def resume_bare(prod: Production, run_id: str, request_id: str) -> float:
    import os

    from zhidu.approvals.delivery import PrefectResumer, pause_key

    os.environ["ZHIDU_PREFECT_API_URL"] = prod.api
    run_input = {"request_id": request_id, "outcome": "approve", "decided_at": datetime.now(UTC).isoformat(),
                 "decided_by": "bench@bench.example"}
    started = time.perf_counter()
    result = PrefectResumer(api_url=prod.api).resume(flow_run_id=run_id, key=pause_key(request_id),
                                                     run_input=run_input)
    elapsed = time.perf_counter() - started
    assert result.outcome.value == "delivered", result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    from sqlalchemy import text

    from zhidu.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        prod = start_production(Path(tmp), workers=args.workers, webs=1)
        try:
            dep = prod.deployment_id(DRILL)
            cases = {f"L{i:03d}": f"l{i}@drill.example" for i in range(2 * args.cases)}
            runs = {c: prod.create_run(dep, {"case_id": c, "approver_email": e}) for c, e in cases.items()}
            paths = links(prod, len(cases))
            poll(lambda: prod.runs_in(dep, "PAUSED") == len(cases), 900, "all drills suspended", interval=2)
            engine = make_engine(prod.db_url)
            with engine.connect() as conn:
                request_of = dict(conn.execute(text("select case_id, id from approval_request")).all())
            web: list[tuple[float, float]] = []
            bare: list[tuple[float, float]] = []
            for i, (case, email) in enumerate(cases.items()):
                sent = datetime.now(UTC)
                if i % 2:
                    response = resume_bare(prod, runs[case], request_of[case])
                else:
                    response = decide_by_web(prod, paths[email])
                step = (next_step_started(prod, runs[case]) - sent).total_seconds()
                (bare if i % 2 else web).append((response, step))
        finally:
            prod.stop()
    for name, rows in (("bare resume call (floor)", bare), ("decision POST (web)", web)):
        resp = [r * 1000 for r, _ in rows]
        step = [s for _, s in rows]
        print(f"{name:26} n={len(rows)}  response p50 {pct(resp, 50):.0f} ms p95 {pct(resp, 95):.0f} ms   "
              f"next step started p50 {pct(step, 50):.1f} s p95 {pct(step, 95):.1f} s")


if __name__ == "__main__":
    main()
