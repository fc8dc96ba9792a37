"""search analysis: the thesaurus covers the vocabulary's labels; Russian "-ой"/"-ый" stemmed with their "й" (issue 11)

synonyms.yaml gains the terms that let every form of cooperation, crime type, instrument and measure of the
vocabulary reach its group from its label in each of the six UN languages (tests/test_search_thesaurus_coverage.py),
and the Russian stemmer is given back the "й" that folding turned into "и" ("организованной" now stems as
"организованная", documents.STEMMING_ACCENTS), in Python for Whoosh and the thesaurus and in the text given to
PostgreSQL's russian configuration (documents.stemming_input). Stored search documents hold the synonym tokens and
Russian stems of the old analysis: the PostgreSQL search tables (cases and records) are emptied, so that the
consistency check (`/healthz`, the first search, or `flask --app app search reindex`) rebuilds them from the
database, as c3a8d1e5f702 did; the embedded Whoosh indexes carry their own schema version (14) and are rebuilt the
same way. No table or column changes; on SQLite this does nothing.

Revision ID: d5e1f0a2b314
Revises: d8e2f5a1c6b9
Create Date: 2026-12-06 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e1f0a2b314'
down_revision = 'd8e2f5a1c6b9'
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
