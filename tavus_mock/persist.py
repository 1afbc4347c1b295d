"""What the two databases of `--db` share (db.py for SQLite and the store, pg.py for PostgreSQL): their
errors, and the rule for a stored schema's version."""

from __future__ import annotations

from collections.abc import Mapping


class StoreError(Exception):
    """A change could not be stored (the commit failed); the request is answered 500."""


class DatabaseError(Exception):
    """The database cannot be used: not a tavus-mock state, one written by a newer version, or out of reach."""


def migrations(name: str, found: int, latest: int, steps: Mapping[int, str], other: str) -> list[tuple[int, str]]:
    """The (new version, statement) steps that bring a stored schema from `found` to `latest`; a newer
    schema, or one with no way up, is a DatabaseError naming `name` (`other`: what else to use)."""
    if found > latest:
        raise DatabaseError(
            f"{name} was written by a newer tavus-mock (schema {found}; this one reads up to {latest}): "
            f"upgrade tavus-mock, or use another {other}"
        )
    plan = []
    for version in range(found, latest):
        step = steps.get(version)
        if step is None:
            raise DatabaseError(f"{name} has schema {version}, which this tavus-mock cannot migrate")
        plan.append((version + 1, step))
    return plan
