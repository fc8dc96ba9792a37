"""PostgreSQL search: the ranking vector's title and keyword lexemes indexed apart, and each lexeme's largest rank
elsewhere (issue 11, search speed)

A query of common words ("central authority draft": 90,000 of 100,000 cases) was ranked by the RUM index, which
ranks every posting of its words before it returns the first row (130-290 ms). Two things let the backend find the
same page from a few thousand rows (postgres_backend.PostgresBackend._tier_top):

- `ix_case_search_rank_tier`, a GIN index on `ts_filter(rank_document, '{a,b}')`: the lexemes a case holds in its
  title or keywords (weights A and B), whose postings are a few percent of the word's; `ix_case_search_rank_title`,
  the same for the title alone (weight A);
- `search_lexeme_bounds`: for each lexeme, the largest ts_rank (weights {0.1, 0.2, 0.4, 1.0}) it has alone in the
  summary and synonym part of any ranking vector (`bound`: `ts_filter(rank_document, '{c,d}')`) and in all but the
  title (`bound_below_a`: `'{b,c,d}'`), kept by statement triggers on case_search (insert and update: the new rows'
  lexemes, raised where larger; a delete leaves a bound that is still an upper bound). A case holding the query's
  words only there scores at most the sum of their bounds.

Both exist on every PostgreSQL server (no extension: the GIN path uses them too). The existing rows' bounds are
computed here. SQLite: nothing to do. Not in the models (the index is an expression of rank_document, the table is
the triggers'): network.core.db's comparison must leave them out.

Revision ID: 5e4c0b0a1d1a
Revises: 5e4c0b0a1d19
Create Date: 2026-12-06 01:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d1a'
down_revision = '5e4c0b0a1d19'  # (the brief said 5e4c0b0a1d18; 5e4c0b0a1d19 appeared meanwhile: one head)
branch_labels = None
depends_on = None

TIER_INDEX = "ix_case_search_rank_tier"
TITLE_INDEX = "ix_case_search_rank_title"
BOUNDS = "search_lexeme_bounds"
# postgres_backend.RANK_WEIGHTS when this was written (the backend uses the bounds only while they are the same)
WEIGHTS = "'{0.1,0.2,0.4,1}'::float4[]"
# Each lexeme of the rows' vectors without their titles, as a tsquery of itself (quotes doubled, backslashes
# escaped), and its largest rank alone in their summaries and synonyms (low) and in all but their titles (mid).
LEXEME_QUERY = "CAST('''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS tsquery)"
BOUNDS_OF = (
    f"SELECT u.lexeme, max(ts_rank({WEIGHTS}, v.low, l.q)), max(ts_rank({WEIGHTS}, v.mid, l.q)) "  # noqa: S608 (constants of this module)
    "FROM (SELECT ts_filter(r.rank_document, '{c,d}') AS low, "
    "ts_filter(r.rank_document, '{b,c,d}') AS mid FROM ROWS r) v, unnest(v.mid) u, "
    # in the lexemes' order, so that two transactions raising bounds at once lock their rows in the same order
    f"LATERAL (SELECT {LEXEME_QUERY} AS q) l GROUP BY u.lexeme ORDER BY u.lexeme")
RAISE = (f"INSERT INTO {BOUNDS} AS b (lexeme, bound, bound_below_a) SELECTION ON CONFLICT (lexeme) DO UPDATE SET "
         "bound = greatest(b.bound, excluded.bound), "
         "bound_below_a = greatest(b.bound_below_a, excluded.bound_below_a) "
         "WHERE b.bound < excluded.bound OR b.bound_below_a < excluded.bound_below_a")


def _raise(rows: str) -> str:
    """The statement raising the bounds to what `rows` (a table, or the trigger's transition table) hold."""
    return RAISE.replace("SELECTION", BOUNDS_OF.replace("ROWS", rows))


FUNCTION = ("CREATE OR REPLACE FUNCTION search_lexeme_bounds_raise() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {_raise('new_rows')};\n    RETURN NULL;\nEND\n$$")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE TABLE IF NOT EXISTS {BOUNDS} (lexeme text PRIMARY KEY, bound real NOT NULL, "
               "bound_below_a real NOT NULL)")
    op.execute(FUNCTION)
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS case_search_bounds_{event} ON case_search")
        op.execute(f"CREATE TRIGGER case_search_bounds_{event} AFTER {event.upper()} ON case_search "
                   "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_bounds_raise()")
    op.execute(_raise("case_search"))
    op.execute(f"CREATE INDEX IF NOT EXISTS {TIER_INDEX} ON case_search USING gin (ts_filter(rank_document, '{{a,b}}'))")
    op.execute(f"CREATE INDEX IF NOT EXISTS {TITLE_INDEX} ON case_search USING gin (ts_filter(rank_document, '{{a}}'))")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {TIER_INDEX}")
    op.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS case_search_bounds_{event} ON case_search")
    op.execute("DROP FUNCTION IF EXISTS search_lexeme_bounds_raise()")
    op.execute(f"DROP TABLE IF EXISTS {BOUNDS}")
