"""Benchmark: the approval page (GET /a/{token}) at 50 concurrent connections, with GET /healthz (no database, no
template) measured in the same run as the floor. Goal: page p95 ≤ 50 ms.

    .venv/bin/python bench/approval_page.py [--database sqlite|postgresql] [--web-workers 1] [--seconds 20]

Needs Debian's ``wrk`` (``apt-get install wrk``). The web service runs as ``zhidu web`` (uvicorn) in a subprocess;
each GET verifies the signed token, reads the request and its links, records a page view and renders the page.
Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LUA = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("P50 %%.2f\\nP95 %%.2f\\nP99 %%.2f\\nRPS %%.1f\\nERR %%d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
      + summary.errors.status))
end
"""


def make_links(count: int) -> list[str]:
    """Open ``count`` approval requests with one approver each; the page paths of their links."""
    from zhidu.approvals.schemas import ApprovalSpec, Approver
    from zhidu.approvals.service import links_of, open_request
    from zhidu.approvals.tokens import make_token
    from zhidu.db import init_db, session_scope

    init_db()
    now = datetime.now(UTC)
    paths = []
    with session_scope() as session:
        for i in range(count):
            spec = ApprovalSpec(process="bench", case_id=f"PG{i:03d}", step="drill", title=f"页面基准 {i}",
                                details={"说明": "基准测试"},
                                approvers=[Approver(email=f"a{i}@bench.example", name="甲")],
                                deadline=now + timedelta(days=3))
            request = open_request(session=session, spec=spec, level=0, flow_run_id=None, now=now)
            paths += [f"/a/{make_token(link_id=link.id, request_id=request.id)}" for link in links_of(session=session,
                                                                                   request_id=request.id)]
    return paths


def wrk(url: str, paths: list[str], seconds: int, tmp: Path) -> dict[str, float]:
    script = tmp / "paths.lua"
    script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{seconds}s", "-s", str(script), url], capture_output=True,
                         text=True, check=True).stdout
    return {k: float(v) for k, v in re.findall(r"^(P50|P95|P99|RPS|ERR) ([\d.]+)$", out, re.MULTILINE)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    from tests.dbs import DATABASES
    from tests.prefect_stack import free_port, poll, stop

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = DATABASES.postgres_url("pagebench") if args.database == "postgresql" else f"sqlite:///{tmp / 'b.db'}"
        os.environ |= {"ZHIDU_DATABASE_URL": url, "ZHIDU_VAR_DIR": str(tmp / "var"), "ZHIDU_PROFILE": "prod",
                       "ZHIDU_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789"}
        paths = make_links(50)
        port = free_port()
        web = subprocess.Popen([sys.executable, "-m", "zhidu.cli", "web", "--port", str(port), "--workers",
                                str(args.web_workers)], start_new_session=True)
        try:
            import httpx

            base = f"http://127.0.0.1:{port}"
            poll(lambda: httpx.get(f"{base}/healthz").status_code == 200, 60, "the web service")
            assert httpx.get(base + paths[0]).status_code == 200
            floor = wrk(base, ["/healthz"], args.seconds, tmp)
            page = wrk(base, paths, args.seconds, tmp)
        finally:
            stop(web)
    print(f"database {args.database}, uvicorn workers {args.web_workers}, 50 connections, {args.seconds} s each")
    for name, r in (("GET /healthz (floor)", floor), ("GET /a/{token} (page)", page)):
        print(f"{name:24} p50 {r['P50']:.1f} ms  p95 {r['P95']:.1f} ms  p99 {r['P99']:.1f} ms  "
              f"{r['RPS']:.0f} req/s  errors {r['ERR']:.0f}")
    print(f"page p95 / floor p95: {page['P95'] / floor['P95']:.1f}x (goal: page p95 <= 50 ms)")


if __name__ == "__main__":
    main()
