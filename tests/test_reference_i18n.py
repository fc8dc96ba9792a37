"""The six UN languages as data: State names as the UN writes them, territories kept apart, vocabulary labels."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pycountry
import pytest
import yaml

from network.core import reference
from network.core.reference import (
    PRACTITIONER_TYPE_LABELS,
    is_state,
    region_label,
    un_state_name,
    un_states,
    vocabulary_label,
    vocabulary_labels,
)
from network.directory.states import REGIONAL_GROUPS

REFERENCE = Path(reference.__file__).resolve().parent.parent / "reference"
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")


def read_csv(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


STATES = read_csv("un_states.csv")
TERRITORIES = read_csv("territories.csv")
GROUPS = {row["state"]: row["group"] for row in read_csv("un_regional_groups.csv")}
REGIONS = [row["state"] for row in read_csv("regions.csv")]


def clean(value: str) -> bool:
    """Not blank, no leading/trailing or doubled space, no tab, no-break space or typographic apostrophe."""
    return bool(value) and value == value.strip() and "  " not in value and not re.search(r"[\t\n\u00a0\u2019]", value)


# ------------------------------------------------------------------ States

def test_the_un_states_are_the_193_member_states_and_the_2_observer_states():
    members = {row["alpha3"] for row in STATES if row["status"] == "member"}
    observers = {row["alpha3"] for row in STATES if row["status"] == "observer"}
    assert len(STATES) == 195
    assert len(members) == 193 and members == set(GROUPS)
    assert observers == {"VAT", "PSE"}
    assert len(un_states()) == 195


def test_every_un_member_state_of_regions_csv_has_a_name_in_each_of_the_six_languages():
    members = [code for code in REGIONS if code in GROUPS]
    assert len(members) == 193
    for code in members:
        for language in LANGUAGES:
            name = un_state_name(code, language)
            assert name and name != code, (code, language)


def test_every_iso_entry_is_a_state_or_a_territory_once_with_matching_codes():
    states = {row["alpha3"]: row for row in STATES}
    territories = {row["alpha3"]: row for row in TERRITORIES}
    assert not set(states) & set(territories)
    assert set(states) | set(territories) == {country.alpha_3 for country in pycountry.countries}
    assert set(REGIONS) <= set(states) | set(territories)
    for code, row in {**states, **territories}.items():
        assert pycountry.countries.get(alpha_3=code).alpha_2 == row["alpha2"]


@pytest.mark.parametrize("code", ["ATA", "BVT", "HKG", "PRI", "TWN", "GRL", "COK"])
def test_territories_are_not_states_but_keep_a_name(code):
    assert not is_state(code)
    for language in LANGUAGES:
        assert code not in dict(un_states(language))
        assert un_state_name(code, language) != code
    assert un_state_name("ATA", "ru") == "Антарктида" and un_state_name("HK", "en").startswith("China, Hong Kong")


@pytest.mark.parametrize(("code", "language", "name"), [
    ("VNM", "en", "Viet Nam"), ("TUR", "en", "Türkiye"), ("IRN", "en", "Iran (Islamic Republic of)"),
    ("VNM", "fr", "Viet Nam"), ("TUR", "fr", "Türkiye"), ("IRN", "fr", "Iran (République islamique d')"),
    ("VNM", "es", "Viet Nam"), ("TUR", "es", "Türkiye"), ("IRN", "es", "Irán (República Islámica del)"),
    ("VNM", "ru", "Вьетнам"), ("TUR", "ru", "Турция"), ("IRN", "ru", "Иран (Исламская Республика)"),
    ("VNM", "ar", "فييت نام"), ("TUR", "ar", "تركيا"), ("IRN", "ar", "إيران (جمهورية - الإسلامية)"),
    ("VNM", "zh", "越南"), ("TUR", "zh", "土耳其"), ("IRN", "zh", "伊朗伊斯兰共和国"),
    ("BOL", "en", "Bolivia (Plurinational State of)"), ("BOL", "fr", "Bolivie (État plurinational de)"),
    ("KOR", "en", "Republic of Korea"), ("PRK", "en", "Democratic People's Republic of Korea"),
    ("GBR", "en", "United Kingdom of Great Britain and Northern Ireland"),
    ("NLD", "en", "Netherlands (Kingdom of the)"), ("NLD", "fr", "Pays-Bas (Royaume des)"),
    ("CIV", "en", "Côte d'Ivoire"), ("CZE", "en", "Czechia"), ("SWZ", "en", "Eswatini"),
    ("MKD", "en", "North Macedonia"), ("NRU", "en", "Nauru"), ("VAT", "zh", "教廷"),
    ("PSE", "en", "State of Palestine"), ("RUS", "ru", "Российская Федерация"), ("CHN", "zh", "中国"),
])
def test_state_names_are_the_uns_own(code, language, name):
    assert un_state_name(code, language) == name


def test_a_state_is_found_by_either_code_in_any_locale_spelling_and_an_unknown_code_is_shown_as_is():
    assert un_state_name("vn", "fr_FR") == un_state_name("VNM", "fr") == "Viet Nam"
    assert un_state_name("TR", "zh_Hans_CN") == "土耳其" and un_state_name("TR", "zh-TW") == "土耳其"
    assert un_state_name("IRN", "de") == "Iran (Islamic Republic of)"  # not a UN language: English
    assert un_state_name("XKX", "fr") == "XKX" and un_state_name("", "fr") == ""
    assert is_state("vnm") and is_state("PS") and not is_state("XXX") and not is_state("")


@pytest.mark.parametrize("rows", [STATES, TERRITORIES], ids=["states", "territories"])
def test_names_are_clean_and_unique_in_each_language(rows):
    for language in LANGUAGES:
        names = [row[language] for row in rows]
        assert all(clean(name) for name in names), [name for name in names if not clean(name)]
        assert len(set(names)) == len(names), language
    every = [row[language] for row in STATES + TERRITORIES for language in ("en",)]
    assert len(set(every)) == len(every)


# ------------------------------------------------------------------ sorting

def position(language: str, *names: str) -> list[int]:
    ordered = [name for _code, name in un_states(language)]
    return [ordered.index(name) for name in names]


@pytest.mark.parametrize(("language", "names"), [
    # The UN's Arabic lists: the article "ال" is not counted, and the alef forms are one letter.
    ("ar", ["الاتحاد الروسي", "إثيوبيا", "أذربيجان", "الأرجنتين", "الأردن", "باكستان", "الصين", "اليابان"]),
    ("ru", ["Австралия", "Бразилия", "Российская Федерация", "Южная Африка", "Ямайка", "Япония"]),
    # Chinese by pinyin: a fu han, ba xi, de guo, fa guo, zhong guo.
    ("zh", ["阿富汗", "巴西", "德国", "法国", "中国"]),
    ("fr", ["Égypte", "Émirats arabes unis", "Équateur", "Espagne", "États-Unis d'Amérique", "Zimbabwe"]),
    ("es", ["Afganistán", "Alemania", "Irán (República Islámica del)", "Iraq", "Irlanda", "Zimbabwe"]),
    ("en", ["Costa Rica", "Côte d'Ivoire", "Croatia", "Türkiye", "Turkmenistan"]),
])
def test_state_lists_sort_as_a_reader_of_the_language_expects(language, names):
    places = position(language, *names)
    assert places == sorted(places), [name for _, name in sorted(zip(places, names, strict=True))]


# ------------------------------------------------------------------ vocabularies

def label_file() -> dict:
    with (REFERENCE / "vocabulary_labels.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def as_written(entry: dict) -> str:
    """The label as vocabulary.yaml writes it. Three labels there hold commas inside a YAML flow mapping
    ({code: wildlife_crime, label: Wildlife, forest and fisheries crime}), which YAML reads as "Wildlife" plus an
    empty key "forest and fisheries crime"; the English labels here are the written ones, and the file shared with
    the other repositories needs those three labels quoted (reported; it must stay byte-identical to the shared
    copy, so it is not changed here)."""
    cut_off = [key for key, value in entry.items() if value is None]
    return ", ".join([entry["label"], *cut_off])


def todays_english_labels() -> dict[str, dict[str, str]]:
    kinds = ("instruments", "cooperation_forms", "crime_types", "legal_bases", "outcomes", "designations",
             "channels", "roles")
    labels = {kind: {entry["code"]: as_written(entry) for entry in reference.vocabulary()[kind]} for kind in kinds}
    for kind in kinds:  # the label vocabulary_labels() gives today, or (the three above) its written whole
        for code, label in vocabulary_labels(kind).items():
            written = labels[kind][code]
            assert written == label or written.startswith(label + ", "), (kind, code)
    labels["practitioner_types"] = {code: PRACTITIONER_TYPE_LABELS[code]
                                    for code in reference.vocabulary()["practitioner_types"]}
    labels["regions"] = {code: region_label(code) for code in reference.REGION_CODES}
    labels["regional_groups"] = {code: str(label) for code, label in REGIONAL_GROUPS.items()}
    labels["untoc_provisions"] = reference.untoc_article_subjects()
    return labels


def test_every_vocabulary_code_has_six_labels_and_the_english_one_is_todays():
    english = todays_english_labels()
    labels = label_file()
    assert set(labels) == set(english)
    for kind, codes in english.items():
        assert set(labels[kind]) == set(codes), kind
        for code, label in codes.items():
            assert set(labels[kind][code]) == set(LANGUAGES), (kind, code)
            assert labels[kind][code]["en"] == label, (kind, code)
            assert vocabulary_label(kind, code) == label


def test_vocabulary_labels_are_clean_and_unique_within_a_kind():
    for kind, codes in label_file().items():
        for language in LANGUAGES:
            values = [labels[language] for labels in codes.values()]
            assert all(isinstance(value, str) and clean(value) for value in values), (kind, language)
            assert len(set(values)) == len(values), (kind, language)
            if language != "en" and kind not in ("regions",):
                assert any(value != codes[code]["en"] for code, value in zip(codes, values, strict=True)), kind


@pytest.mark.parametrize(("kind", "code", "language", "label"), [
    ("cooperation_forms", "mla", "fr", "Entraide judiciaire"),
    ("cooperation_forms", "mla", "es", "Asistencia judicial recíproca"),
    ("cooperation_forms", "mla", "ru", "Взаимная правовая помощь"),
    ("cooperation_forms", "mla", "ar", "المساعدة القانونية المتبادلة"),
    ("cooperation_forms", "mla", "zh", "司法协助"),
    ("cooperation_forms", "extradition", "ru", "Выдача"),
    ("cooperation_forms", "extradition", "ar", "تسليم المجرمين"),
    ("cooperation_forms", "extradition", "zh", "引渡"),
    ("crime_types", "trafficking_in_persons", "fr", "Traite des personnes"),
    ("crime_types", "trafficking_in_persons", "es", "Trata de personas"),
    ("crime_types", "trafficking_in_persons", "ru", "Торговля людьми"),
    ("crime_types", "trafficking_in_persons", "ar", "الاتجار بالأشخاص"),
    ("crime_types", "trafficking_in_persons", "zh", "贩运人口"),
    ("crime_types", "smuggling_of_migrants", "fr", "Trafic illicite de migrants"),
    ("regional_groups", "african", "fr", "États d'Afrique"),
])
def test_labels_use_the_conventions_official_terms(kind, code, language, label):
    assert vocabulary_label(kind, code, language) == label


def test_an_unknown_vocabulary_code_or_language_falls_back_without_failing():
    assert vocabulary_label("crime_types", "no_such_code", "fr") == "no_such_code"
    assert vocabulary_label("no_such_kind", "mla", "fr") == "mla"
    assert vocabulary_label("cooperation_forms", "mla", "de") == "Mutual legal assistance"
    assert vocabulary_label("cooperation_forms", "mla", "fr_CA") == "Entraide judiciaire"


def test_labels_written_with_commas_in_the_shared_vocabulary_are_read_whole():
    assert vocabulary_labels("crime_types")["wildlife_crime"] == "Wildlife, forest and fisheries crime"
    assert vocabulary_labels("roles")["moderator"] == "Moderator (vets members, moderates the forum, reviews catalogue cases)"
    assert all(value is not None for entries in reference.vocabulary().values() if isinstance(entries, list)
               for entry in entries if isinstance(entry, dict) for value in entry.values())


# ------------------------------------------------------------------ the Convention's articles and paragraphs

PROVISION_TITLES = {  # article titles of the official texts, and the paragraph titles in the Convention's terms
    "18": {"fr": "Entraide judiciaire", "es": "Asistencia judicial recíproca", "ru": "Взаимная правовая помощь",
           "ar": "المساعدة القانونية المتبادلة", "zh": "司法协助"},
    "16": {"fr": "Extradition", "es": "Extradición", "ru": "Выдача", "ar": "تسليم المجرمين", "zh": "引渡"},
    "18(13)": {"fr": "Désignation d'une autorité centrale", "es": "Designación de una autoridad central",
               "ru": "Назначение центрального органа", "ar": "تعيين سلطة مركزية", "zh": "指定中心当局"},
}


def test_every_provision_has_a_label_in_the_six_languages_and_the_english_one_is_todays():
    english = reference.untoc_article_subjects()
    labels = label_file()["untoc_provisions"]
    assert set(labels) == set(english) and len(english) > 30
    for code, subject in english.items():
        assert set(labels[code]) == set(LANGUAGES), code
        assert labels[code]["en"] == subject, code
        for language in LANGUAGES:
            label = reference.provision_subject(code, language)
            assert label and clean(label) and label == labels[code][language], (code, language)
            if language in ("ar", "ru", "zh"):
                assert label != subject, (code, language)
            if language == "ru":
                assert "ё" not in label.lower(), code
            if language == "zh":
                assert not re.search(r"[,;:()]", label), code  # full-width punctuation in Chinese


@pytest.mark.parametrize(("code", "language"), [(c, lang) for c, titles in PROVISION_TITLES.items() for lang in titles])
def test_provision_labels_are_the_conventions_titles(code, language):
    assert reference.provision_subject(code, language) == PROVISION_TITLES[code][language]


def test_a_paragraph_without_its_own_title_takes_its_articles_in_the_language_asked():
    assert reference.provision_subject("18(9)", "fr") == "Entraide judiciaire"
    assert reference.provision_subject("16(4)", "zh_Hans_CN") == "以《公约》作为引渡的法律依据"
    assert reference.provision_subject("18(13)", "de") == "Designation of a central authority"  # not a UN language
    assert reference.provision_subject("99", "fr") == "" and reference.provision_subject("", "fr") == ""


def test_provision_labels_follow_the_page_language_and_search_keeps_english(app):
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert reference.provision_subject("18(13)") == "Назначение центрального органа"
        assert reference.provision_subject("18(13)", "en") == "Designation of a central authority"
        assert reference.untoc_article_subjects()["18(13)"] == "Designation of a central authority"  # what is indexed


def _published_case(member, moderator):
    from catalogue.cases import services
    from catalogue.cases.models import Case, CaseRevision
    from network.core.clock import utcnow
    from network.core.db import db

    case = Case(reference="CASE-I18N-001", submitter_id=member.id, status="draft")
    db.session.add(case)
    services.apply_data(case, {
        "title": "Bank records obtained for a laundering case", "language": "en",
        "summary": "Mutual legal assistance for bank records, granted in four months.",
        "requesting_state": "AUT", "requested_state": "NGA", "cooperation_forms": ["mla"],
        "legal_bases": ["untoc"], "crime_types": ["money_laundering"], "outcome": "granted",
        "untoc_provisions": ["18(13)", "16"], "request_date": "2021-03-01", "visibility": "public"})
    db.session.flush()
    case.status, case.published_at = "published", utcnow()
    case.revisions.append(CaseRevision(number=1, data=services.case_to_dict(case), published_by_id=moderator.id))
    db.session.commit()
    return case


@pytest.mark.persistence
def test_case_page_and_print_view_show_the_provisions_in_the_page_language(client, member, moderator):
    case = _published_case(member, moderator)
    for suffix in ("", "/print"):
        french = client.get(f"/cases/{case.reference}{suffix}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert "Désignation d'une autorité centrale" in french or "Désignation d&#39;une autorité centrale" in french
        assert "Designation of a central authority" not in french, suffix
        chinese = client.get(f"/cases/{case.reference}{suffix}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
        assert "指定中心当局" in chinese and "引渡" in chinese, suffix
        english = client.get(f"/cases/{case.reference}{suffix}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Designation of a central authority" in english, suffix


@pytest.mark.persistence
def test_the_wizard_lists_the_provisions_and_the_articles_in_the_page_language(app, auth, member):
    from catalogue.cases import services
    from network.core.db import db

    with app.test_request_context():
        case = services.create_draft(member)
        services.save_draft(case, member, {"title": "Central authority case", "untoc_provisions": ["18(13)"]}, 1)
        db.session.commit()
    page = auth.client_for(member).get(f"/cases/drafts/{case.reference}/step/1", headers={"Accept-Language": "es"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Designación de una autoridad central" in html and "Asistencia judicial recíproca" in html
    assert "Penalización de la participación en un grupo delictivo organizado" in html  # the list of articles
    assert "Designation of a central authority" not in html and "Scope of application" not in html


@pytest.mark.persistence
def test_the_catalogue_filter_on_a_provision_names_it_in_the_page_language(client, member, moderator):
    _published_case(member, moderator)
    html = client.get("/cases?provision=18(13)", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Назначение центрального органа" in html and "Designation of a central authority" not in html
