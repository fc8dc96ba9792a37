"""The query semantics people expect, held by both backends (Whoosh on SQLite, PostgreSQL full-text search on
PostgreSQL): optional words ranked by how many of the query's concepts a case holds, where and how close
together; required and excluded words; stop words and the words of a question dropped; corrections applied and
kept within the reader's scope; Arabic stemming and Chinese bigrams."""
from __future__ import annotations

import pytest

from tests.search_support import found, make_case

pytestmark = pytest.mark.persistence


# ---------------------------------------------------------------- parsing (no engine)

def test_words_are_optional_and_operators_make_them_required_or_excluded():
    from network.search.query import And, Not, Or, parse

    assert isinstance(parse("drones drugs prisons").root, Or)
    required = parse("+drones drugs")
    assert isinstance(required.root, type(parse("drones").root)) and len(required.concepts) == 2
    assert isinstance(parse("drones AND drugs").root, And)
    assert isinstance(parse('"controlled delivery" drones').root, (Or, type(parse('"a b"').root)))
    excluded = parse("drones -drugs")
    assert isinstance(excluded.root, And) and isinstance(excluded.root.items[1], Not)


def test_stop_words_and_question_words_leave_free_text_but_not_quotes():
    from network.search.query import parse

    question = parse("Has a State refused to surrender a suspect who faced a life sentence?")
    assert {"Has", "a", "to", "who"}.isdisjoint(question.plain_words)
    assert {"refused", "suspect", "faced"} <= set(question.plain_words)  # "life sentence": a thesaurus term
    assert parse("¿Cuáles son los casos de decomiso?").plain_words == ("decomiso",)
    assert parse("the").root is not None  # nothing else typed: the stop word is the query
    assert "of" in str(parse('"proceeds of crime"').root)


def test_the_generic_verbs_of_a_question_leave_free_text_but_stay_in_documents_and_quotes():
    from network.search.query import parse, stop_words

    assert parse("What happens if the formal extradition request arrives late?").plain_words == (
        "formal", "extradition", "request", "arrives", "late")
    assert parse("How do I send an urgent request?").concepts == parse("urgent request").concepts
    assert set(parse("¿Qué pasa si el banco avisa al titular?").plain_words) == {"banco", "avisa", "titular"}
    assert parse("Quelles preuves obtenir contre des brouteurs ?").plain_words == ("preuves", "contre", "brouteurs")
    assert parse("send").root is not None  # nothing else typed: the word is the query
    assert "send" in str(parse('"send"').root)
    assert "send" not in stop_words()  # the documents' analysis and the thesaurus terms keep them


def test_nothing_typed_can_break_the_parser():
    from network.search.query import parse

    for text in ("+", "+-", "AND AND", "OR +", '+"', '-"x', "NOT +a", "a AND", "AND a", "+" * 500, "司" * 2000,
                 "\u200b\u202e", "ال" * 300):
        parse(text)


# ---------------------------------------------------------------- engines

def test_a_question_finds_cases_that_share_its_key_terms(case):
    case("C-LIFE", title="Surrender refused over a whole-life sentence",
         summary="The court refused extradition because the suspect faced life imprisonment without parole.")
    case("C-OTHER", title="Bank records for a fraud", summary="Records were sent within two months.")
    assert found("Has a State refused to surrender a suspect who faced a life sentence?")[0] == "C-LIFE"
    assert "C-OTHER" not in found("Has a State refused to surrender a suspect who faced a life sentence?")


def test_more_concepts_rank_before_fewer(case):
    case("C-ONE", title="Drones", summary="A drone was seized at the border.")
    case("C-THREE", title="Contraband dropped into prisons",
         summary="Drones carried drugs over the walls of two prisons.")
    case("C-NONE", title="Bank records", summary="Records were sent.")
    assert found("drones dropping drugs into prisons") == ["C-THREE", "C-ONE"]


def test_words_close_together_rank_before_the_same_words_apart(case):
    case("C-APART", title="Assets", summary="The evidence was frozen. Later a bank in another State sent the "
                                            "records of the company's accounts and its tax filings.")
    case("C-TOGETHER", title="Assets", summary="The bank records of the company were sent. The evidence was "
                                               "frozen and the accounts were closed.")
    assert found("bank records")[0] == "C-TOGETHER"


