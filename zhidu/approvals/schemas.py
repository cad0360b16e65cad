"""What a flow asks for (``ApprovalSpec``) and what it gets back (``Decision``, the run input of the pause)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from prefect.input import RunInput
from pydantic import BaseModel, Field, field_validator

from models.approval import Mode, Outcome

_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\.]+")


class Approver(BaseModel):
    email: str
    name: str

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        """A bad address fails when the flow describes the step, not in three mail retries later."""
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"approver email {value!r} is not a mail address such as wang@example.com")
        return value


class FormField(BaseModel):
    """An extra field on the decision page (e.g. the investigation result)."""

    name: str
    label: str
    kind: Literal["text", "textarea", "choice"] = "text"
    required: bool = False
    choices: list[str] = Field(default_factory=list)
    required_for: Literal["approve", "reject", "any"] = "approve"


class EscalationLevel(BaseModel):
    """Who gets the step when the previous level's deadline passes, and how long they have."""

    approvers: list[Approver]
    mode: Mode = Mode.any
    within_hours: float | None = None
    within_workdays: int | None = None


class ApprovalSpec(BaseModel):
    """One approval step as a flow describes it; the text fields are Chinese, for people."""

    process: str
    case_id: str
    step: str
    title: str
    details: dict[str, str] = Field(default_factory=dict)
    approvers: list[Approver]
    mode: Mode = Mode.any
    deadline: datetime
    remind_before_hours: float | None = None
    escalation: list[EscalationLevel] = Field(default_factory=list)
    fields: list[FormField] = Field(default_factory=list)
    choice_labels: dict[str, str] = Field(default_factory=lambda: {"approve": "同意", "reject": "不同意"})
    instructions_label: str = "意见"

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("deadline must be timezone-aware")
        return value

    @field_validator("approvers")
    @classmethod
    def _some(cls, value: list[Approver]) -> list[Approver]:
        if not value:
            raise ValueError("an approval step needs at least one approver")
        return value

    def level_approvers(self, level: int) -> tuple[list[Approver], Mode]:
        if level == 0:
            return self.approvers, self.mode
        esc = self.escalation[level - 1]
        return esc.approvers, esc.mode


class Vote(BaseModel):
    approver: str
    name: str
    outcome: Outcome
    comment: str = ""
    fields: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class Decision(RunInput):
    """The run input a waiting flow resumes with."""

    request_id: str
    outcome: Outcome
    level: int = 0
    decided_by: str = ""
    decided_by_name: str = ""
    comment: str = ""
    fields: dict[str, Any] = Field(default_factory=dict)
    decided_at: datetime
    votes: list[Vote] = Field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.outcome == Outcome.approve
