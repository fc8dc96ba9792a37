"""The search box's query language, parsed into a small tree that each backend compiles to its own engine query.

    drones drugs prisons     any of the words; cases with more of them, in stronger fields and closer together,
                             rank first (words are optional and ranked, as in every web search engine)
    +confiscation            the word is required
    "joint investigation"    the exact phrase, required (synonyms of the whole phrase still count)
    bank AND records         both required
    bank OR financial        either word (one concept: OR binds tighter than the space)
    -extradition, NOT ...    leave out cases with the word or phrase
    extradit*                words starting with extradit
    ivory-smuggling          a hyphenated word: the phrase, and the thesaurus terms inside it (ivory, smuggling) unless
                             it spells a longer term with its neighbours ("non-conviction based forfeiture")
    MLA                      also its synonyms and translations from synonyms.yaml (one index-time token); a
                             State's name in any UN language; "smugglers" also "smuggling" (agents: pairs)
    象牙走私                  Chinese typed without spaces: the thesaurus terms inside it, each a concept

Stop words of the analysed languages and the words of a question ("how", "has", "quels", "¿cómo") are dropped from
free text (not from quotes), unless nothing else was typed. Parsing never fails: unbalanced quotes close at the
end, lone operators and punctuation are ignored, and only word characters (\\w+) ever reach an engine, so no input
can break an engine's own query syntax."""
from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from network.search.documents import CJK_RE, STEMMED_LANGUAGES, WORD_RE, fold, stemmer, tokens

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 24
MAX_WORD_CHARS = 60
SYNONYMS_PATH = Path(__file__).resolve().parent / "synonyms.yaml"

