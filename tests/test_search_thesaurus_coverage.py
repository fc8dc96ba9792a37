"""The thesaurus covers the vocabulary (issue 11): every form of cooperation, crime type, instrument and measure of
vocabulary.yaml, named by its label in any of the six UN languages (vocabulary_labels.yaml, the Convention's
official terms), reaches one synonym group of synonyms.yaml, so a query in one language finds the cases written in
another. Both paths are checked: the label typed as a query (query.parse, the Synonym tokens of its tree) and the
label written in a case (document_synonyms, what the indexer gives the case).

In scope: cooperation_forms, crime_types and instruments (what a case does, charges and rests on), the channels
that name a thing practitioners type (diplomatic channels, INTERPOL), and the Convention's provisions whose title
names a form of cooperation, an offence or a measure (confiscation, witness protection, ...): cases cite those
articles, and their titles are the official terms in the six languages. Out of scope: outcomes, roles,
designations, legal_bases and the other channels and provisions (OUT_OF_SCOPE): they describe the case record, the
network or a request's paperwork, are filtered by their code (a facet), and their labels are descriptive phrases
("Bilateral treaty", "Pending", "Contents of a request") no practitioner's term stands for.

Pure analysis: no database, no engine."""
from __future__ import annotations

import pytest

from network.core import reference
from network.core.reference import vocabulary_label
from network.search import query
from network.search.documents import SearchDocument, Version, analysis_language, tokens

LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")

# The group each code must reach, named by the group's first term in synonyms.yaml.
COOPERATION_FORMS = {
    "extradition": "extradition", "mla": "MLA",
    "confiscation": "international cooperation for purposes of confiscation", "asset_sharing": "asset sharing",
    "sentenced_persons": "transfer of sentenced persons", "joint_investigation": "JIT",
    "special_techniques": "special investigative techniques",
    "transfer_of_proceedings": "transfer of criminal proceedings", "videoconference": "videoconference",
    "spontaneous_information": "spontaneous transmission of information",
    "law_enforcement": "law enforcement cooperation",
}
CRIME_TYPES = {
    "organized_criminal_group": "OCG", "money_laundering": "AML", "corruption": "corruption",
    "obstruction_of_justice": "obstruction of justice", "trafficking_in_persons": "trafficking in persons",
    "smuggling_of_migrants": "SOM", "firearms_trafficking": "firearms", "drug_trafficking": "drug trafficking",
    "cybercrime": "cybercrime", "fraud": "fraud", "kidnapping": "kidnapping",
    "cultural_property": "cultural property", "wildlife_crime": "wildlife crime",
    "falsified_medicines": "falsified medical products", "piracy": "piracy", "terrorism": "terrorism",
    "other_serious_crime": "serious crime",
}
INSTRUMENTS = {
    "UNTOC": "UNTOC", "TIP": "Trafficking in Persons Protocol", "SOM": "Smuggling of Migrants Protocol",
    "FIREARMS": "Firearms Protocol", "DRUGS1988": "1988 Convention", "UNCAC": "UNCAC",
}
CHANNELS = {"diplomatic": "diplomatic channels", "interpol": "INTERPOL"}
PROVISIONS = {  # articles 5-8, 23: offences; 13-21, 27: forms of cooperation; 10, 12, 24, 25 and paragraphs: measures
    "5": "OCG", "6": "AML", "7": "AML", "8": "corruption", "10": "liability of legal persons",
    "12": "confiscation", "13": "international cooperation for purposes of confiscation", "14": "asset sharing",
    "16": "extradition", "16(10)": "aut dedere aut judicare", "17": "transfer of sentenced persons", "18": "MLA",
    "18(4)": "spontaneous transmission of information", "18(18)": "videoconference",
    "18(19)": "rule of speciality",  # the use of information or evidence for the request's purpose only
    "18(20)": "confidentiality of the request", "18(21)": "grounds for refusal", "19": "JIT",
    "20": "special investigative techniques", "21": "transfer of criminal proceedings",
    "23": "obstruction of justice", "24": "witness protection", "25": "protection of victims",
    "27": "law enforcement cooperation",
}
OUT_OF_SCOPE = {
    "channels": {
        "direct": "a route between central authorities, filtered by its code; no concept of a case",
        "network": "this platform's own messaging",
    },
    "untoc_provisions": {
        "2": "definitions", "3": "scope of application", "15": "jurisdiction, a ground of competence, no measure",
        "16(4)": "the Convention as a legal basis (legal_bases)", "16(5)": "a notification to the Secretary-General",
        "18(13)": "an authority (designations), not a measure", "18(14)": "a request's form and language",
        "18(15)": "a request's contents", "18(24)": "a request's execution",
        "26": "cooperating offenders: the title describes measures ('to enhance cooperation with law enforcement "
              "authorities') and the Convention names them by no term of its own in any language",
        "28": "research and analysis by States", "29": "training and technical assistance",
        "32": "the Conference of the Parties",
    },
}
# Labels that are an ordinary word of their language alone, which the thesaurus keeps out of every group
# (synonyms.yaml, "Precision"): the terms a practitioner types for the same thing in that language are checked
# instead, each taken from the official texts or the practice.
TYPED_INSTEAD = {
    ("ru", "Выдача"): (  # "выдача" alone is also the issue of a document or a thing ("выдача паспорта")
        "экстрадиция", "просьба о выдаче", "выдача лиц"),
}


