"""Procurement → acceptance → warehouse or fixed asset → reimbursement (篇二 第二章 §7, §8, §22–§24).

Plain typed functions for the tasks of ``flows/procurement_case.py`` and ``flows/procurement_ledger.py``;
each one that changes state takes ``session=``.
"""

from zhidu.procurement.acceptance import (
    acceptance_signoff_plan,
    acceptance_state,
    apply_acceptance_decision,
    record_check,
)
from zhidu.procurement.case import history
from zhidu.procurement.config import ProcurementConfig, load_config
from zhidu.procurement.inventory import (
    complete_inventory,
    open_inventory_tasks,
    reallocate_asset,
    schedule_inventory,
)
from zhidu.procurement.orders import place_order
from zhidu.procurement.reconcile import Mismatch, MismatchKind, reconcile
from zhidu.procurement.registration import enter_warehouse, register_assets, unregistered
from zhidu.procurement.reimbursement import (
    ClaimOutcome,
    apply_reimbursement_decision,
    claim_refusals,
    record_payment,
    reimbursement_plan,
    submit_claim,
)
from zhidu.procurement.requests import (
    PlanStep,
    amend_request,
    apply_request_decision,
    approval_plan,
    decisions,
    open_case,
    request_approval_plan,
    request_versions,
)
from zhidu.procurement.schemas import (
    InvoiceIn,
    ItemIn,
    OrderLineIn,
    ProcurementError,
    QuoteIn,
    RequestIn,
    StageError,
    parse_request,
    validate_request,
)
from zhidu.procurement.status import CaseStatus, case_status

__all__ = [
    "CaseStatus", "ClaimOutcome", "InvoiceIn", "ItemIn", "Mismatch", "MismatchKind", "OrderLineIn", "PlanStep",
    "ProcurementConfig", "ProcurementError", "QuoteIn", "RequestIn", "StageError", "acceptance_signoff_plan",
    "acceptance_state", "amend_request", "apply_acceptance_decision", "apply_reimbursement_decision",
    "apply_request_decision", "approval_plan", "case_status", "claim_refusals", "complete_inventory", "decisions",
    "enter_warehouse", "history", "load_config", "open_case", "open_inventory_tasks", "parse_request",
    "place_order", "reallocate_asset", "reconcile", "record_check", "record_payment", "register_assets",
    "reimbursement_plan", "request_approval_plan", "request_versions", "schedule_inventory", "submit_claim",
    "unregistered", "validate_request",
]  # fmt: skip