_APOSTROPHE_RE = re.compile("['\u2019\u02bc]")
_TOKEN_RE = re.compile(r'(?P<sign>[-!+])?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
MAX_PAIRS = 6  # adjacent typed words whose closeness ranks (each costs a phrase lookup)
# quoted phrases that count, in the order typed (each is a search of word positions of its own: 24 of them took 0.7 s
# on Whoosh at 10,000 cases); later ones are left out, as words beyond MAX_CLAUSES are
MAX_PHRASES = 8
MAX_CJK_PHRASE = 4  # a CJK word of up to this many characters is one phrase; a longer run, its bigrams, optional


@dataclass(frozen=True)
class Term:
    word: str  # one \w+ word, as typed (the engines fold and stem it)
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Synonym:
    """The canonical token of a synonym group (synonyms.yaml), which the indexer gives every document naming
    any term of the group."""

    group: str


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | Phrase | Synonym | Or | And | Not


@dataclass(frozen=True)
class Query:
    """A parsed query. `root` is what a case must satisfy to be found (None when nothing searchable was typed):
    every required clause and, when nothing is required, any optional one; never an excluded one. `concepts` are
    the positive clauses, each ranked as one concept (a case holding more of them ranks first); `pairs` the runs
    of typed words between two adjacent concepts (closeness ranks); `plain_words` the words typed outside quotes
    and prefixes, which a correction may replace."""

    text: str
    root: Node | None
    plain_words: tuple[str, ...] = ()
    concepts: tuple[Node, ...] = ()
    pairs: tuple[tuple[str, ...], ...] = field(default=())

    def __bool__(self) -> bool:
        return self.root is not None



# ---------------------------------------------------------------- synonyms
#
# Synonyms are applied at INDEX time: a document holding any term of a group (its words folded and stemmed the
# way the engines stem the text's language, or merely folded) gets the group's one canonical token, in a field of
# its own at keyword weight. A query word or phrase that spells a term of a group becomes (the literal words OR
# that one token), so a query never explodes into every term of the group in every language and field.



def stem_words(words: tuple[str, ...] | list[str], lang: str) -> tuple[str, ...]:
    """Folded words stemmed with the Snowball stemmer of `lang` ("raw": unchanged)."""
    if lang == "raw":
        return tuple(words)
    stem = stemmer(lang)
    return tuple(stem(w) for w in words)


def _group_name(terms: tuple[tuple[str, ...], ...]) -> str:
    return "".join(terms[0])[:40]


@functools.cache
def thesaurus_data(path: Path = SYNONYMS_PATH) -> dict:
    """synonyms.yaml as read once per process (LibYAML's loader where PyYAML has it: the pure-Python one took about
    0.6 s for this file); callers read it and never change it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 (a safe loader)


def synonym_table(path: Path = SYNONYMS_PATH) -> tuple[dict[str, tuple[tuple[str, ...], ...]],
                                                        dict[str, dict[tuple[str, ...], str]]]:
    """(group name -> its terms as folded word tuples, analysis -> {term words under that analysis: group name}).
    Analyses are "raw" (folded only) and each stemmed language; a term found under two groups keeps the first.
    Built once per file, whether the path is given or not."""
    return _synonym_table(Path(path))


@functools.cache
def _synonym_table(path: Path) -> tuple[dict[str, tuple[tuple[str, ...], ...]],
                                        dict[str, dict[tuple[str, ...], str]]]:
    data = thesaurus_data(path)
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    keys: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in ("raw", *STEMMED_LANGUAGES)}
    named = [(None, group) for group in data.get("groups") or []]
    if data.get("states", True):
        named += list(state_groups().items())
    for given, group in named:
        terms = tuple(t for t in dict.fromkeys(tuple(tokens(str(t))) for t in group
                                               if str(t).strip()) if t)
        if not terms:
            continue
        name = given or _group_name(terms)
        groups[name] = terms
        # a State's names and their forms as written, never stemmed (state_forms says why)
        analyses = [(lang, table) for lang, table in keys.items() if lang == "raw" or given is None]
        for lang, table in analyses:
            for term in terms:
                table.setdefault(stem_words(term, lang), name)
        for lang, table in analyses:  # then each term without its inner stop words: "transfer prisoners"
            for term in terms:
                table.setdefault(stem_words(_without_stop_words(term), lang), name)
    return groups, keys


def _without_stop_words(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Folded words without the stop words between the first and the last: "transfer of the prisoners" and
    "transferred prisoners" spell one term, as "remise de la personne" and "remise personne" do. The first and the
    last stay, so "port of" (not the French "port" of a weapon) keeps its meaning."""
    if len(words) < 3:
        return tuple(words)
    stop = stop_words()
    return (words[0], *(w for w in words[1:-1] if w not in stop), words[-1])


UN_LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")


def state_group(code: str) -> str:
    """The synonym group of a State (ISO 3166-1 alpha-3 code): "statelbn"."""
    return "state" + code.lower()


@functools.cache
def state_groups() -> dict[str, tuple[str, ...]]:
    """A synonym group per State: its names in the six UN languages (the Unicode CLDR's, through Babel) and its
    ISO names (pycountry), and the adjectives and demonyms synonyms.yaml lists for it (`demonyms:`), each with the
    inflected forms state_forms gives it, so that "Lebanon" finds a case that says "Liban", "Ливана", "بلبنان" or
    "les autorités libanaises", or whose requesting or requested State is Lebanon (document_synonyms adds the group
    of those States). These are matched as written (folded), never stemmed (_synonym_table). Names that are also
    words of the thesaurus keep their group there (a term belongs to one group only); a form that is a stop word
    ("того", Togo in Russian) or listed under `state_homonyms:` in synonyms.yaml is left out."""
    import pycountry
    from babel import Locale

    territories = {lang: Locale.parse(lang).territories for lang in UN_LANGUAGES}
    data = thesaurus_data()
    demonyms = {str(code).upper(): [str(t) for t in terms or ()] for code, terms in (data.get("demonyms") or {}).items()}
    homonyms = {fold(str(word)) for word in data.get("state_homonyms") or ()}
    stop = stop_words()
    out: dict[str, tuple[str, ...]] = {}
    for country in pycountry.countries:
        names = [getattr(country, attr, "") for attr in ("name", "common_name", "official_name")]
        names += [territories[lang].get(country.alpha_2, "") for lang in UN_LANGUAGES]
        adjectives = demonyms.get(country.alpha_3, [])
        if country.alpha_3 not in _NAMING_A_LANGUAGE:  # Arabic derives the adjective from the name: قطر, القطرية
            adjectives += [a for a in [_arabic_nisba(territories["ar"].get(country.alpha_2, ""))] if a]
        forms = [form for name in dict.fromkeys(names) if name for form in state_forms(name)]
        forms += [form for name in adjectives for form in state_forms(name, adjective=True)]
        forms = [f for f in dict.fromkeys(forms) if (len(f) > 2 or CJK_RE.search(f)) and f not in homonyms
                 and not (" " not in f and f in stop)]
        if forms:
            out[state_group(country.alpha_3)] = tuple(forms)
    return out


# State names are matched as written, not stemmed: a stemmer reduces a name to a stem it shares with ordinary words
# (Arabic البحرين "Bahrain" to بحر, the stem of البحر "the sea" and البحرية "maritime"; Russian Дания "Denmark" to
# дан, of данные "data"; Грузия "Georgia" to груз "cargo"; French "France" to franc, of "francs" and "français"),
# and each stemmer met every name (English stemmed the French "Islande" and "Grenade" into "island" and "grenade").
# The forms a name takes in running text are spelt out instead: Russian declension (the six cases, an adjective
# agreeing with its noun: "Соединенных Штатов", "Южной Кореи"), Arabic proclitics ("وفرنسا", "بلبنان", "للبحرين")
# and the gender and number of adjectives ("tunisiennes", "panameñas", "швейцарскую", "الكنديين").
_RU_ADJECTIVE = {  # ending -> its forms in the nominative, genitive, dative, accusative, instrumental, prepositional
    "ый": ("ый", "ого", "ому", "ый", "ым", "ом"), "ой": ("ой", "ого", "ому", "ой", "ым", "ом"),
    "ий": ("ий", "ого|его", "ому|ему", "ий", "им", "ом|ем"), "ая": ("ая", "ой", "ой", "ую", "ой|ою", "ой"),
    "яя": ("яя", "ей", "ей", "юю", "ей", "ей"), "ое": ("ое", "ого", "ому", "ое", "ым", "ом"),
    "ее": ("ее", "его", "ему", "ее", "им", "ем"), "ые": ("ые", "ых", "ым", "ые", "ыми", "ых"),
    "ие": ("ие", "их", "им", "ие", "ими", "их"),
}
_RU_NOUN = {
    "ия": ("ия", "ии", "ии", "ию", "ией|иею", "ии"), "ий": ("ий", "ия", "ию", "ий", "ием", "ии"),
    "я": ("я", "и", "е", "ю", "ей|ею", "е"), "а": ("а", "ы|и", "е", "у", "ой|ою", "е"),
    "ь": ("ь", "и|я", "и|ю", "ь", "ью|ем", "и|е"), "й": ("й", "я", "ю", "й", "ем", "е"),
    "ы": ("ы", "ов", "ам", "ы", "ами", "ах"), "": ("", "а", "у", "", "ом|ем", "е"),
}
_RU_INDECLINABLE = "оеиуюэё"
_AR_PROCLITICS = ("و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك")
_AR_NISBA = ("ي", "ية", "يين", "يون", "يات")


_NAMING_A_LANGUAGE = frozenset({"FRA", "ESP", "RUS", "CHN"})  # their adjectives also name a UN language


def _arabic_nisba(name: str) -> str | None:
    """The Arabic adjective (nisba) of a one-word State name: قطر -> قطري, ليبيا -> ليبي, العراق -> عراقي; None
    for a name of several words or ending in ي (مالي, Mali, is also "financial": its adjective would be المالية)."""
    word = fold(name)
    if not word or " " in name.strip() or word.endswith("ي"):
        return None
    word = word[2:] if word.startswith("ال") else word
    base = word[:-2] if word.endswith("يا") else word[:-1] if word.endswith("ا") else word
    return base + "ي" if len(base) > 2 else None


def _russian_cases(word: str, adjective: bool) -> list[list[str]]:
    """A lower-case Russian word's forms in each of the six cases (one form in each for an indeclinable one)."""
    table = _RU_ADJECTIVE if adjective else _RU_NOUN
    ending = next((e for e in sorted(table, key=len, reverse=True) if word.endswith(e) and len(word) > len(e) + 2),
                  None)
    if ending is None or (ending == "" and word[-1] in _RU_INDECLINABLE) or (ending == "а" and word[-2] in "аоуеи"):
        return [[word]] * 6
    base = word[:len(word) - len(ending)]
    return [[base + e for e in forms.split("|")] for forms in table[ending]]


def _latin_adjective_forms(word: str) -> list[str]:
    """An English, French or Spanish adjective of a State in each gender and number ("tunisien" -> "tunisiennes",
    "panameño" -> "panameñas", "irlandés" -> "irlandesas")."""
    forms = [word]
    if word.endswith(("o", "a")) and not word.endswith(("ia", "ua")):
        forms += [word[:-1] + e for e in ("o", "a", "os", "as")]
    elif word.endswith("és"):
        forms += [word[:-2] + e for e in ("esa", "esas", "eses")]
    elif word.endswith("ien"):
        forms += [word + e for e in ("ne", "nes", "s")]
    elif word.endswith(("ain", "in")):
        forms += [word + e for e in ("e", "es", "s")]
    elif word.endswith(("ais", "ois")):
        forms += [word + e for e in ("e", "es")]
    elif word.endswith(("e", "í", "i", "an", "ian")):
        forms += [word + ("es" if word.endswith("í") else "s")]
    return forms


def state_forms(name: str, adjective: bool = False) -> list[str]:
    """The folded forms (words joined by one space) a State's name or adjective takes in running text: itself; in
    Russian each case, its words agreeing; in Arabic with a proclitic on its first word ("و", "ب", "ل" ...) and,
    an adjective, each gender and number ("سويسري", "السويسرية", "السويسريين"); an English, French or Spanish
    adjective in each gender and number. A name written in a Latin script is taken as it is."""
    cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in name)
    words = WORD_RE.findall(name.lower() if cyrillic else fold(name))  # Russian endings need their "й"
    if not words:
        return []
    variants: list[list[str]] = [words]
    if cyrillic and not name.isupper():
        declined = [_russian_cases(w, (adjective and len(words) == 1)
                                   or (i < len(words) - 1 and any(w.endswith(e) for e in _RU_ADJECTIVE)))
                    for i, w in enumerate(words)]
        variants = [list(forms) for case in range(6) for forms in itertools.product(*(d[case] for d in declined))]
    elif any("\u0600" <= ch <= "\u06ff" for ch in name):
        first = words[0]
        heads = [first]
        if adjective and len(words) == 1:
            bare = first[2:] if first.startswith("ال") else first
            bare = bare[:-2] if bare.endswith("ية") else bare[:-1] if bare.endswith("ي") else None
            heads = [first] if bare is None else [a + bare + e for a in ("", "ال") for e in _AR_NISBA]
        proclitics = ("", "و", "ف", "ب") if adjective else ("", *_AR_PROCLITICS)  # an adjective: "والسويسرية"
        firsts = [p + h for h in heads for p in proclitics if not (h.startswith("ال") and p.endswith("ل"))]
        firsts += [p + "ل" + h[1:] for h in heads if h.startswith("ال") for p in ("", "و", "ف")]  # ل + ال: للبحرين
        variants = [[f, *words[1:]] for f in firsts]
    elif adjective and len(words) == 1 and not CJK_RE.search(name):
        variants = [[form] for form in _latin_adjective_forms(words[0])]
    return list(dict.fromkeys(" ".join(tokens(" ".join(v))) for v in variants))