def test_plus_quotes_and_AND_make_words_required(case):
    case("C-A", title="Yacht seized in a marina")
    case("C-B", title="Yacht confiscated after trial")
    case("C-C", title="Confiscation of an aircraft")
    assert set(found("yacht confiscated")) == {"C-A", "C-B", "C-C"}
    assert found("yacht +marina") == ["C-A"]
    assert set(found("yacht +confiscated")) == {"C-B", "C-C"}  # inflections of a required word count
    assert found('"seized in a marina" yacht') == ["C-A"]
    assert found("yacht AND trial") == ["C-B"]
    assert set(found("yacht confiscated -marina")) == {"C-B", "C-C"}


def test_stop_words_do_not_match_every_case(case):
    case("C-A", title="The extradition of the fugitive")
    case("C-B", title="The records of the bank")
    assert found("the extradition of a fugitive") == ["C-A"]
    assert found("la extradición de un fugitivo") == ["C-A"]


def test_a_query_with_one_misspelt_word_still_finds_and_is_corrected(case):
    from catalogue.cases.queries import search_cases

    case("C-CONF", title="Confiscation of a yacht", summary="The yacht was confiscated.")
    case("C-OTHER", title="Yacht chartered by a witness", summary="Nothing else.")
    result = search_cases(None, {"q": ["confiscaton yacht"]}, "relevance")
    assert result.corrected_query == "confiscation yacht" and result.typed_query == "confiscaton yacht"
    assert [c.reference for c in result.cases][0] == "C-CONF"


def test_a_correction_never_names_a_word_only_a_hidden_case_holds(app, case, member, moderator):
    from catalogue.cases.queries import search_cases

    case("C-PUBLIC", title="Extradition of a fugitive")
    case("C-SECRET", title="Zeppelinhangar inspection", visibility="members")
    make_case(member, moderator, "C-DRAFT", status="draft", title="Quokkaburrow survey")
    anonymous = search_cases(None, {"q": ["zeppelinhangat"]})
    assert anonymous.corrected_query is None and anonymous.total == 0
    assert search_cases(None, {"q": ["quokkaburrov"]}).corrected_query is None
    vetted = search_cases(member, {"q": ["zeppelinhangat"]})
    assert vetted.corrected_query == "zeppelinhangar" and vetted.total == 1


def test_the_api_says_which_query_it_searched(client, case):
    case("C-A", title="Extradition of a fugitive")
    corrected = client.get("/api/v1/cases?q=extradtion").get_json()
    assert corrected["corrected_query"] == "extradition" and corrected["total"] == 1
    exact = client.get("/api/v1/cases?q=extradtion&verbatim=1").get_json()
    assert exact["corrected_query"] is None and exact["total"] == 0
    assert client.get("/api/v1/cases?q=extradition").get_json()["corrected_query"] is None


def test_arabic_inflections_meet(case):
    case("C-AR", language="ar", title="مصادرة عائدات الجريمة",
         summary="أمرت المحكمة بمصادرة الأموال المتأتية من غسل الأموال.")
    case("C-EN", title="Bank records")
    assert found("المصادرة") == ["C-AR"]


def test_chinese_words_are_found_inside_text_without_spaces(case):
    case("C-ZH", language="zh", title="跨国洗钱案件的资产没收",
         summary="法院根据请求冻结并没收了犯罪所得。")
    case("C-EN", title="Bank records", summary="Records of a fraud were sent.", crime_types=["fraud"])
    assert found("洗钱") == ["C-ZH"]
    assert found("犯罪所得") == ["C-ZH"]
    assert found("没收犯罪所得的国际合作") == ["C-ZH"]


