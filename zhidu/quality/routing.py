"""Who decides and who executes each class (篇五 §8–§10), and the approval steps the flow runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from models.approval import Mode
from models.quality import QClass, QualityItem, QualityItemBase
from zhidu.approvals.schemas import ApprovalSpec, Approver, EscalationLevel, FormField
from zhidu.directory import Directory, Person, load_directory
from zhidu.quality.classify import decision_table
from zhidu.workdays import get_calendar

PROCESS = "quality"
CLASS_TEXT = {
    QClass.A: "A类（重大，最高领导决策）",
    QClass.B: "B类（多部门，主管部门协调）",
    QClass.C: "C类（部门自行处理）",
}


def _dir() -> Directory:
    return load_directory(PROCESS)


def owner_of(qclass: QClass, departments: list[str]) -> str:
    """A → the top leader's office; B → QA coordinates; C → the one department concerned."""
    directory = _dir()
    if qclass == QClass.A:
        return directory.by_role("top_leader")[0].department
    if qclass == QClass.B:
        return directory.by_role("qa_manager")[0].department
    return directory.department(departments[0]).code


def decision_due(qclass: QClass, created: datetime) -> datetime:
    return get_calendar().workday_deadline(created, decision_table().sla.decision_workdays[qclass])


def feedback_due(item: QualityItemBase, created: datetime) -> datetime | None:
    """Abnormal or sudden major items: written feedback within 24 hours (§9)."""
    if not (item.abnormal or item.sudden_major):
        return None
    return created + timedelta(hours=decision_table().sla.feedback_hours)


def approver(person: Person) -> Approver:
    return Approver(email=person.email, name=person.name)


def _details(item: QualityItem) -> dict[str, str]:
    names = [_dir().department(d).name for d in item.departments]
    source = "内部" if item.source == "inside" else "外部"
    return {"登记号": item.number, "分级": CLASS_TEXT[item.qclass], "来源": source,
            "类别": item.kind, "标题": item.title, "内容": item.description, "涉及部门": "、".join(names),
            "报告人": item.reporter, "异常/突发重大": "是" if (item.abnormal or item.sudden_major) else "否"}


def _escalation(dept_code: str) -> list[EscalationLevel]:
    up = _dir().escalation_of(dept_code)
    return [EscalationLevel(approvers=[approver(up)], within_workdays=1)] if up else []


def decision_step(item: QualityItem) -> ApprovalSpec:
    """A: the top leader; B: the head of the competent (first) department; C: the department's head."""
    directory = _dir()
    if item.qclass == QClass.A:
        decider, dept = directory.by_role("top_leader")[0], directory.by_role("top_leader")[0].department
    else:
        dept = directory.department(item.departments[0]).code
        decider = directory.head_of(dept)
    title = f"质量信息{item.qclass.value}类决策：{item.title}"
    return ApprovalSpec(
        process=PROCESS, case_id=item.number, step="决策", title=title, details=_details(item),
        approvers=[approver(decider)], deadline=item.decision_due, escalation=_escalation(dept),
        remind_before_hours=decision_table().sla.remind_before_hours, instructions_label="决策意见/批示",
        choice_labels={"approve": "同意处理", "reject": "不予处理"},
    )


def feedback_step(item: QualityItem) -> ApprovalSpec:
    """QA's written feedback (书面反馈) of an abnormal/sudden item within 24 hours; late → the QA head's superior."""
    qa = _dir().by_role("qa_manager")[0]
    assert item.feedback_due is not None
    return ApprovalSpec(
        process=PROCESS, case_id=item.number, step="24小时书面反馈", title=f"异常/突发质量信息书面反馈：{item.title}",
        details=_details(item), approvers=[approver(qa)], deadline=item.feedback_due,
        escalation=_escalation(qa.department), remind_before_hours=4,
        fields=[FormField(name="feedback", label="书面反馈内容", kind="textarea", required=True)],
        choice_labels={"approve": "提交书面反馈", "reject": "无需反馈（须说明理由）"},
    )


def execution_step(item: QualityItem, due: datetime) -> ApprovalSpec:
    """Every executing department confirms execution (会签, mode all); C: the department reports its result."""
    heads = [_dir().head_of(d) for d in item.departments]
    label = "处理结果" if item.qclass == QClass.C else "执行情况"
    return ApprovalSpec(
        process=PROCESS, case_id=item.number, step="执行确认", title=f"质量信息执行确认：{item.title}",
        details=_details(item) | {"决策意见": item.decision or ""}, approvers=[approver(p) for p in heads],
        mode=Mode.all, deadline=due, remind_before_hours=decision_table().sla.remind_before_hours,
        fields=[FormField(name="result", label=label, kind="textarea", required=True)],
        choice_labels={"approve": "确认已执行", "reject": "无法执行"},
    )


def feedback_recipients(item: QualityItem) -> list[Person]:
    """Who gets the 信息反馈单: the responsible leader and every department concerned."""
    directory = _dir()
    people = [directory.by_role("top_leader")[0]] + [directory.head_of(d) for d in item.departments]
    return list({p.email: p for p in people}.values())


def override_class(*, session: Session, number: str, qclass: QClass, by: str, reason: str) -> QualityItem:
    """A manual classification that records who and why (the flow reads the class when it starts)."""
    if not by.strip() or not reason.strip():
        raise ValueError("人工调整分级必须填写调整人和理由")
    item = session.exec(select(QualityItem).where(QualityItem.number == number)).one()
    item.qclass, item.class_rule, item.override_by, item.override_reason = qclass, "manual", by, reason
    item.owner = owner_of(qclass, item.departments)
    item.decision_due = decision_due(qclass, item.created_at)
    session.add(item)
    session.commit()
    return item