def synonym_groups(path: Path = SYNONYMS_PATH) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Folded words of a term -> every term of its group (as folded word tuples), itself included."""
    groups, keys = synonym_table(path)
    return {term: groups[name] for term, name in keys["raw"].items()}


@functools.cache
def _first_words() -> dict[str, dict[str, tuple[int, ...]]]:
    """analysis -> first (stemmed) word of a term -> the lengths of the terms starting with it, longest first."""
    _groups, keys = synonym_table()
    out: dict[str, dict[str, set[int]]] = {}
    for lang, table in keys.items():
        firsts: dict[str, set[int]] = {}
        for words in table:
            firsts.setdefault(words[0], set()).add(len(words))
        out[lang] = firsts
    return {lang: {w: tuple(sorted(n, reverse=True)) for w, n in firsts.items()} for lang, firsts in out.items()}


@functools.cache
def _stripped_terms() -> tuple[dict[str, dict[tuple[str, ...], str]], dict[str, dict[str, tuple[int, ...]]]]:
    """The terms that had inner stop words, without them, by analysis, and their first words (as _first_words):
    the only ones a text without its stop words needs to be matched against."""
    groups, keys = synonym_table()
    tables: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in keys}
    for name, terms in groups.items():
        for term in terms:
            bare = _without_stop_words(term)
            if bare != term:
                for lang, table in tables.items():
                    key = stem_words(bare, lang)
                    if keys[lang].get(key) == name:
                        table.setdefault(key, name)
    firsts = {lang: {} for lang in tables}
    for lang, table in tables.items():
        for words in table:
            firsts[lang].setdefault(words[0], set()).add(len(words))
    return tables, {lang: {w: tuple(sorted(n, reverse=True)) for w, n in f.items()} for lang, f in firsts.items()}


def synonyms_in(words: list[str], lang: str) -> set[str]:
    """Names of the synonym groups one of whose terms occurs in `words` (folded words of a text in `lang`),
    matched both folded only and, for a stemmed language, stemmed as that language."""
    _groups, keys = synonym_table()
    firsts = _first_words()
    stripped, stripped_firsts = _stripped_terms()
    found: set[str] = set()
    stop = stop_words()
    kept = [w not in stop for w in words]
    for analysis in ("raw", lang) if lang in STEMMED_LANGUAGES else ("raw",):
        stemmed = stem_words(words, analysis)
        # the text as written against every term, and without its stop words against the terms that had inner ones
        passes = ((stemmed, keys, firsts), (tuple(w for w, k in zip(stemmed, kept, strict=True) if k), stripped,
                                             stripped_firsts))
        for sequence, tables, starting in passes:
            table, starts = tables[analysis], starting[analysis]
            for i, word in enumerate(sequence):
                lengths = starts.get(word)
                if not lengths:
                    continue
                for n in lengths:
                    name = table.get(sequence[i:i + n]) if n > 1 else table.get((word,))
                    if name and not (n == 1 and name.startswith("state") and cjk_straddled(sequence, i)):
                        found.add(name)
    return found


# Chinese is cut into bigrams, so a State named in two characters is found inside two words that meet: 非法|国际
# ("illegal international") holds 法国 (France), 其中|国家 ("among them, States") 中国 (China), 东南|非法 南非 (South
# Africa). A bigram of a State's name is no name between two such words, frequent in the texts of the field: one
# ending in its first character and one starting with its last.
CJK_WORDS_BEFORE = frozenset("非法 合法 依法 违法 执法 司法 立法 刑法 宪法 方法 其中 集中 当中 东南 西南".split())
CJK_WORDS_AFTER = frozenset("国际 国家 国内 国外 国籍 国有 国民 国务 国库 国境 非法".split())


def cjk_straddled(pieces: tuple[str, ...] | list[str], i: int) -> bool:
    """Whether the CJK bigram pieces[i] is where two words meet (CJK_WORDS_BEFORE, CJK_WORDS_AFTER): no State's
    name there, as in 非法国际 but not in 中国籍 ("of Chinese nationality")."""
    if i == 0 or i + 1 >= len(pieces):
        return False
    return pieces[i - 1] in CJK_WORDS_BEFORE and pieces[i + 1] in CJK_WORDS_AFTER


@functools.cache
def broader_groups(path: Path = SYNONYMS_PATH) -> dict[str, tuple[str, ...]]:
    """Group name -> the broader groups a case naming it also holds (`broader:` in synonyms.yaml), every step of
    the chain (a narrower group's broader group's broader groups too); names that are no group are left out."""
    data = thesaurus_data(path)
    groups = synonym_table(path)[0]
    direct = {str(name): [str(w) for w in wider or () if str(w) in groups]
              for name, wider in (data.get("broader") or {}).items() if str(name) in groups}
    out: dict[str, tuple[str, ...]] = {}
    for name in direct:
        seen: list[str] = []
        todo = list(direct[name])
        while todo:
            wider = todo.pop(0)
            if wider not in seen and wider != name:
                seen.append(wider)
                todo += direct.get(wider, [])
        out[name] = tuple(seen)
    return out


def document_synonyms(doc) -> list[str]:
    """The canonical tokens of the synonym groups a SearchDocument mentions (in any version and field)."""
    from network.search.documents import FIELD_GROUPS

    found: set[str] = set()
    for version in doc.versions:
        for group in FIELD_GROUPS:
            text = version.text(group)
            if text:
                found |= synonyms_in(tokens(text), version.language)
    groups = synonym_table()[0]
    found |= {wider for name in found for wider in broader_groups().get(name, ())}
    for facet in getattr(doc, "facets", ()):  # the requesting and requested States, whatever the text calls them
        kind, _sep, code = facet.partition(":")
        if kind in ("requesting_state", "requested_state") and state_group(code) in groups:
            found.add(state_group(code))
    return sorted(found)


def group_of(words: tuple[str, ...]) -> str | None:
    """The synonym group a run of typed words spells (folded, or stemmed in any stemmed language), if any."""
    _groups, keys = synonym_table()
    folded = tuple(fold(w) for w in words)
    for spelled in dict.fromkeys((folded, _without_stop_words(folded))):
        for lang in ("raw", *STEMMED_LANGUAGES):
            name = keys[lang].get(stem_words(spelled, lang))
            if name:
                return name
    return None


@functools.cache
def _longest_key() -> int:
    """The most words a thesaurus term has (the synonym table is read once per process, and so is this)."""
    return max((len(key) for key in synonym_table()[1]["raw"]), default=1)


def _alternative(words: tuple[str, ...]) -> Node:
    return Term(words[0]) if len(words) == 1 else Phrase(words)


def _spelled(node: Node) -> tuple[str, ...] | None:
    """The words of a plain term or phrase (what a synonym term is matched against), else None."""
    if isinstance(node, Term) and not node.prefix:
        return (node.word,)
    if isinstance(node, Phrase):
        return node.words
    return None


@functools.cache
def agent_table(path: Path = SYNONYMS_PATH) -> dict[str, tuple[str, ...]]:
    """Stem (under each stemmed language, and folded) of either side of an `agents` pair of synonyms.yaml -> the
    other side's words: the one who does it meets what is done ("smugglers" / "smuggling")."""
    data = thesaurus_data(path)
    table: dict[str, tuple[str, ...]] = {}
    for pair in data.get("agents") or []:
        sides = [tuple(tokens(str(side))) for side in pair]
        if len(sides) != 2 or not all(sides):
            continue
        for this, other in (sides, sides[::-1]):
            if len(this) == 1:
                for lang in ("raw", *STEMMED_LANGUAGES):
                    table.setdefault(stem_words(this, lang)[0], other)
    return table


