"""A migration module loaded by tests on their own session: its upgrade() and downgrade() run where the test's
transaction (rolled back at the end) can see and undo them."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


class _SessionOp:
    """Alembic's `op`, as far as the project's migrations use it, on a SQLAlchemy session."""

    def __init__(self, session) -> None:
        self._session = session

    def get_bind(self):
        return self._session.connection()

    def execute(self, statement: str) -> None:
        self._session.execute(sa.text(statement))


def load_migration(revision: str, session=None) -> ModuleType:
    """The migration of `revision` (its file name's start); with `session`, its `op` runs there."""
    path = next(VERSIONS.glob(f"{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if session is not None:
        module.op = _SessionOp(session)
    return module
