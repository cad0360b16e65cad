"""Market information and its weekly, monthly, quarterly and immediate reports (篇四 §9–§16, 篇七).

Modules: ``periods`` (which week/month/quarter), ``reminders`` (form due dates), ``importing``/``forms``
(CSV/xlsx with row errors), ``report`` (exact aggregates → ``MarketReport``), ``effects`` (favourable and
unfavourable effects, immediate triggers; rules in ``data/market_effects.yaml``), ``queries`` (database reads),
``records`` (exactly-once claim, archive, read log, loans), ``render``/``charts``/``workbook`` (email, markdown,
PNG charts, .xlsx), ``demo`` (seeded data).
"""
