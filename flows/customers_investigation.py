"""Investigation of one suspicious case (可疑客户排查, 篇九 §7, §13).

The channel staff (渠道内勤) investigate within the case deadline — the earlier of 3 working days after the list
date and the end of the 犹豫期 less the return-visit days — answering 排除可疑 / 已修正 / 查实虚假 on the approval
form; reminders, then escalation to the channel manager and compliance when late. The result is applied (a
correction updates the policy with an audit of old and new values), then compliance checks it (合规复核). A result
sent back, or an incomplete answer, goes to the staff once more (``MAX_ROUNDS``); the second check is final.
"""

from __future__ import annotations

from prefect import flow

from tasks.approvals import await_approval
from tasks.customers import apply_result, finish_case, load_case, mark_checked, reopen_case
from zhidu.customers.review import MAX_ROUNDS, check_step, investigation_step, result_problems


@flow(name="customers-investigation", flow_run_name="可疑客户排查-{number}")
def customers_investigation(case_id: int, number: str = "") -> str:
    """Carry one case from the list to compliance's check; returns the case status."""
    view = load_case(case_id)
    note, sent_back_at = "", None
    for attempt in range(1, MAX_ROUNDS + 1):
        answer = await_approval(investigation_step(view, attempt, sent_back_at, note))
        if not answer.approved:
            return finish_case(case_id, "渠道未完成排查（无法完成或逾期），案件保持待排查")
        problems = result_problems(answer.fields, view)
        if problems:
            note, sent_back_at = "上次提交不完整：" + "；".join(problems), answer.decided_at
            continue
        result = apply_result(case_id, attempt, answer)
        check = await_approval(check_step(view, attempt, result, str(answer.fields.get("evidence", "")),
                                          answer.decided_at))
        if check.approved:
            mark_checked(case_id, check)
            return finish_case(case_id, f"合规复核通过（{check.decided_by_name or check.decided_by}）")
        reopen_case(case_id, attempt, check, f"合规退回：{check.comment or '未说明理由'}")
        note, sent_back_at = f"合规退回：{check.comment or '未说明理由'}", check.decided_at
    return finish_case(case_id, "两次排查未获合规复核通过（或提交不完整），案件保持待排查，由合规人工处理")