EXTRADITION_CASES = {  # one case in each UN language, each naming extradition only in its own words
    "C-EN": ("en", "Extradition of a fugitive accountant", "The accountant was extradited after two years."),
    "C-FR": ("fr", "Remise de la personne à l'État requérant", "Le comptable en fuite a été remis en 2019."),
    "C-ES": ("es", "Entrega de la persona reclamada a Chile", "El contable prófugo fue entregado en 2019."),
    "C-RU": ("ru", "Экстрадиция бухгалтера в Австрию", "Бухгалтер был экстрадирован в 2019 году."),
    "C-AR": ("ar", "تسليم المجرمين: قضية محاسب هارب", "تم تسليم المحاسب الهارب إلى الدولة الطالبة."),
    "C-ZH": ("zh", "会计师逃犯引渡案", "该会计师于2019年被引渡至请求国。"),
}


@pytest.mark.parametrize("query", ["extradition", "remise de la personne", "extradición", "экстрадиция",
                                   "تسليم المجرمين", "引渡"])
def test_a_query_in_each_of_the_six_languages_finds_cases_written_in_the_others(case, query):
    coded = {"cooperation_forms": ["law_enforcement"], "crime_types": ["fraud"], "legal_bases": ["reciprocity"]}
    for reference, (language, title, summary) in EXTRADITION_CASES.items():
        case(reference, language=language, title=title, summary=summary, **coded)
    case("C-BANK", title="Bank records of a fugitive's company", summary="Records were sent.", **coded)
    assert set(found(query)) == set(EXTRADITION_CASES)
    assert set(found(f'"{query}"')) == set(EXTRADITION_CASES)  # synonyms hold inside quotes


def test_agent_nouns_meet_the_activity(case):
    case("C-POACH", title="Rhino horn poaching ring dismantled", summary="Horns were seized.",
         crime_types=["wildlife_crime"])
    case("C-OTHER", title="Bank records", summary="Records were sent.", crime_types=["fraud"])
    assert found("poachers") == ["C-POACH"]


def test_with_many_matches_the_best_candidates_get_the_full_score(app, db_backend, case, monkeypatch):
    """PostgreSQL ranks many matches in two phases (plain ts_rank picks candidates, the full score orders them);
    Whoosh re-ranks its best candidates by closeness. Either way the page is the one full ranking gives."""
    from network.search import postgres_backend, whoosh_backend

    case("C-BEST", title="Yacht confiscation and yacht sale", summary="A yacht was confiscated and sold.")
    case("C-SECOND", title="Yacht confiscation", summary="The vessel was kept.")
    for n in range(10):
        case(f"C-{n:02d}", title=f"Case number {n}",
             summary="A yacht was mentioned once." if n % 2 else "A confiscation was ordered.")
    full = found("yacht confiscation")
    monkeypatch.setattr(postgres_backend, "RANK_CANDIDATES", 2)
    monkeypatch.setattr(postgres_backend, "FULLY_RANKED", 2)
    monkeypatch.setattr(whoosh_backend, "NEAR_CANDIDATES", 2)
    from catalogue.cases.queries import search_cases

    page = [c.reference for c in search_cases(None, {"q": ["yacht confiscation"]}, "relevance", 1, 2).cases]
    assert page == full[:2] == ["C-BEST", "C-SECOND"]


def test_long_chains_of_operators_never_fail_on_either_engine(case):
    case("C-A", title="Extradition of a fugitive")
    for q in (" OR ".join(["extradition"] * 1000), " OR ".join(f"w{i}" for i in range(1000)),
              " ".join(f"w{i}" for i in range(1000)), "+" + " +".join(f"w{i}" for i in range(300)),
              '"' + " ".join(["a"] * 500) + '"', " ".join(["-x"] * 500), "a OR " * 400 + "extradition",
              "司法协助" * 250, "المساعدة " * 100):
        found(q)  # no exception
    assert found(" OR ".join(["zzz"] * 20) + " OR extradition") == ["C-A"]


