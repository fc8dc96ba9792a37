"""search analysis for relevance (issue 11)

The thesaurus grew (State names in the six UN languages from the CLDR, each case also holding the group of its
requesting and requested States; terms matched without their inner stop words; new groups and terms), so every
stored search document may lack synonym tokens it should hold. The PostgreSQL search tables are emptied here, so
that the consistency check (`/healthz`, the first search, or `flask --app app search reindex`) rebuilds them from
the database; the embedded Whoosh index carries its own schema version and is rebuilt the same way. No table or
column changes; on SQLite this does nothing.

Revision ID: 5e4c0b0a1d13
Revises: 4e9e57000001
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d13'
down_revision = '4e9e57000001'
branch_labels = None
depends_on = None

# The search tables of the revisions before this one (the per-kind table, then the one table keyed by kind).
SEARCH_TABLES = ("case_search", "search_records")


def _empty_search_tables() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    present = set(sa.inspect(bind).get_table_names())
    for table in SEARCH_TABLES:
        if table in present:
            op.execute(f"DELETE FROM {table}")  # noqa: S608 (a constant of this module)


def upgrade():
    _empty_search_tables()


def downgrade():
    _empty_search_tables()