def agent_alternatives(word: str) -> list[Node]:
    """The other side of an agent pair a typed word spells (in any inflection), as nodes: "poachers" -> poaching."""
    folded = fold(word)
    table = agent_table()
    for lang in ("raw", *STEMMED_LANGUAGES):
        other = table.get(stem_words((folded,), lang)[0])
        if other:
            return [_alternative(other)]
    return []


def _with_synonym(node: Node) -> Node:
    """A term or phrase that spells a synonym term, as (it OR the group's token), and a word of an agent pair with
    the pair's other side too; anything else as it is."""
    words = _spelled(node)
    name = group_of(words) if words else None
    others = agent_alternatives(words[0]) if words and len(words) == 1 else []
    alternatives = (node, *others, *([Synonym(name)] if name else []))
    return Or(alternatives) if len(alternatives) > 1 else node


def _with_parts(phrase: Phrase) -> Node:
    """A hyphenated word that spells no term ("terrorism-related", "anti-money-laundering", "Franco-Italian"), with
    the groups of the terms its parts spell (longest first, stop words left out), as the engines' documents hold
    them: a text is cut into words at its hyphens, so "terrorism-related" in a case is found as "terrorism". The
    groups come first, so the word itself still counts, as a phrase, in matching and ranking
    (without_redundant_phrase leaves out a phrase followed by its own group only)."""
    words = phrase.words
    stop = stop_words()
    found: list[str] = []
    i = 0
    while i < len(words):
        for length in range(min(_longest_key(), len(words) - i - (i == 0)), 0, -1):
            part = words[i:i + length]
            name = None if length == 1 and fold(part[0]) in stop else group_of(part)
            if name:
                found.append(name)
                i += length
                break
        else:
            i += 1
    return Or((*(Synonym(name) for name in dict.fromkeys(found)), phrase)) if found else phrase


