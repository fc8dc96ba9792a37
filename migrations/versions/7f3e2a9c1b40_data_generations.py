"""data generations: a token per group of tables, replaced by triggers on every write (issue 14, kept answers)

`data_generations` (name, value): the catalogue's listing and search keep their answers (facet counts, the engine's
page) per process under the generations they were computed at (network/core/generations.py). Triggers on each table
of a name set its value to a new random number in the writing transaction, whoever writes (services, raw SQL, the
indexer): PostgreSQL one per statement (insert, update, delete, truncate), SQLite one per row (insert, update,
delete). Each name gets a first value here. On PostgreSQL a name whose row was deleted (tests empty every table with
the triggers off) gets it back at the next write; SQLite's triggers only update the row (an INSERT OR REPLACE in a
trigger takes the conflict policy of the statement that fired it, INSERT OR IGNORE's for one): without it the name
reads NULL, and nothing is kept.

SQLite drops a table's triggers with the table: a later migration that rebuilds `cases`, `case_facets`,
`case_search` or `search_words` in batch mode (a copy and a rename) must create that table's triggers again
(`sqlite_triggers(table)`); tests/test_catalogue_answer_cache.py fails without them.

Revision ID: 7f3e2a9c1b40
Revises: 5e4c0b0a1d1a
Create Date: 2026-12-06 04:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7f3e2a9c1b40'
down_revision = '5e4c0b0a1d1a'
branch_labels = None
depends_on = None

# network.core.generations.TABLES when this was written
TABLES = {"catalogue": ("cases", "case_facets"), "case_search": ("case_search", "search_words")}
# A new random value below 2^62 (PostgreSQL's random() is a double: 52 bits of it)
PG_RANDOM = "CAST(floor(random() * 4611686018427387904) AS bigint)"
SQLITE_RANDOM = "abs(random() % 4611686018427387904)"
FUNCTION = ("CREATE OR REPLACE FUNCTION data_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"    INSERT INTO data_generations AS g (name, value) VALUES (TG_ARGV[0], {PG_RANDOM})\n"
            "        ON CONFLICT (name) DO UPDATE SET value = excluded.value;\n"
            "    RETURN NULL;\n"
            "END\n$$")
SQLITE_EVENTS = ("insert", "update", "delete")


def _name_of(table: str) -> str:
    return next(name for name, tables in TABLES.items() if table in tables)


def sqlite_triggers(table: str) -> list[str]:
    """The statements creating a table's triggers on SQLite (again, after a batch migration rebuilt the table)."""
    name = _name_of(table)
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_generation_{event} AFTER {event.upper()} ON {table} "
            f"BEGIN UPDATE data_generations SET value = {SQLITE_RANDOM} WHERE name = '{name}'; END"
            for event in SQLITE_EVENTS]


def upgrade():
    op.create_table('data_generations',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_generations'))
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(FUNCTION)
    for name, tables in TABLES.items():
        op.execute(f"INSERT INTO data_generations (name, value) VALUES ('{name}', "
                   f"{PG_RANDOM if postgres else SQLITE_RANDOM})")
        for table in tables:
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_generation ON {table}")
                op.execute(f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('{name}')")
            else:
                for statement in sqlite_triggers(table):
                    op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for tables in TABLES.values():
        for table in tables:
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_generation ON {table}")
            else:
                for event in SQLITE_EVENTS:
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_generation_{event}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS data_generation_bump()")
    op.drop_table('data_generations')
