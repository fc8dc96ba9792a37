"""PostgreSQL search: impact-ordered lists of the common lexemes (issue 11, search speed)

A query of common words ("MLA bank records": 57,000 of 100,000 cases) was ranked by the RUM index, which ranks every
posting of its words before it returns the first row (90-400 ms). Engines with impact-ordered postings read the
best postings of each word first and stop when nothing unread can beat the page (the threshold algorithm). Here:

- `search_impacts`: for every lexeme of the ranking vectors held by more than `LIST_MIN` cases when the lists were
  made (a rebuild, or this migration), its holders in the order (rank, filed_on, case_id) descending, the rank being
  the lexeme's ts_rank alone in the case's ranking vector (weights {0.1, 0.2, 0.4, 1.0}), at least the first
  `LIST_KEEP` of them;
- `search_impact_cuts`: for each listed lexeme, the key (rank, filed_on, case_id) of the last holder listed. The
  lists hold every case whose key for the lexeme is at least its cut: the triggers on case_search keep that true
  (a new or changed case is listed where its key reaches the cut; a deleted or changed case leaves the lists), so a
  case missing from a list ranks below its cut there. A lexeme that becomes common later is not listed until the
  next rebuild (the backend then ranks as before).

An unknown filing date is listed as -infinity: the full ranking orders it last (NULLS LAST). Both tables exist on
every PostgreSQL server (no extension); SQLite: nothing to do. Not in the models (network.core.db.OPTIONAL_TABLES).

Revision ID: d8e2f5a1c6b9
Revises: c3a8d1e5f702
Create Date: 2026-12-06 09:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd8e2f5a1c6b9'
down_revision = 'c3a8d1e5f702'
branch_labels = None
depends_on = None

IMPACTS = "search_impacts"
CUTS = "search_impact_cuts"
LIST_MIN = 50  # postgres_backend.IMPACT_LIST_MIN when this was written
LIST_KEEP = 500  # postgres_backend.IMPACT_LIST_KEEP when this was written
# postgres_backend.RANK_WEIGHTS when this was written (the backend uses the lists only while they are the same)
WEIGHTS = "'{0.1,0.2,0.4,1}'::float4[]"
LEXEME_QUERY = "CAST('''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS tsquery)"
FILED = "coalesce(r.filed_on, '-infinity'::date)"
# The rows of `changed_rows` (the trigger's transition table) reaching the cut of a listed lexeme.
LIST_CHANGED = (
    f"INSERT INTO {IMPACTS} (lexeme, impact, filed_on, case_id) "  # noqa: S608 (constants of this module)
    "SELECT x.lexeme, x.impact, x.filed_on, x.case_id FROM ("
    f"SELECT u.lexeme, ts_rank({WEIGHTS}, r.v, {LEXEME_QUERY}) AS impact, {FILED} AS filed_on, r.case_id "
    "FROM (SELECT case_id, filed_on, rank_document || ''::tsvector AS v FROM changed_rows OFFSET 0) r, unnest(r.v) u "
    f"WHERE u.lexeme IN (SELECT lexeme FROM {CUTS})) x "
    f"JOIN {CUTS} c ON c.lexeme = x.lexeme "
    "WHERE (x.impact, x.filed_on, x.case_id) >= (c.impact, c.filed_on, c.case_id)")
FUNCTION = (
    "CREATE OR REPLACE FUNCTION search_impacts_write() RETURNS trigger LANGUAGE plpgsql AS $$\n"  # noqa: S608
    "BEGIN\n"
    "    IF TG_OP <> 'INSERT' THEN\n"
    f"        DELETE FROM {IMPACTS} WHERE case_id IN (SELECT case_id FROM changed_rows);\n"
    "    END IF;\n"
    f"    IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM {CUTS}) THEN\n"
    f"        {LIST_CHANGED};\n"
    "    END IF;\n"
    "    RETURN NULL;\n"
    "END\n$$")
# The lists made again from case_search: the first LIST_KEEP holders of every lexeme more than LIST_MIN hold (each
# vector copied out of TOAST once, not once per lexeme ranked; lexemes grouped by their bytes).
MAKE_LISTS = (
    f"INSERT INTO {IMPACTS} (lexeme, impact, filed_on, case_id) "  # noqa: S608 (constants of this module)
    "SELECT lexeme, impact, filed_on, case_id FROM ("
    "SELECT lexeme, impact, filed_on, case_id, row_number() OVER (PARTITION BY lexeme COLLATE \"C\" "
    "ORDER BY impact DESC, filed_on DESC, case_id DESC) AS n FROM ("
    f"SELECT u.lexeme, ts_rank({WEIGHTS}, r.v, {LEXEME_QUERY}) AS impact, "
    "coalesce(r.filed_on, '-infinity'::date) AS filed_on, r.case_id "
    "FROM (SELECT case_id, filed_on, rank_document || ''::tsvector AS v FROM case_search OFFSET 0) r, unnest(r.v) u "
    f"WHERE u.lexeme IN (SELECT word FROM ts_stat('SELECT rank_document FROM case_search') WHERE ndoc > {LIST_MIN})"
    f") p) ranked WHERE n <= {LIST_KEEP}")
MAKE_CUTS = (f"INSERT INTO {CUTS} (lexeme, impact, filed_on, case_id) "  # noqa: S608 (constants of this module)
             f"SELECT DISTINCT ON (lexeme) lexeme, impact, filed_on, case_id FROM {IMPACTS} "
             "ORDER BY lexeme, impact, filed_on, case_id")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE TABLE IF NOT EXISTS {IMPACTS} (lexeme text NOT NULL, impact real NOT NULL, "
               "filed_on date NOT NULL, case_id integer NOT NULL)")
    op.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS ix_search_impacts_order ON {IMPACTS} "
               "(lexeme, impact DESC, filed_on DESC, case_id DESC)")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_search_impacts_case ON {IMPACTS} (case_id)")
    op.execute(f"CREATE TABLE IF NOT EXISTS {CUTS} (lexeme text PRIMARY KEY, impact real NOT NULL, "
               "filed_on date NOT NULL, case_id integer NOT NULL)")
    op.execute(FUNCTION)
    for event, table in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
        op.execute(f"DROP TRIGGER IF EXISTS case_search_impacts_{event} ON case_search")
        op.execute(f"CREATE TRIGGER case_search_impacts_{event} AFTER {event.upper()} ON case_search "
                   f"REFERENCING {table} TABLE AS changed_rows FOR EACH STATEMENT "
                   "EXECUTE FUNCTION search_impacts_write()")
    op.execute(f"DELETE FROM {IMPACTS}")  # noqa: S608 (constants of this module)
    op.execute(f"DELETE FROM {CUTS}")  # noqa: S608
    op.execute(MAKE_LISTS)
    op.execute(MAKE_CUTS)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS case_search_impacts_{event} ON case_search")
    op.execute("DROP FUNCTION IF EXISTS search_impacts_write()")
    op.execute(f"DROP TABLE IF EXISTS {IMPACTS}")
    op.execute(f"DROP TABLE IF EXISTS {CUTS}")