@dataclass
class _Clause:
    items: list[Node]  # OR-ed alternatives
    occur: str = "should"  # should (optional, ranked), must (required) or not (excluded)
    start: int = 0  # index of its first typed word
    end: int = 0  # index after its last typed word
    free: bool = True  # typed as bare words (not quoted, not a prefix, no operator): stop words may go
    settled: bool = False  # its synonym groups already found (a CJK run's concepts, _cjk_concepts)

    @property
    def node(self) -> Node:
        return self.items[0] if len(self.items) == 1 else Or(tuple(self.items))


def _run_words(clause: _Clause) -> tuple[str, ...]:
    """The words an optional clause of one bare token adds to a run that may spell a synonym term: a word, or the
    words of a hyphenated token ("non-conviction based forfeiture" spells the term "non-conviction based
    forfeiture"); nothing for anything else. An optional phrase is always a hyphenated token: quotes require."""
    if clause.occur != "should" or len(clause.items) != 1:
        return ()
    item = clause.items[0]
    if isinstance(item, Term):
        return () if item.prefix else (item.word,)
    return item.words if isinstance(item, Phrase) else ()


def _expand(clauses: list[_Clause]) -> list[_Clause]:
    """Runs of bare optional words that spell a synonym term become one clause (those words as a phrase OR the
    group's canonical token), longest match first; a quoted phrase, a required or an excluded word that spells a
    term gets its group's token beside it (synonyms hold inside quotes)."""
    out: list[_Clause] = []
    i = 0
    longest = _longest_key()
    while i < len(clauses):
        matched = False
        for length in range(min(longest, len(clauses) - i), 1, -1):
            run = clauses[i:i + length]
            if not all(_run_words(c) for c in run):
                continue
            words = tuple(w for c in run for w in _run_words(c))
            name = group_of(words)
            if name:  # the words stay optional alternatives too: a case holding some of them still counts
                alternatives = (_alternative(words), Synonym(name),
                                *(Term(w) for w in dict.fromkeys(words) if fold(w) not in stop_words()))
                out.append(_Clause([Or(alternatives)], "should", run[0].start, run[-1].end, free=False))
                i += length
                matched = True
                break
        if matched:
            continue
        clause = clauses[i]
        items = clause.items if clause.settled else [_with_synonym(item) for item in clause.items]
        if clause.occur == "should" and len(items) == 1 and isinstance(items[0], Phrase):
            items = [_with_parts(items[0])]  # a hyphenated word that spells no term: the terms inside it
        out.append(_Clause(items, clause.occur, clause.start, clause.end, clause.free, clause.settled))
        i += 1
    return out


