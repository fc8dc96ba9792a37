"""PostgreSQL search: the bounds' trigger filters each new row's ranking vector once (issue 11, search speed)

The statement trigger of migration 5e4c0b0a1d1a raises `search_lexeme_bounds` from the new rows' vectors filtered
by weight (`ts_filter`). Its subquery was flattened into the join with the rows' lexemes, so both filters (and the
fetch of the TOASTed vector they read) ran again for every lexeme of every row: 10,000 cases, 5.8 s of a rebuild's
21. `OFFSET 0` keeps the subquery apart: each vector is fetched and filtered once per row (1.1 s; the same bounds).
Every write to case_search gains alike. SQLite: nothing to do.

Revision ID: c6d3a9e2b7f4
Revises: a1f6c3e8d527
Create Date: 2026-12-06 11:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c6d3a9e2b7f4'
down_revision = 'a1f6c3e8d527'
branch_labels = None
depends_on = None

BOUNDS = "search_lexeme_bounds"
# As migration 5e4c0b0a1d1a wrote them (a migration is frozen: its text, not imported), with or without OFFSET 0.
WEIGHTS = "'{0.1,0.2,0.4,1}'::float4[]"
LEXEME_QUERY = "CAST('''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS tsquery)"


def _function(apart: bool) -> str:
    offset = " OFFSET 0" if apart else ""
    bounds_of = (
        f"SELECT u.lexeme, max(ts_rank({WEIGHTS}, v.low, l.q)), max(ts_rank({WEIGHTS}, v.mid, l.q)) "  # noqa: S608 (constants of this module)
        "FROM (SELECT ts_filter(r.rank_document, '{c,d}') AS low, "
        f"ts_filter(r.rank_document, '{{b,c,d}}') AS mid FROM new_rows r{offset}) v, unnest(v.mid) u, "
        f"LATERAL (SELECT {LEXEME_QUERY} AS q) l GROUP BY u.lexeme ORDER BY u.lexeme")
    raise_ = (f"INSERT INTO {BOUNDS} AS b (lexeme, bound, bound_below_a) {bounds_of} ON CONFLICT (lexeme) DO UPDATE SET "
              "bound = greatest(b.bound, excluded.bound), "
              "bound_below_a = greatest(b.bound_below_a, excluded.bound_below_a) "
              "WHERE b.bound < excluded.bound OR b.bound_below_a < excluded.bound_below_a")
    return ("CREATE OR REPLACE FUNCTION search_lexeme_bounds_raise() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {raise_};\n    RETURN NULL;\nEND\n$$")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(_function(apart=True))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(_function(apart=False))
