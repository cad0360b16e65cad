"""SQLModel tables and schemas, one module per process (``zhidu.db.load_models`` imports them all)."""
