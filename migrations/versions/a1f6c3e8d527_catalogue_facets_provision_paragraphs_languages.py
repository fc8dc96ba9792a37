"""catalogue facets: a provision's paragraph and each translation's language (issue 11, filters)

A filter on a paragraph of the Convention ("14(3)") now finds the cases relying on its points ("14(3)(b)"), as one on
an article ("18") found its paragraphs; and the language filter means a language the case can be read in: its own or
a translation's (an English case with a French translation is found under "fr"). Both are rows of `case_facets`
(catalogue.cases.services.refresh_facets, on every save), recomputed here for every case: kind "provision" from
`untoc_provisions`, kind "language" (new) from `language` and the keys of `translations`. The engines' facet tokens
come from those rows: the PostgreSQL search table of cases is emptied, so that the consistency check (`/healthz`, the
first search, or `flask --app app search reindex`) rebuilds it from the database, as e7c4a2f9b318 did; the embedded
Whoosh indexes carry their own schema version (16) and are rebuilt the same way. Downgrade restores the rows of the
old rule (a provision and its article; no language rows).

Revision ID: a1f6c3e8d527
Revises: e7c4a2f9b318
Create Date: 2026-12-06 10:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1f6c3e8d527'
down_revision = 'e7c4a2f9b318'
branch_labels = None
depends_on = None

SEARCH_TABLES = ("case_search",)
KINDS = ("provision", "language")
BATCH = 1000

cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("language", sa.String),
                 sa.column("translations", sa.JSON), sa.column("untoc_provisions", sa.JSON))
case_facets = sa.table("case_facets", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                       sa.column("kind", sa.String), sa.column("code", sa.String))


def _new_rule(language, translations, provisions) -> set[tuple[str, str]]:
    """catalogue.cases.services.refresh_facets's rows of these kinds when this was written."""
    rows: set[tuple[str, str]] = set()
    for provision in provisions or []:
        parts = str(provision).replace(" ", "").split("(")
        rows |= {("provision", "(".join(parts[:n])) for n in range(1, len(parts) + 1) if parts[0]}
    if language:
        rows.add(("language", language))
    for lang, version in (translations or {}).items() if isinstance(translations, dict) else ():
        if lang and len(lang) <= 40 and isinstance(version, dict):
            rows.add(("language", lang))
    return rows


def _old_rule(language, translations, provisions) -> set[tuple[str, str]]:
    rows: set[tuple[str, str]] = set()
    for provision in provisions or []:
        rows |= {("provision", provision), ("provision", provision.split("(")[0])}
    return rows


def _recompute(rule) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        batch = bind.execute(sa.select(cases.c.id, cases.c.language, cases.c.translations, cases.c.untoc_provisions)
                             .where(cases.c.id > last).order_by(cases.c.id).limit(BATCH)).all()
        if not batch:
            break
        last = batch[-1].id
        ids = [row.id for row in batch]
        existing: dict[int, dict[tuple[str, str], int]] = {}
        for facet in bind.execute(sa.select(case_facets.c.id, case_facets.c.case_id, case_facets.c.kind,
                                            case_facets.c.code)
                                  .where(case_facets.c.case_id.in_(ids), case_facets.c.kind.in_(KINDS))):
            existing.setdefault(facet.case_id, {})[(facet.kind, facet.code)] = facet.id
        stale: list[int] = []
        missing: list[dict] = []
        for row in batch:
            wanted = rule(row.language, row.translations, row.untoc_provisions)
            held = existing.get(row.id, {})
            stale += [facet_id for key, facet_id in held.items() if key not in wanted]
            missing += [{"case_id": row.id, "kind": kind, "code": code} for kind, code in sorted(wanted - set(held))]
        if stale:
            bind.execute(case_facets.delete().where(case_facets.c.id.in_(stale)))
        if missing:
            bind.execute(case_facets.insert(), missing)


def _empty_search_tables() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    present = set(sa.inspect(bind).get_table_names())
    for table in SEARCH_TABLES:
        if table in present:
            op.execute(f"DELETE FROM {table}")  # noqa: S608 (a constant of this module)


def upgrade():
    _recompute(_new_rule)
    _empty_search_tables()


def downgrade():
    _recompute(_old_rule)
    _empty_search_tables()
