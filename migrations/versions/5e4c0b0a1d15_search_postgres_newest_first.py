"""search: the newest cases first from an index (issue 11)

A search without words (filters only, or none) lists the newest cases first. PostgreSQL sorted every matching row
of case_search to find the first page (at 100,000 cases, a filter keeping 60,000: a scan of the table and a sort);
an index in that order (filed_on descending, undated last, then case_id descending) lets it read the page's rows
and stop. No data changes. PostgreSQL only: SQLite refuses NULLS LAST in an index (and its case_search stays
empty); network.core.db.OPTIONAL_INDEXES names the index, so that comparing the models with a database leaves it
out.

Revision ID: 5e4c0b0a1d15
Revises: 5e4c0b0a1d14
Create Date: 2026-12-05 14:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d15'
down_revision = '5e4c0b0a1d14'
branch_labels = None
depends_on = None

INDEX = "ix_case_search_filed_on"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON case_search (filed_on DESC NULLS LAST, case_id DESC)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