def test_quoted_phrases_beyond_max_phrases_are_left_out(case):
    """Each quoted phrase is a search of word positions of its own: the first MAX_PHRASES typed count (excluded
    ones too), later ones are left out as words beyond MAX_CLAUSES are; the words typed after them still count."""
    from network.search import query as ql

    phrases = [f'"w{i} v{i}"' for i in range(ql.MAX_PHRASES + 3)]
    parsed = ql.parse(" ".join(phrases) + " extradition")
    quoted = [c for c in parsed.concepts if "Phrase" in repr(c)]
    assert len(quoted) == ql.MAX_PHRASES
    assert "w0" in repr(quoted[0]) and f"w{ql.MAX_PHRASES - 1}" in repr(quoted[-1])
    assert f"w{ql.MAX_PHRASES}" not in repr(parsed.root) and "extradition" in repr(parsed.concepts[-1])
    excluded = ql.parse(" ".join(f'-"x{i} y{i}"' for i in range(ql.MAX_PHRASES)) + ' "w v" OR extradition')
    assert "'w'" not in repr(excluded.root) and "extradition" in repr(excluded.root)  # (no OR left pending)
    case("C-A", title="Extradition of a fugitive")
    assert found(" ".join(phrases) + " OR extradition") == ["C-A"]


# ---------------------------------------------------------------- issue 11: concepts across words and languages

def test_a_thesaurus_term_matches_without_its_inner_stop_words():
    from network.search.documents import tokens
    from network.search.query import group_of, synonyms_in

    group = group_of(("transfer", "of", "prisoners"))
    assert group and group_of(("transferred", "prisoners")) == group
    assert group in synonyms_in(tokens("The transfer of the prisoners was agreed in 2019."), "en")
    assert group_of(("port", "of")) is not None and group_of(("port",)) is None  # first and last words stay


def test_a_hyphenated_word_is_part_of_the_term_it_spells_and_hyphenated_stop_words_go():
    from network.search.query import Phrase, Synonym, group_of, parse

    ncb = parse("non-conviction based forfeiture orders")
    assert Synonym(group_of(("non", "conviction", "based", "forfeiture"))) in ncb.concepts[0].items
    assert len(ncb.concepts) == 2  # the term, and "orders"
    question = parse("La banque peut-elle opposer le secret bancaire ?")
    assert Phrase(("peut", "elle")) not in question.concepts and len(question.concepts) == 3
    assert parse('"peut-elle"').concepts == (Phrase(("peut", "elle")),)  # quoted: kept


def test_a_hyphenated_word_that_spells_no_term_reaches_the_terms_inside_it():
    from network.search.query import Phrase, Synonym, group_of, parse

    ivory = parse("ivory-smuggling ring").concepts[0].items
    assert {Synonym(group_of(("ivory",))), Synonym(group_of(("smuggling",))), Phrase(("ivory", "smuggling"))} \
        == set(ivory)
    assert Synonym(group_of(("money", "laundering"))) in parse("anti-money-laundering").concepts[0].items
    assert Synonym(group_of(("italian",))) in parse("Franco-Italian team").concepts[0].items
    ncb = parse("non-conviction based forfeiture").concepts  # the longer term it spells, and only that
    assert len(ncb) == 1 and Synonym(group_of(("conviction",))) not in ncb[0].items
    assert parse("peut-elle").concepts == (Phrase(("peut", "elle")),)  # stop words reach nothing


def test_a_hyphenated_word_finds_the_terms_inside_it_in_any_language(case):
    case("C-IVORY", language="fr", title="Défenses d'éléphant saisies au port", summary="Trafic d'ivoire démantelé.",
         crime_types=["fraud"])
    case("C-AML", language="es", title="Lavado de activos a través de casas de cambio", summary="-",
         crime_types=["fraud"])
    case("C-BANK", title="Bank records of a fugitive's company", summary="Records were sent.", crime_types=["fraud"])
    assert found("ivory-related seizures") == ["C-IVORY"]
    assert found("anti-money-laundering") == ["C-AML"]


def test_an_agent_noun_also_looks_for_the_activity_and_the_activity_for_the_agent():
    from network.search.query import Term, parse

    def alternatives(text: str) -> set:
        return {item for concept in parse(text).concepts for item in getattr(concept, "items", (concept,))}

    assert Term("smuggling") in alternatives("smugglers")
    assert Term("smuggler") in alternatives("smuggling")
    assert Term("braconnage") in alternatives("braconniers")
    assert Term("order") not in alternatives("orders") and len(parse("orders").concepts) == 1


