"""search thesaurus: the account holder, confidentiality, serving a sentence, the penalty's words (issue 11)

The thesaurus gained groups for the account holder, the confidentiality of a request and serving a sentence in the
six UN languages, the single words for a penalty ("peine", "pena", "наказание", "العقوبة", "刑罚") in the sentencing
group, "surrender" in the extradition group and more spellings of a bank account, so every stored search document
may lack synonym tokens it should hold. The PostgreSQL search tables are emptied, so that the consistency check (`/healthz`, the first
search, or `flask --app app search reindex`) rebuilds them from the database, as 5e4c0b0a1d18 did; the embedded
Whoosh index carries its own schema version (12) and is rebuilt the same way. No table or column changes; on SQLite
this does nothing.

Revision ID: 5e4c0b0a1d19
Revises: 5e4c0b0a1d18
Create Date: 2026-12-06 01:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d19'
down_revision = '5e4c0b0a1d18'
branch_labels = None
depends_on = None

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
