"""Who is who: one directory file per organisation (``data/directory/<process>.yaml``), edited without code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, EmailStr, Field, ValidationError, model_validator

from zhidu.settings import get_settings


class Person(BaseModel):
    id: str
    name: str
    email: EmailStr
    department: str
    roles: list[str] = Field(default_factory=list)


class Department(BaseModel):
    code: str
    name: str
    head: str
    escalate_to: str | None = None  # the person one level up from the head


class Directory(BaseModel):
    """People, departments and roles of one organisation."""

    organisation: str
    people: list[Person]
    departments: list[Department]

    @model_validator(mode="after")
    def _references(self) -> Directory:
        ids = {p.id for p in self.people}
        if len(ids) != len(self.people):
            raise ValueError("duplicate person id in directory")
        codes = {d.code for d in self.departments}
        for p in self.people:
            if p.department not in codes:
                raise ValueError(f"person {p.id}: unknown department {p.department!r}")
        for d in self.departments:
            for ref in (d.head, d.escalate_to):
                if ref is not None and ref not in ids:
                    raise ValueError(f"department {d.code}: unknown person {ref!r}")
        return self

    def person(self, person_id: str) -> Person:
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(f"no person {person_id!r} in the directory of {self.organisation}")

    def department(self, code: str) -> Department:
        for d in self.departments:
            if d.code == code or d.name == code:
                return d
        known = ", ".join(f"{d.code}({d.name})" for d in self.departments)
        raise KeyError(f"unknown department {code!r}; known: {known}")

    def has_department(self, code: str) -> bool:
        return any(d.code == code or d.name == code for d in self.departments)

    def by_role(self, role: str) -> list[Person]:
        found = [p for p in self.people if role in p.roles]
        if not found:
            raise KeyError(f"nobody has role {role!r} in the directory of {self.organisation}")
        return found

    def head_of(self, code: str) -> Person:
        return self.person(self.department(code).head)

    def escalation_of(self, code: str) -> Person | None:
        dept = self.department(code)
        return self.person(dept.escalate_to) if dept.escalate_to else None


class DirectoryError(ValueError):
    pass


def parse_directory(path: Path) -> Directory:
    """Load and validate one directory file; errors name the file and the entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Directory.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DirectoryError(f"{path}: {exc}") from exc


@lru_cache
def load_directory(process: str) -> Directory:
    """The directory of the organisation that runs ``process`` (``data/directory/<process>.yaml``)."""
    return parse_directory(get_settings().data_dir / "directory" / f"{process}.yaml")