def test_an_elided_article_or_a_possessive_is_the_word_itself(case):
    case("C-EXT", language="fr", title="Extradition refusée par la chambre", summary="La remise a été refusée.",
         cooperation_forms=["law_enforcement"])
    case("C-JIT", title="Joint investigation team against a smuggling network", summary="Set up in 2020.")
    case("C-BANK", title="Bank records", summary="Records were sent.")
    assert "C-EXT" in found("l'extradition") and "C-EXT" in found("d\u2019extradition")
    assert found("équipe commune d'enquête") == ["C-JIT"]  # the thesaurus term, though typed with d'


def test_a_chinese_query_typed_without_spaces_finds_its_terms_in_any_language(case):
    case("C-IVORY", title="Ivory smuggling ring: freezing of the exporter's accounts",
         summary="Tusks were seized in the port and the accounts frozen.", crime_types=["wildlife_crime"])
    case("C-ZH", language="zh", title="象牙走私案", summary="海关查获象牙。")
    case("C-BANK", title="Bank records", summary="Records were sent.")
    assert set(found("象牙走私")) == {"C-IVORY", "C-ZH"}
    assert found("象牙走私 资产冻结")[0] == "C-IVORY"  # ivory, smuggling and freezing: the most concepts held
    assert found('"象牙走私"') == ["C-ZH"]  # quoted: the exact characters


def test_a_state_is_found_by_its_name_in_any_un_language_or_by_the_case_being_about_it(case):
    case("C-LBN", title="Bank secrecy lifted for a fraud investigation", summary="The accounts were disclosed.",
         requested_state="LBN")
    case("C-FR", language="fr", title="Secret bancaire levé au Liban", summary="Les comptes ont été transmis.",
         requesting_state="FRA", requested_state="BEL")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    for query in ("Lebanon", "Liban", "Líbano", "Ливан", "لبنان", "黎巴嫩"):
        assert set(found(query)) == {"C-LBN", "C-FR"}, query


def test_a_case_naming_the_concepts_in_another_language_ranks_before_one_holding_only_some_of_the_words(case):
    coded = {"cooperation_forms": ["law_enforcement"], "crime_types": ["fraud"], "legal_bases": ["reciprocity"]}
    case("C-FR", language="fr", title="Entraide judiciaire : relevés bancaires transmis",
         summary="Les relevés bancaires ont été transmis au titre de l'entraide judiciaire.", **coded)
    case("C-EN", title="Legal staff and bank staff: mutual visits",
         summary="Assistance for bank employees; legal training; mutual visits of bank and legal staff.", **coded)
    assert found("mutual legal assistance bank records")[0] == "C-FR"


# ---------------------------------------------------------------- issue 11: rare typos, short words, phrases, weights

def test_a_rare_typo_of_a_common_word_also_searches_the_word(case):
    """A word found in a case or two, one letter from a word found in ten times as many, is likely a typo that a
    case also has: both are searched, and the page says so."""
    from catalogue.cases.queries import search_cases

    case("C-TYPO", title="Extradtion of a fugitive", summary="The fugitive was surrendered.")
    case("C-STATUES", title="Looted statues returned", summary="Two statues came home.")
    for n in range(10):
        case(f"C-{n:02d}", title=f"Extradition granted, number {n}", summary="Two states agreed.")
    result = search_cases(None, {"q": ["extradtion"]}, "relevance", 1, 50)
    assert result.corrected_query == "extradtion OR extradition" and result.typed_query == "extradtion"
    assert result.total == 11 and "C-TYPO" in [c.reference for c in result.cases]
    assert search_cases(None, {"q": ["extradtion"], "verbatim": ["1"]}).total == 1
    # a rare word longer than a common one is no typo of it
    statues = search_cases(None, {"q": ["statues"]}, "relevance")
    assert statues.corrected_query is None and [c.reference for c in statues.cases] == ["C-STATUES"]


