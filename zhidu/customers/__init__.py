"""Suspicious-customer review (篇九, 人身保险客户信息真实性): business rules as plain functions.

Modules: ``normalize`` (phones, accounts, addresses, person keys), ``idcheck`` (GB 11643 ID numbers, §6),
``entry`` (key data §5, scope §4, one row), ``importing`` (CSV/.xlsx exports), ``detection`` (§7, §11),
``deadlines`` (3 working days / 犹豫期, §7, §13), ``outcomes`` (§13), ``followups`` (§14, §22), ``demo``.
"""
