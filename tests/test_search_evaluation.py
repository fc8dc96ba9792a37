"""The search evaluation set (catalogue/search/evaluation): its shape, and its figures above floors on both
backends (Whoosh on SQLite, PostgreSQL full-text search on PostgreSQL). The floors sit a little below what was
measured on 2026-12-05 with the 164-group thesaurus (nDCG@10 over all 156 queries: Whoosh 0.651, PostgreSQL 0.634;
holdout 0.684 / 0.654; recall@20 0.685 / 0.652), then after issue 11's analysis and ranking (synonym groups
weighed as concepts, State names, CJK runs cut at thesaurus terms, terms without inner stop words, agent nouns,
elision, more thesaurus terms): all 0.758 / 0.745, holdout 0.727 / 0.717, recall@20 0.801 / 0.768, every holdout
kind at 0.61 or more; then with rare typos searched beside their correction, short words corrected only alone,
phrases that find nothing loosened, 17 more thesaurus groups and PostgreSQL's concepts weighed by lexeme statistics:
all 0.783 / 0.764, holdout 0.730 / 0.707, recall@20 0.815 / 0.789, every holdout kind at 0.61 or more; then with
synonym groups weighed by their own rarity on PostgreSQL, 14 groups of the Conventions' terms and hyphenated words
joining their term (tuned on the tune split alone): all 0.792 / 0.779, holdout 0.737 / 0.731, recall@20 0.833 /
0.810, every holdout kind at 0.60 or more; then with COORDINATION 0.7 and PostgreSQL's concepts weighed by their
full idf (tuned on the tune split alone, the holdout not run): tune split 0.820 / 0.811 (before: 0.812 / 0.796);
then with thesaurus groups for the court, the judgment, banks and wildlife, States' adjectives and broader concepts
(tuned on the tune split alone): tune split 0.826 / 0.815 (cross-language 0.743 / 0.712, before 0.719 / 0.683);
raise them when relevance improves, lower them only with a reason."""
from __future__ import annotations

from collections import Counter

import pytest

from catalogue.search import relevance

FLOORS = {"whoosh": (0.785, 0.825), "postgres": (0.79, 0.80)}  # (nDCG@10, recall@20) over every query
# nDCG@10 over the holdout split. PostgreSQL's floor once went down from 0.71 to 0.70: changes made on the tune split
# alone moved its untouched holdout from 0.717 to 0.707, and undoing one because of that figure would have been
# tuning on the holdout. The next round brought it to 0.731, and PostgreSQL's concept scaling to 0.740.
HOLDOUT_FLOORS = {"whoosh": 0.73, "postgres": 0.735}
KIND_FLOOR = 0.60  # nDCG@10 of every kind of query on the holdout split (issue 11's target)
TUNE_FLOORS = {"whoosh": 0.82, "postgres": 0.812}  # nDCG@10 over the tune split


def test_the_set_has_three_hundred_cases_in_six_languages_and_150_queries_of_seven_kinds():
    cases = relevance.evaluation_cases()
    judgments = relevance.evaluation_judgments()
    references = {case["reference"] for case in cases}
    assert len(cases) >= 300 and len(references) == len(cases)
    assert {case["language"] for case in cases} >= {"en", "fr", "es", "ru", "ar", "zh"}
    assert len(judgments) >= 150
    kinds = Counter(j.kind for j in judgments)
    assert set(kinds) == set(relevance.KINDS) and min(kinds.values()) >= 20
    for judgment in judgments:
        assert set(judgment.grades) <= references, judgment.query
        assert any(grade == 2 for grade in judgment.grades.values()), judgment.query
    holdout = sum(1 for j in judgments if j.split == "holdout") / len(judgments)
    assert 0.25 <= holdout <= 0.4
    for kind in relevance.KINDS:  # each kind has its own holdout
        assert any(j.split == "holdout" for j in judgments if j.kind == kind), kind


@pytest.mark.persistence
def test_the_evaluation_set_stays_above_its_floors_and_misspellings_always_find(app, db_backend, capsys):
    backend = "postgres" if db_backend == "postgresql" else "whoosh"
    report = relevance.evaluate_set(backend)
    parts = relevance.breakdown(report)
    with capsys.disabled():
        print(f"\nsearch evaluation, {backend}:\n{relevance.kind_table([report])}")
    ndcg_floor, recall_floor = FLOORS[backend]
    assert parts["all"]["all"].ndcg >= ndcg_floor, relevance.kind_table([report])
    assert parts["all"]["all"].recall >= recall_floor, relevance.kind_table([report])
    assert parts["all"]["misspelling"].zero == 0.0
    assert parts["all"]["question"].zero == 0.0  # a question never finds nothing when cases share its terms
    assert parts["all"]["all"].zero <= 0.05
    assert parts["tune"]["all"].ndcg >= TUNE_FLOORS[backend], relevance.kind_table([report])
    assert parts["holdout"]["all"].ndcg >= HOLDOUT_FLOORS[backend], relevance.kind_table([report])
    assert min(parts["holdout"][kind].ndcg for kind in relevance.KINDS) >= KIND_FLOOR, relevance.kind_table([report])


@pytest.mark.persistence
def test_measuring_the_evaluation_set_leaves_nothing_behind(app, db_backend):
    from sqlalchemy import func, select

    from catalogue.cases.models import Case
    from network.core.db import db

    relevance.evaluate_set("postgres" if db_backend == "postgresql" else "whoosh",
                           relevance.evaluation_judgments()[:2])
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