def test_a_short_unknown_word_is_corrected_only_when_nothing_else_typed_finds(case):
    from catalogue.cases.queries import search_cases

    case("C-CAB", title="Cab drivers paid in cash", summary="Cab fares.")
    case("C-POACH", title="Poaching proceeds laundered", summary="Proceeds of poaching.")
    result = search_cases(None, {"q": ["crab poaching"]}, "relevance")
    assert result.corrected_query is None  # not "cab poaching"
    assert [c.reference for c in result.cases] == ["C-POACH"]
    alone = search_cases(None, {"q": ["cabb"]}, "relevance")
    assert alone.corrected_query == "cab" and [c.reference for c in alone.cases] == ["C-CAB"]


def test_a_quoted_phrase_that_finds_nothing_gives_way_to_its_words_closest_first(case):
    from catalogue.cases.queries import search_cases

    case("C-APART", title="A party to the contract", summary="Red brick, said the third witness.")
    case("C-NEAR", title="Purchaser of the red brick", summary="A third party kept the shed.")
    case("C-NONE", title="Bank records", summary="Records were sent.")
    result = search_cases(None, {"q": ['"red brick third party"']}, "relevance")
    assert result.corrected_query == "red brick third party" and result.typed_query == '"red brick third party"'
    assert [c.reference for c in result.cases] == ["C-NEAR", "C-APART"]
    assert search_cases(None, {"q": ['"red brick third party"'], "verbatim": ["1"]}).total == 0
    assert search_cases(None, {"q": ['"third party"']}).corrected_query is None  # a phrase that finds stays


@pytest.mark.parametrize("query", ["ransom", "rançon", "rescate exigido", "赎金", "فدية"])
def test_everyday_words_of_the_field_meet_across_languages(case, query):
    case("C-RU", language="ru", title="Выкуп за похищенного моряка", summary="Похитители потребовали выкуп.")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    assert found(query) == ["C-RU"]


@pytest.mark.parametrize(("query", "title", "language"), [
    ("non-conviction based forfeiture", "Denegada la ejecución de una sentencia de extinción de dominio", "es"),
    ("bona fide third party", "Decomiso de una embarcación: alegación de tercero de buena fe", "es"),
    ("risk of torture", "Отказ в выдаче: риск применения пыток", "ru"),
    ("romance scam", "Escroquerie aux sentiments : réquisitions bancaires", "fr"),
    ("consent", "Transferencia con el consentimiento del condenado", "es"),
])
def test_terms_of_the_conventions_meet_across_languages(case, query, title, language):
    case("C-IT", language=language, title=title, summary="-")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    assert found(query) == ["C-IT"], query


def test_species_and_seized_assets_meet_across_languages(case):
    case("C-CRAB", language="ru", title="Незаконный вылов краба", summary="Крабы были вывезены в Корею.")
    case("C-SALE", language="es", title="Venta anticipada de un buque incautado", summary="El buque se vendió.")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    assert found("crab")[0] == "C-CRAB"
    assert found("vessel sold before judgment")[0] == "C-SALE"


@pytest.mark.parametrize(("query", "title", "language"), [
    ("tribunal", "Judgment of the district court on the freezing", "en"),
    ("court", "Отказ районного суда в аресте счетов", "ru"),
    ("judgment", "判决已生效", "zh"),
    ("jugement", "قرار المحكمة بشأن التسليم", "ar"),
])
def test_the_court_and_its_judgment_meet_across_languages(case, query, title, language):
    case("C-IT", language=language, title=title, summary="-")
    case("C-OTHER", title="Records of the company", summary="Records were sent.")
    assert found(query) == ["C-IT"], query


def test_a_state_is_found_by_its_adjective_in_any_un_language(case):
    case("C-CH", language="es", title="Cuentas congeladas por las autoridades suizas", summary="-")
    case("C-RU", language="ru", title="Запрос швейцарской прокуратуры", summary="-")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    for query in ("Switzerland", "Swiss", "Suisse", "Швейцария", "سويسرا", "瑞士"):
        assert set(found(query)) == {"C-CH", "C-RU"}, query


