"""search analysis: State names matched as written with their inflected forms, not stemmed (issue 11)

A State's names and adjectives reach its synonym group (query.state_groups) on their folded forms and the forms
they take in running text (Russian cases, Arabic proclitics and adjectives, the gender and number of English, French
and Spanish adjectives: query.state_forms), no longer on their stems, which they shared with ordinary words (البحرين
"Bahrain" and البحر "the sea", Дания "Denmark" and данные "data", "France" and "francs"); a few names that are
ordinary words are left out (`state_homonyms:` in synonyms.yaml), and a Chinese name is not found in the bigram where
two words meet (非法|国际 holds 法国). Stored search documents hold the synonym tokens of the old analysis: the
PostgreSQL search tables (cases and records) are emptied, so that the consistency check (`/healthz`, the first
search, or `flask --app app search reindex`) rebuilds them from the database, as d5e1f0a2b314 did; the embedded
Whoosh indexes carry their own schema version (15) and are rebuilt the same way. No table or column changes; on
SQLite this does nothing.

Revision ID: e7c4a2f9b318
Revises: d5e1f0a2b314
Create Date: 2026-12-06 10:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7c4a2f9b318'
down_revision = 'd5e1f0a2b314'
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