# ---------------------------------------------------------------- stop words

# The words of a question, beside each language's stop words (Snowball's lists): "Has a State refused ...?",
# "¿Qué casos ...?" and "Quels pays ...?" ask about their other words.
QUESTION_WORDS = {
    "en": "how what which who whom whose why when where can could would should may might must shall any anyone "
          "anything some there been is are was were has have had do does did find looking look example examples "
          "whether ever also",
    "fr": "comment quel quelle quels quelles quand pourquoi qui que quoi peut peuvent peut-on existe existent il y a "
          "est-ce ont été cas exemple exemples",
    "es": "como cómo que qué cual cuál cuales cuáles cuando cuándo donde dónde quien quién puede pueden existe "
          "existen hay ha han algún alguna algunos casos ejemplo ejemplos",
    "ru": "как какие какой какая каких когда где почему кто что ли можно есть был была были ли",
    "ar": "من في على إلى الى عن مع هل ما ماذا كيف لماذا متى أين اين التي الذي الذين هذا هذه ذلك تلك أو او و ثم قد "
          "لقد كان كانت يكون أن ان إن لا لم لن هو هي هم كل بعض غير بين عند حتى إذا اذا أي اي تم",
}


# Verbs of a question that name no concept of a case ("what happens if ...", "how do I send ...", "quelles preuves
# obtenir", "¿qué pasa si ...?"): dropped from a query's free text only, never from the documents' analysis nor from
# the thesaurus terms' inner stop words (stop_words()), so the index is unchanged. Only these: on the evaluation
# set's tuning split, dropping more generic words ("used", "without", "another", "helped", "manage", "decided")
# cost questions 0.796 -> 0.775 (Whoosh): "used in another case", "without a treaty" are what a question asks.
GENERIC_WORDS = {
    "en": "happen happens happened send",
    "fr": "passe obtenir",
    "es": "pasa ocurre sucede obtener",
    "ru": "происходит получить",
}


@functools.cache
def query_stop_words() -> frozenset[str]:
    """stop_words() and GENERIC_WORDS: what free text typed as a query leaves out."""
    return stop_words() | {w for text in GENERIC_WORDS.values() for raw in text.split()
                           for w in WORD_RE.findall(fold(raw))}


@functools.cache
def stop_words() -> frozenset[str]:
    """Folded stop words of every analysed language and the words of questions: dropped from free text."""
    from whoosh.lang import has_stopwords, stopwords_for_language

    words: set[str] = set()
    for lang in STEMMED_LANGUAGES:
        if has_stopwords(lang):
            words |= {fold(w) for w in stopwords_for_language(lang)}
    for text in QUESTION_WORDS.values():
        words |= {w for raw in text.split() for w in WORD_RE.findall(fold(raw))}
    words |= set("abcdefghijklmnopqrstuvwxyz")  # what elision and possessives leave: l', d', 's
    return frozenset(words)


def _bare(clause: _Clause) -> str | None:
    """The word of a clause typed as one bare word (it may have gained its synonym group), else None."""
    if not clause.free or len(clause.items) != 1:
        return None
    item = clause.items[0]
    if isinstance(item, Or) and isinstance(item.items[0], Term):
        item = item.items[0]
    return item.word if isinstance(item, Term) else None


def _is_stop(clause: _Clause) -> bool:
    """A bare word that is a stop word, or a hyphenated token of stop words only ("peut-elle", "est-ce")."""
    word = _bare(clause)
    stop = query_stop_words()
    if clause.occur == "should" and word is not None:
        return fold(word) in stop
    item = clause.items[0] if clause.occur == "should" and len(clause.items) == 1 else None
    return isinstance(item, Phrase) and all(fold(w) in stop for w in item.words)