# Ordinary words that the States' names met through the stemmers (and the Chinese bigrams), each with the State
# it no longer reaches.
STATE_COLLISIONS = [
    ("ar", "البحر", "BHR"), ("ar", "البحرية", "BHR"), ("ar", "بحرا", "BHR"), ("ar", "بيروت", "PER"),
    ("ar", "بان", "ALB"), ("ar", "التحقيق المالي", "MLI"), ("ru", "данные", "DNK"), ("ru", "данных", "DNK"),
    ("ru", "груз", "GEO"), ("ru", "того", "TGO"), ("fr", "francs", "FRA"), ("fr", "réunion", "REU"),
    ("en", "island", "ISL"), ("en", "grenades", "GRD"), ("es", "reuniones", "REU"), ("es", "franco", "FRA"),
    ("simple", "非法国际贸易", "FRA"), ("simple", "其中国家", "CHN"),
]
# And their inflected names and adjectives, which still reach them.
STATE_FORMS = [
    ("ar", "البحرين", "BHR"), ("ar", "للبحرين", "BHR"), ("ar", "وفرنسا", "FRA"), ("ar", "السلطات القطرية", "QAT"),
    ("ru", "Франции", "FRA"), ("ru", "Соединенных Штатов", "USA"), ("ru", "Южной Кореи", "KOR"),
    ("ru", "швейцарскую", "CHE"), ("fr", "autorités tunisiennes", "TUN"), ("es", "autoridades paraguayas", "PRY"),
    ("ar", "السلطات العمانية", "OMN"), ("en", "Lebanon's", "LBN"), ("simple", "法国警方", "FRA"),
    ("simple", "中国籍在逃人员", "CHN"),
]


