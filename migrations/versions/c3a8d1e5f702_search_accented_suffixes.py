"""search analysis: Spanish and French suffixes stemmed with their accents (issue 11)

Words reach the Snowball stemmers with their accents folded, so the Spanish rules for "-ación", "-ución" and
"-logía" and the French rule for "-ière" never applied ("incautación" kept its suffix, "incautaciones" lost it).
Those suffixes now get their accent back before stemming (documents.accented_suffix), in Python for Whoosh and the
thesaurus, and in the text given to PostgreSQL's spanish and french configurations (documents.stemming_input), so
stored search documents hold stems and synonym tokens of the old analysis. The PostgreSQL search tables (cases and
records) are emptied, so that the consistency check (`/healthz`, the first search, or `flask --app app search
reindex`) rebuilds them from the database, as 5e4c0b0a1d19 did; the embedded Whoosh indexes carry their own schema
version (13) and are rebuilt the same way. No table or column changes; on SQLite this does nothing.

Revision ID: c3a8d1e5f702
Revises: b7d2e6f4a915
Create Date: 2026-12-06 07:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a8d1e5f702'
down_revision = 'b7d2e6f4a915'
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
