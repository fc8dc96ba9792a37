"""search thesaurus: the court and its judgment; States' adjectives; broader concepts (issue 11)

The thesaurus gained groups for the court, the judgment, banks and wildlife in the six UN languages, the
adjectives and demonyms of 53 States in their groups ("américain", "suizos", "швейцарской", "السويسرية"), and broader
concepts (a case naming ivory also holds wildlife crime, one naming cocaine drug trafficking: `broader:` in
synonyms.yaml), so every stored search document may lack synonym tokens it should hold. The PostgreSQL search tables
are emptied, so that the consistency check (`/healthz`, the first search, or `flask --app app search reindex`)
rebuilds them from the database, as 5e4c0b0a1d16 did; the embedded Whoosh index carries its own schema version (11)
and is rebuilt the same way. No table or column changes; on SQLite this does nothing.

Revision ID: 5e4c0b0a1d18
Revises: 5e4c0b0a1d17
Create Date: 2026-12-05 19:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d18'
down_revision = '5e4c0b0a1d17'
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
