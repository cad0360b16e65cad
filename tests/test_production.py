"""The production footing on loopback (issue 6): a Prefect server on PostgreSQL, two process workers on the work
pool, two stateless approval web instances, PostgreSQL for the application, a real SMTP sink.

Marked ``production``: `make test` runs them in its PostgreSQL pass (they use PostgreSQL whatever the pass).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from tests.prefect_stack import poll
from tests.production_stack import PUBLIC_URL, Production, start_production
from zhidu.db import make_engine

pytestmark = pytest.mark.production
DRILL = "approval-drill/approval-drill"
CASES = int(os.environ.get("ZHIDU_TEST_DRILL_CASES", "100"))  # 200 and 500: see docs/benchmarks.md


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    production = start_production(tmp_path_factory.mktemp("production"), workers=2, webs=2)
    try:
        yield production
    finally:
        production.stop()


def start_cases(prod: Production, prefix: str, count: int) -> dict[str, str]:
    """Start ``count`` drill runs, one approver each; case id → approver email."""
    dep = prod.deployment_id(DRILL)
    cases = {f"{prefix}{i:04d}": f"{prefix.lower()}{i}@drill.example" for i in range(count)}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda c: prod.create_run(dep, {"case_id": c[0], "approver_email": c[1]}), cases.items()))
    return cases


def mails(prod: Production, subject_part: str) -> Counter[str]:
    """Recipient → number of mails whose subject contains ``subject_part``."""
    return Counter(r for m in prod.inbox.list() if subject_part in m.subject for r in m.recipients)


def wait_requests(prod: Production, cases: dict[str, str], timeout: float) -> dict[str, str]:
    """Wait for every case's approval mail; approver email → the link's path."""
    def found() -> dict[str, str] | None:
        links = {}
        for m in prod.inbox.list():
            if "审批演练" in m.subject and "已收到" not in m.subject and m.recipients[0] in cases.values():
                path = re.search(re.escape(PUBLIC_URL) + r"(/a/\S+)", prod.inbox.get(m.id).text or "")
                assert path is not None
                links[m.recipients[0]] = path.group(1)
        return links if len(links) == len(cases) else None

    return poll(found, timeout, f"{len(cases)} approval mails", interval=2)


def decide(page_url: str, post_url: str, path: str, again_url: str | None = None) -> list[int]:
    """Open the page on one web instance and POST the decision to another (and once more, a double click)."""
    with httpx.Client(timeout=60) as client:
        page = client.get(page_url + path)
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        form |= {"decision": "approve", "comment": "演练通过"}
        codes = [client.post(post_url + path, data=form, headers={"Origin": PUBLIC_URL}).status_code]
        if again_url:
            codes.append(client.post(again_url + path, data=form, headers={"Origin": PUBLIC_URL}).status_code)
    return codes


def decide_all(prod: Production, links: dict[str, str], double_every: int = 0) -> list[list[int]]:
    """Decide every link, alternating the instances; every ``double_every``-th is POSTed twice (0: none)."""
    a, b = prod.web_urls
    jobs = [(a if i % 2 else b, b if i % 2 else a, path,
             (a if i % 2 else b) if double_every and i % double_every == 0 else None)
            for i, path in enumerate(links.values())]
    with ThreadPoolExecutor(32) as pool:
        return list(pool.map(lambda j: decide(*j), jobs))


def db_count(prod: Production, sql: str) -> int:
    engine = make_engine(prod.db_url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def wait_completed(prod: Production, count: int, timeout: float) -> None:
    dep = prod.deployment_id(DRILL)

    def done() -> bool:
        failed = prod.runs_in(dep, "FAILED") + prod.runs_in(dep, "CRASHED")
        assert failed == 0, f"{failed} drill runs failed (see the worker logs in {prod.root})"
        return prod.runs_in(dep, "COMPLETED") >= count

    poll(done, timeout, f"{count} completed drill runs", interval=3)


def test_two_workers_two_webs_cases_none_twice(prod: Production) -> None:
    cases = start_cases(prod, "D", CASES)
    links = wait_requests(prod, cases, timeout=1800)
    dep = prod.deployment_id(DRILL)
    poll(lambda: prod.runs_in(dep, "PAUSED") == CASES, 600, "every drill run suspended", interval=2)
    started = time.monotonic()
    codes = decide_all(prod, links, double_every=5)
    burst = time.monotonic() - started
    assert all(c[0] == 200 for c in codes), Counter(c[0] for c in codes)
    assert all(c[1] == 409 for c in codes if len(c) == 2), "a double click must not decide twice"
    wait_completed(prod, CASES, timeout=2400)
    print(f"{CASES} decisions posted in {burst:.1f} s; all runs completed")
    assert mails(prod, "审批演练") == Counter({e: 2 for e in cases.values()})  # one request, one result each
    runs = [r for r in prod.runs(dep) if r["parameters"]["case_id"].startswith("D")]
    assert len(runs) == CASES and len({r["parameters"]["case_id"] for r in runs}) == CASES
    assert {prod.running_transitions(r["id"]) for r in runs} == {2}  # started once, resumed once: never twice
    assert db_count(prod, "select count(*) from approval_outbox where status = 'delivered'") >= CASES
    assert db_count(prod, "select count(*) from sent_mail where status <> 'sent'") == 0


def test_decisions_while_prefect_is_down_are_delivered_after(prod: Production) -> None:
    cases = start_cases(prod, "P", 10)
    links = wait_requests(prod, cases, timeout=600)
    dep = prod.deployment_id(DRILL)
    poll(lambda: prod.runs_in(dep, "PAUSED") == 10, 300, "the P runs suspended", interval=2)
    completed_before = prod.runs_in(dep, "COMPLETED")
    prod.stop_server()
    assert all(c == [200] for c in decide_all(prod, links))
    pending = "select count(*) from approval_outbox o join approval_request r on r.id = o.request_id " \
              "where r.case_id like 'P%' and o.status = 'pending'"
    assert db_count(prod, pending) == 10
    prod.start_server()
    wait_completed(prod, completed_before + 10, timeout=900)
    assert db_count(prod, pending) == 0
    counts = mails(prod, "审批演练")
    assert {e: counts[e] for e in cases.values()} == {e: 2 for e in cases.values()}


def test_mail_refused_for_a_minute_goes_out_once_when_back(prod: Production) -> None:
    prod.smtp.refusing = True
    back = threading.Timer(60, lambda: setattr(prod.smtp, "refusing", False))
    back.start()
    cases = start_cases(prod, "S", 5)
    try:
        links = wait_requests(prod, cases, timeout=600)
    finally:
        back.cancel()
        prod.smtp.refusing = False
    assert not back.is_alive()
    codes = decide_all(prod, links)
    assert all(c == [200] for c in codes)
    poll(lambda: all(mails(prod, "已收到")[e] == 1 for e in cases.values()), 600, "the S result mails", interval=2)
    counts = mails(prod, "审批演练")
    assert {e: counts[e] for e in cases.values()} == {e: 2 for e in cases.values()}  # none lost, none twice
    refused_then_sent = "select count(*) from sent_mail m join approval_request r " \
                        "on m.idempotency_key like 'approval:' || r.id || ':%' " \
                        "where r.case_id like 'S%' and m.status = 'sent' and m.attempts >= 2"
    assert db_count(prod, refused_then_sent) == 5  # each was refused at least once, then sent
