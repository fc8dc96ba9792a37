"""search analysis 4: Arabic stemmed, CJK bigrams, the six-language thesaurus

The PostgreSQL search tables were written with the previous analysis (no Arabic configuration, Chinese runs as one
word, the smaller thesaurus): they are emptied here, so that the consistency check (`/healthz`, the first search,
or `flask --app app search reindex`) rebuilds them from the database. The embedded Whoosh index carries its own
schema version and is rebuilt the same way. On SQLite these tables are unused and this does nothing.

Revision ID: 7c1e5a0b9f21
Revises: d493e61dab69
Create Date: 2026-12-05 02:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c1e5a0b9f21'
down_revision = 'd493e61dab69'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DELETE FROM case_search")
        op.execute("DELETE FROM forum_post_search")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DELETE FROM case_search")
        op.execute("DELETE FROM forum_post_search")