# ---------------------------------------------------------------- parsing

def _words(text: str) -> list[str]:
    return [w[:MAX_WORD_CHARS] for w in WORD_RE.findall(text) if any(ch.isalnum() for ch in w)]


def _node(raw: str, *, phrase: bool) -> list[Node]:
    """The nodes of one typed token: one, or for a long run of CJK characters (a sentence typed without spaces)
    one optional term per bigram. A token of several words ("anti-money", "d'enquête", "18(13)") is a phrase."""
    prefix = not phrase and raw.endswith("*")
    words = _words(raw)
    if not phrase and len(words) > 1 and _APOSTROPHE_RE.search(raw):
        # an elided article or a possessive ("l'extradition", "d'enquête", "victim's") is the word itself
        words = [w for w in words if len(w) > 1 or w.isdigit()] or words
    if not words:
        return []
    if not phrase and len(words) == 1 and CJK_RE.search(words[0]):
        pieces = tokens(words[0])
        if len(words[0]) > MAX_CJK_PHRASE:
            return [Term(piece) for piece in pieces]
        return [Term(pieces[0])] if len(pieces) == 1 else [Phrase(tuple(pieces))]
    if phrase and len(words) == 1 and CJK_RE.search(words[0]) and len(tokens(words[0])) > 1:
        return [Phrase(tuple(tokens(words[0])))]  # a quoted CJK word: its bigrams, in order
    if len(words) == 1:
        return [Term(words[0], prefix=prefix and len(fold(words[0])) >= 2)]
    return [Phrase(tuple(words[:12]))]


def _cjk_concepts(raw: str) -> list[list[Node]]:
    """The concepts of a CJK token typed without spaces ("象牙走私", a whole question): Chinese has no spaces
    between words, so the longest thesaurus terms found in its bigrams are its words, each with its synonym group
    (象牙 -> ivory, 走私 -> smuggling); the bigrams left over are words of their own, a short run (a word of up to
    MAX_CJK_PHRASE characters) as its phrase or any of its bigrams, a longer one bigram by bigram. A bigram that
    straddles a term found and its neighbour is no word and is left out."""
    pieces = tokens(" ".join(_words(raw)))
    if len(pieces) <= 1:
        return [[_with_synonym(Term(pieces[0]))]] if pieces else []
    longest = _longest_key()
    found: dict[int, tuple[int, str]] = {}  # first piece -> (pieces it spans, group)
    i = 0
    while i < len(pieces):
        for length in range(min(longest, len(pieces) - i), 0, -1):
            name = group_of(tuple(pieces[i:i + length]))
            if name and not (length == 1 and name.startswith("state") and cjk_straddled(pieces, i)):
                found[i] = (length, name)
                i += length
                break
        else:
            i += 1

    def bigram(j: int) -> bool:
        return 0 <= j < len(pieces) and len(pieces[j]) == 2 and bool(CJK_RE.fullmatch(pieces[j]))

    covered = {j for start, (length, _name) in found.items() for j in range(start, start + length)}
    straddling = {j for start, (length, _name) in found.items() for j in (start - 1, start + length)
                  if bigram(j) and j not in covered and bigram(start if j < start else start + length - 1)}
    concepts: list[list[Node]] = []
    leftover: list[str] = []

    def flush() -> None:
        if len(leftover) == 1:
            concepts.append([Term(leftover[0])])
        elif 1 < len(leftover) < MAX_CJK_PHRASE:
            concepts.append([Or((Phrase(tuple(leftover)), *(Term(p) for p in dict.fromkeys(leftover))))])
        else:
            concepts.extend([Term(p)] for p in dict.fromkeys(leftover))
        leftover.clear()

    i = 0
    while i < len(pieces):
        if i in found:
            flush()
            length, name = found[i]
            words = tuple(pieces[i:i + length])
            concepts.append([Or((_alternative(words), Synonym(name)))])
            i += length
            continue
        if i in straddling or not CJK_RE.search(pieces[i]):
            flush()
            if not CJK_RE.search(pieces[i]):
                concepts.append([_with_synonym(Term(pieces[i]))])
        else:
            leftover.append(pieces[i])
        i += 1
    flush()
    return concepts