def group_named(first_term: str) -> str:
    """The name of the synonym group whose first term is `first_term`."""
    wanted = tuple(tokens(first_term))
    names = [name for name, terms in query.synonym_table()[0].items() if terms[0] == wanted]
    assert names, f"no group of synonyms.yaml starts with {first_term!r}"
    return names[0]


def query_groups(text: str) -> set[str]:
    """The synonym groups a query typed as `text` looks for (its tree's Synonym tokens), States aside."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, query.Synonym):
            found.add(node.group)
        elif isinstance(node, (query.And, query.Or)):
            for item in node.items:
                walk(item)

    walk(query.parse(text).root)
    return {name for name in found if not name.startswith("state")}


def document_groups(text: str, language: str) -> set[str]:
    """The synonym groups a case written in `language` holds when its summary is `text`."""
    doc = SearchDocument(id=1, versions=[Version(analysis_language(language), summary=text)])
    return set(query.document_synonyms(doc))


def label_of(kind: str, code: str, language: str) -> str:
    if kind == "untoc_provisions":
        return reference.provision_subject(code, language)
    return vocabulary_label(kind, code, language)


def misses(kind: str, code: str, first_term: str) -> list[str]:
    """What does not reach the expected group: '<language> query|case: <text> -> <groups found>'."""
    group = group_named(first_term)
    out: list[str] = []
    for language in LANGUAGES:
        label = label_of(kind, code, language)
        assert label and label != code, (kind, code, language)
        for text in TYPED_INSTEAD.get((language, label), (label,)):
            typed = query_groups(text)
            if group not in typed:
                out.append(f"{language} query: {text} -> {sorted(typed)}")
            held = document_groups(text, language)
            if group not in held:
                out.append(f"{language} case: {text} -> {sorted(held)}")
    return out


CASES = [(kind, code, term) for kind, table in (("cooperation_forms", COOPERATION_FORMS),
                                                 ("crime_types", CRIME_TYPES), ("instruments", INSTRUMENTS),
                                                 ("channels", CHANNELS), ("untoc_provisions", PROVISIONS))
         for code, term in table.items()]


@pytest.mark.parametrize(("kind", "code", "first_term"), CASES, ids=[f"{k}-{c}" for k, c, _t in CASES])
def test_a_label_in_any_un_language_reaches_its_group_as_a_query_and_in_a_case(kind, code, first_term):
    missed = misses(kind, code, first_term)
    assert not missed, "\n".join(missed)


def test_every_code_of_the_kinds_in_scope_is_checked_or_left_out_with_a_reason():
    labels = reference._vocabulary_labels()
    for kind, table in (("cooperation_forms", COOPERATION_FORMS), ("crime_types", CRIME_TYPES),
                        ("instruments", INSTRUMENTS), ("channels", CHANNELS)):
        assert set(table) | set(OUT_OF_SCOPE.get(kind, {})) == set(labels[kind]), kind
    provisions = set(reference.untoc_article_subjects())
    assert set(PROVISIONS) | set(OUT_OF_SCOPE["untoc_provisions"]) == provisions
    assert not set(PROVISIONS) & set(OUT_OF_SCOPE["untoc_provisions"])


def test_a_term_typed_instead_of_an_ordinary_word_label_is_needed():
    """The exemption stays honest: the label alone indeed reaches no group (else it would be checked itself)."""
    for (language, label), _typed in TYPED_INSTEAD.items():
        assert not query_groups(label) and not document_groups(label, language), label


@pytest.mark.parametrize(("text", "first_term"), [
    ("в составе организованной преступной группы", "OCG"),  # the thesaurus says "организованная преступная группа"
    ("по делу о незаконном обороте наркотиков", "drug trafficking"),  # "незаконный оборот наркотиков"
    ("материалы о незаконной рубке леса", "wildlife crime"),  # "незаконная рубка"
], ids=["organized-criminal-group", "drug-trafficking", "illegal-logging"])
def test_a_russian_term_reaches_its_group_in_any_case_of_its_adjectives(text, first_term):
    """Folding turns "й" into "и"; the Russian stemmer is given it back (documents.STEMMING_ACCENTS), so one form of
    a term in "-ый" or "-ая" meets the text's "-ого", "-ой" and "-ом", as one inflected form is enough elsewhere."""
    group = group_named(first_term)
    assert group in query_groups(text) and group in document_groups(text, "ru")
