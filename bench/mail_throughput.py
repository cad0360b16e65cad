"""Benchmark: 1,000 approval emails through zhidu's mail boundary vs raw smtplib over one connection (the floor).

    .venv/bin/python bench/mail_throughput.py [--count 1000] [--database sqlite|postgresql]

Both send to the same local aiosmtpd sink. zhidu's path per mail: render the HTML + text templates, build the
MIME message, claim the idempotency key in the database (commit), send over SMTP, mark it sent (commit). The
floor sends the same pre-built messages with one ``smtplib`` connection and nothing else. Goal: ≤ 2× the floor.
Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zhidu.devmail import Inbox, start_sink  # noqa: E402


def configure(tmp: Path, port: int, database: str) -> None:
    os.environ |= {"ZHIDU_VAR_DIR": str(tmp / "var"), "ZHIDU_SMTP_HOST": "127.0.0.1", "ZHIDU_SMTP_PORT": str(port),
                   "ZHIDU_SMTP_TLS": "none"}
    if database == "postgresql":
        from tests.dbs import DATABASES

        os.environ["ZHIDU_DATABASE_URL"] = DATABASES.postgres_url("mailbench")
    else:
        os.environ["ZHIDU_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    from zhidu.db import reset_engine

    reset_engine()  # forget settings read before the environment was set


def zhidu_path(count: int) -> float:
    from zhidu.db import init_db, session_scope
    from zhidu.mail import send_email

    init_db()
    started = time.perf_counter()
    for i in range(count):
        with session_scope() as session:
            send_email(to=[f"approver{i}@bench.example"], subject=f"【审批演练】B{i:05d} 已收到您的决定",
                       template="approval_drill_result",
                       context={"case_id": f"B{i:05d}", "name": "演练审批人", "outcome": "同意",
                                "decided_at": datetime(2026, 12, 3, 1, 0, tzinfo=UTC)},
                       idempotency_key=f"bench:{i}", session=session)
    return time.perf_counter() - started


def floor_path(count: int, port: int) -> float:
    from zhidu.mail import build_message, render_email

    html, text = render_email("approval_drill_result", {"case_id": "B00000", "name": "演练审批人", "outcome": "同意",
                                                        "decided_at": datetime(2026, 12, 3, 1, 0, tzinfo=UTC)})
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.send_message(build_message(to=[f"floor{i}@bench.example"], html=html, text=text,
                                            subject=f"【审批演练】F{i:05d} 已收到您的决定"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sink = start_sink("127.0.0.1", 0, tmp / "mail")
        configure(tmp, sink.port, args.database)
        try:
            floor = floor_path(args.count, sink.port)
            ours = zhidu_path(args.count)
            delivered = Inbox(tmp / "mail").count()
        finally:
            sink.stop()
    print(f"mails: {args.count} each path; delivered to the sink: {delivered} (expected {2 * args.count})")
    print(f"raw smtplib, one connection: {floor:.2f} s ({args.count / floor:.0f} mails/s)")
    print(f"zhidu send_email ({args.database}): {ours:.2f} s ({args.count / ours:.0f} mails/s)")
    print(f"ratio zhidu / floor: {ours / floor:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
