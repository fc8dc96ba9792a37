"""PostgreSQL search ranking without touching every matching row (issue 11)

Where the server offers the RUM index access method (Debian: postgresql-15-rum), the rum extension is created and
case_search.rank_document gets a RUM index: `ORDER BY rank_document <=> query LIMIT n` then reads the best
candidates' ranks from the index (positions and weights are stored in it) instead of computing ts_rank over every
matching row. With ranking served by the index, the table keeps only what filtering and counting read: a row
larger than TOAST_TARGET bytes has its tsvectors compressed and moved to the TOAST table, so counting and facet
counts read a few thousand pages at 100,000 cases instead of twenty thousand. Existing rows change at the next
`flask search reindex`: they move their vectors out, and the synonym lexemes of rank_document get the position RUM
needs to rank them (until then a case found only through a synonym ranks last among the candidates).

Where rum is not available (or the role may not create extensions) nothing changes: the backend detects the
index at run time and ranks through the GIN index as before. SQLite: nothing to do. The index is not in the
models' metadata (it depends on the server): network.core.db.OPTIONAL_INDEXES names it, so that
comparing the models with the database leaves it out.

Revision ID: 5e4c0b0a1d12
Revises: 5e4c0b0a1d11
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d12'
down_revision = '5e4c0b0a1d11'
branch_labels = None
depends_on = None

RUM_INDEX = "ix_case_search_rank_rum"
TOAST_TARGET = 512


def _rum_available(bind) -> bool:
    return bool(bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).scalar())


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _rum_available(bind):
        return
    # CREATE EXTENSION needs a role allowed to create it: without that, keep the GIN path rather than fail.
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rum"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return
    savepoint.commit()
    op.execute(f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} ON case_search USING rum (rank_document rum_tsvector_ops)")
    op.execute(f"ALTER TABLE case_search SET (toast_tuple_target = {TOAST_TARGET})")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    op.execute("ALTER TABLE case_search RESET (toast_tuple_target)")
    # The extension stays: other databases objects may use it, and it costs nothing unused.