def _evaluation_and_interface_words() -> dict[str, set[str]]:
    """The words of the evaluation cases and of the interface's translations, by analysis language."""
    import json
    import re
    from pathlib import Path

    from network.search.documents import analysis_language, tokens

    root = Path(__file__).resolve().parent.parent
    words: dict[str, set[str]] = {}
    for path in sorted((root / "catalogue/search/evaluation").glob("cases-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            versions = [(case.get("language", "en"), case)] + list((case.get("translations") or {}).items())
            for language, fields in versions:
                text = " ".join(str(v) for k, v in fields.items() if k in ("title", "summary", "obstacles",
                                                                           "solutions", "lessons_learned"))
                words.setdefault(analysis_language(language), set()).update(tokens(text))
    for path in sorted((root / "translations").glob("*/LC_MESSAGES/messages.po")):
        text = path.read_text(encoding="utf-8")
        language = analysis_language(path.parts[-3])
        words.setdefault(language, set()).update(tokens(" ".join(re.findall(r'^msgstr "(.*)"', text, re.M))))
        words.setdefault("en", set()).update(tokens(" ".join(re.findall(r'^msgid "(.*)"', text, re.M))))
    return words


def test_a_states_name_reaches_its_group_as_written_never_through_an_ordinary_word_sharing_its_stem():
    from network.search.documents import tokens
    from network.search.query import query_stop_words, state_group, state_groups, synonym_table, synonyms_in

    groups = synonym_table()[0]
    states = {name for name in state_groups() if name in groups}
    for language, text, code in STATE_COLLISIONS:
        assert state_group(code) not in synonyms_in(tokens(text), language), (language, text)
    for language, text, code in STATE_FORMS:
        assert state_group(code) in synonyms_in(tokens(text), language), (language, text)
    # Every word of the evaluation cases and of the interface that reaches a State's group is one of the forms of
    # that State's names and adjectives (state_forms), not a word that shares a stem with one.
    for language, words in _evaluation_and_interface_words().items():
        for word in words:
            for name in synonyms_in([word], language) & states:
                assert (word,) in groups[name], (language, word, name)
    assert not {term[0] for name in states for term in groups[name] if len(term) == 1} & query_stop_words()


def test_a_states_name_is_not_found_in_the_ordinary_words_its_stem_shares(case):
    case("C-BHR", title="Bank records requested from the authorities", summary="-", requested_state="BHR")
    case("C-SEA", language="ar", title="تهريب المخدرات عن طريق البحر", summary="ضبطت الشرطة البحرية القارب.")
    case("C-DNK", title="Evidence requested from the authorities", summary="-", requested_state="DNK")
    case("C-DATA", language="ru", title="Передача данных о банковских счетах", summary="Данные переданы.")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    # (the word typed is also searched as itself, stemmed as the engines stem every word: البحرين and البحر share
    # a stem there, so the case about the sea comes after the one about Bahrain)
    assert found("Bahrain") == found("Бахрейн") == ["C-BHR"] and found("البحرين")[0] == "C-BHR"
    assert found("البحر") == ["C-SEA"]
    assert found("Denmark") == ["C-DNK"] and found("Дании")[0] == "C-DNK"
    assert found("данные") == ["C-DATA"]


def test_a_case_naming_a_narrower_concept_is_found_by_the_broader_one_and_not_the_reverse(case):
    case("C-IVORY", title="Ivory tusks seized in the port", summary="The tusks were shipped as tea.")
    case("C-PANGOLIN", language="fr", title="Écailles de pangolin saisies", summary="-")
    case("C-WILD", title="Poaching network dismantled", summary="-")
    case("C-OTHER", title="Bank records", summary="Records were sent.")
    for query in ("poaching", "braconnage", "野生动植物犯罪"):
        assert set(found(query)) == {"C-IVORY", "C-PANGOLIN", "C-WILD"}, query
    assert found("ivory") == ["C-IVORY"]


def test_a_rare_concept_outweighs_a_common_one_after_a_reindex(app, case):
    """Whoosh weighs words by BM25's inverse document frequency; PostgreSQL by the lexeme statistics of the
    analysed table (a reindex analyses it): a word in one case counts for more than one in nearly every case."""
    for n in range(8):
        case(f"C-{n}", title=f"Orchard dispute number {n}", summary="Nothing else happened.")
    case("C-RARE", title="A dispute", summary="Seized at the border.", keywords=["zeppelin"])
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--kind", "cases"])
    assert result.exit_code == 0, result.output
    assert found("orchard zeppelin")[0] == "C-RARE"


def test_the_account_holder_is_one_concept_in_the_six_languages(case):
    case("C-EN", title="Notification of the account holder under the requested State's law", summary="-")
    case("C-RU", language="ru", title="Уведомление владельца счета о запросе", summary="-")
    case("C-BANK", title="Bank records of a fugitive's company", summary="Records were sent.")
    for query in ("titular de la cuenta", "titulaire du compte", "account holders", "صاحب الحساب", "账户持有人"):
        assert set(found(query)) == {"C-EN", "C-RU"}, query


def test_serving_a_sentence_and_a_penalty_meet_across_languages(case):
    case("C-EN", title="Prisoner transferred home to serve his sentence", summary="-")
    case("C-AR", language="ar", title="نقل محكوم عليه: تنفيذ بقية العقوبة في بلده", summary="-")
    case("C-BANK", title="Bank records of a fugitive's company", summary="Records were sent.")
    for query in ("cumplir la condena", "لقضاء العقوبة", "отбывание наказания", "服刑"):
        assert set(found(query)) == {"C-EN", "C-AR"}, query
    assert set(found("peine")) == {"C-EN", "C-AR"}  # the penalty's own word finds a sentence in any language


def test_surrender_is_extradition(case):
    case("C-ES", language="es", title="Extradición de un ciudadano a Colombia", summary="-")
    case("C-BANK", title="Bank records of a fugitive's company", summary="Records were sent.")
    assert found("surrendered") == found("surrender") == ["C-ES"]


def test_folding_ascii_text_takes_a_shortcut_to_the_same_words():
    """documents.fold lowers ASCII text directly (nothing in it decomposes or combines): the same as the general path
    for every ASCII character and mixed text, and non-ASCII text still loses its accents."""
    import unicodedata

    from network.search.documents import fold

    def general(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    every = "".join(chr(n) for n in range(128))
    for text in (every, every.upper(), "Mutual Legal Assistance, ART. 18(13)", "\x00\x1f\x7f"):
        assert fold(text) == general(text)
    assert fold("Coopération ÉTÉ Straße") == general("Coopération ÉTÉ Straße") == "cooperation ete strasse"
