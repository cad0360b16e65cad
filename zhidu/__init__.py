"""zhidu (制度): information-management regulations run as Prefect workflows."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