def _clauses(text: str) -> list[_Clause]:
    """The typed clauses, in order, with their occurrence; OR joins neighbours into one clause, AND makes both
    sides required."""
    clauses: list[_Clause] = []
    pending_or = pending_and = pending_not = False
    position = phrases = 0
    for match in _TOKEN_RE.finditer(text):
        word = match.group("word")
        sign = ""
        if word is not None:
            if word in ("OR", "|", "||"):
                pending_or = bool(clauses)
                continue
            if word in ("AND", "&", "&&"):
                if clauses and clauses[-1].occur == "should":
                    clauses[-1].occur = "must"
                pending_and = bool(clauses)
                continue
            if word == "NOT":
                pending_not = True
                continue
            if word[0] in "-!+" and len(word) > 1:
                sign, word = word[0], word[1:]
            nodes = _node(word, phrase=False)
            free = not sign and not pending_not and not pending_and and not pending_or                 and len(nodes) == 1 and isinstance(nodes[0], Term) and not nodes[0].prefix
            occur = "must" if sign == "+" or pending_and else "should"
        else:
            if phrases >= MAX_PHRASES:
                pending_or = pending_and = pending_not = False
                continue
            phrases += 1
            sign = match.group("sign") or ""
            nodes = _node(match.group("phrase"), phrase=True)
            free, occur = False, "must"
        if not nodes:
            continue
        if sign in ("-", "!") or pending_not:
            occur = "not"
        last = clauses[-1] if clauses else None
        if pending_or and last is not None and occur != "not" and last.occur != "not":
            last.items = (last.items + nodes)[:MAX_CLAUSES]  # alternatives beyond these are not a reader's
            last.free = False
            last.end = position + 1
            if occur == "must":
                last.occur = "must"
        elif occur == "should" and not sign and match.group("word") is not None and CJK_RE.search(word):
            # a run of CJK characters typed without spaces: the thesaurus terms inside it, each a concept
            clauses += [_Clause(items, "should", position, position + 1, free=False, settled=True)
                        for items in _cjk_concepts(word)[:MAX_CLAUSES - len(clauses)]]
        else:
            clauses.append(_Clause(list(nodes), occur, position, position + 1, free))
        position += 1
        pending_or = pending_and = pending_not = False
        if len(clauses) >= MAX_CLAUSES:
            break
    return clauses


def parse(text: str, *, synonyms: bool = True) -> Query:
    """The query tree of what a reader typed; never raises."""
    text = (text or "").replace("\x00", " ")[:MAX_QUERY_CHARS]
    clauses = _clauses(text)
    typed = [_bare(c) for c in clauses]
    expanded = _expand(clauses) if synonyms else clauses  # before stop words go: "remise de la personne"
    kept = [c for c in expanded if not _is_stop(c)]
    if not any(c.occur != "not" for c in kept):  # only stop words typed: they are the query
        kept = expanded
    plain = tuple(dict.fromkeys(_bare(c) for c in kept if _bare(c) and c.occur == "should"))
    required = [c.node for c in kept if c.occur == "must"]
    optional = [c.node for c in kept if c.occur == "should"]
    excluded = [Not(c.node) for c in kept if c.occur == "not"]
    positive: Node | None = None
    if required:
        positive = required[0] if len(required) == 1 else And(tuple(required))
    elif optional:
        positive = optional[0] if len(optional) == 1 else Or(tuple(optional))
    items = ([positive] if positive is not None else []) + excluded
    if not items:
        return Query(text, None)
    root = items[0] if len(items) == 1 else And(tuple(items))
    concepts = tuple(c.node for c in kept if c.occur != "not")
    # Closeness: the typed words from one positive single-word concept to the next (stop words between included).
    pairs: list[tuple[str, ...]] = []
    singles = [c for c in kept if c.occur != "not" and c.end - c.start == 1 and _bare(c)]
    for first, second in zip(singles, singles[1:], strict=False):
        span = typed[first.start:second.end]
        if 2 <= len(span) <= 4 and all(span):
            pairs.append(tuple(w for w in span if w))
    return Query(text, root, plain, concepts, tuple(pairs[:MAX_PAIRS]))


def without_quotes(text: str) -> str | None:
    """The typed text with its quoted phrases (not the excluded ones) as bare words, or None when it has none: what
    is searched when a phrase finds nothing (its words, optional, closer together ranked first)."""
    changed = False

    def bare(match: re.Match) -> str:
        nonlocal changed
        if match.group("word") is not None or match.group("sign") in ("-", "!"):
            return match.group(0)
        changed = True
        return " " + " ".join(_words(match.group("phrase"))) + " "

    loose = " ".join(_TOKEN_RE.sub(bare, text).split())
    return loose if changed and loose else None


def without_redundant_phrase(node: Or, ranking: bool) -> tuple[Node, ...]:
    """The alternatives of an OR an engine needs. (Phrase, Synonym, ...) is a phrase spelling a synonym term: every
    document holding the phrase also holds the group's token (the indexer found it with the same analysis), so
    matching needs the token only, and never the phrase's positions; when the phrase's words follow as
    alternatives of their own (typed unquoted), ranking needs them, not the phrase, too."""
    items = node.items
    if len(items) >= 2 and isinstance(items[0], Phrase) and isinstance(items[1], Synonym):
        if not ranking or len(items) > 2:
            return items[1:]
    return items


def positive_terms(node: Node | None) -> tuple[set[str], set[str]]:
    """(words, prefixes) a matching case may contain, folded: what snippets highlight. NOT parts are left out."""
    words: set[str] = set()
    prefixes: set[str] = set()

    def walk(n: Node | None) -> None:
        if n is None or isinstance(n, Not):
            return
        if isinstance(n, Term):
            (prefixes if n.prefix else words).add(fold(n.word))
        elif isinstance(n, Phrase):
            words.update(fold(w) for w in n.words)
        elif isinstance(n, Synonym):
            for term in synonym_table()[0].get(n.group, ()):
                words.update(term)
        else:
            for item in n.items:
                walk(item)

    walk(node)
    return words, prefixes


def only_negative(node: Node) -> bool:
    """True when the query only leaves things out (then it matches every case but those)."""
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(only_negative(item) for item in node.items)
    return False
