"""search on PostgreSQL: selector lexemes in case_search.document (issue 11, item 5)

Each case's `document` gains lexemes for its status, its visibility, its facet tokens and its sample bucket
("~:s:published", "~:v:public", "~:f:region:africa", "~:b:3"; postgres_backend.selector_lexemes), so that a text
query, the reader's scope, the facet filters and a sample of the matches are one condition of the text's GIN index.
The rows are updated in place from their own columns (the bucket is (case_id / 16) % 16, as
postgres_backend.sample_bucket computes it): no rebuild is needed. No table or column changes; on SQLite (where
case_search is always empty) this does nothing. The downgrade removes the lexemes again.

Revision ID: 5e4c0b0a1d17
Revises: 5e4c0b0a1d16
Create Date: 2026-12-05 17:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d17'
down_revision = '5e4c0b0a1d16'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        UPDATE case_search SET document = document || array_to_tsvector(
            ARRAY['~:s:' || status, '~:v:' || visibility, '~:b:' || ((case_id / 16) % 16)::text]
            || ARRAY(SELECT '~:f:' || token FROM unnest(facets) AS token WHERE token IS NOT NULL))
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        UPDATE case_search SET document = ts_delete(document, ARRAY(
            SELECT lexeme FROM unnest(tsvector_to_array(document)) AS lexeme WHERE lexeme LIKE '~:%'))
    """)
