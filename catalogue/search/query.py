"""The search box's query language, parsed into a small tree that each backend compiles to its own engine query.

    mutual assistance        both words (AND is the default)
    "joint investigation"    the exact phrase (no synonyms inside quotes)
    bank OR financial        either word (OR binds tighter than AND: a b OR c = a AND (b OR c))
    -extradition, NOT ...    leave out cases with the word or phrase
    extradit*                words starting with extradit
    MLA                      also its synonyms and expansions from synonyms.yaml (one index-time token)

Parsing never fails: unbalanced quotes close at the end, lone operators and punctuation are ignored, and only
word characters (\\w+) ever reach an engine, so no input can break an engine's own query syntax."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from catalogue.search.documents import WORD_RE, fold

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 24
MAX_WORD_CHARS = 60
SYNONYMS_PATH = Path(__file__).resolve().parent / "synonyms.yaml"

_TOKEN_RE = re.compile(r'(?P<neg>[-!])?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')


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
    """A parsed query: its tree (None when nothing searchable was typed) and the words a reader typed
    outside quotes and prefixes (the ones "did you mean" may correct)."""

    text: str
    root: Node | None
    plain_words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.root is not None


# ---------------------------------------------------------------- synonyms
#
# Synonyms are applied at INDEX time: a document holding any term of a group (its words folded and stemmed the
# way the engines stem the text's language, or merely folded) gets the group's one canonical token, in a field of
# its own at keyword weight. A query word or phrase that spells a term of a group becomes (the literal words OR
# that one token), so a query never explodes into every term of the group in every language and field.

STEM_LANGUAGES = ("en", "fr", "es", "ru")


@functools.cache
def _stemmer(lang: str):
    from whoosh.lang import stemmer_for_language

    stem = stemmer_for_language(lang)
    return functools.lru_cache(maxsize=200_000)(stem)


def stem_words(words: tuple[str, ...] | list[str], lang: str) -> tuple[str, ...]:
    """Folded words stemmed with the Snowball stemmer of `lang` ("raw": unchanged)."""
    if lang == "raw":
        return tuple(words)
    stem = _stemmer(lang)
    return tuple(stem(w) for w in words)


def _group_name(terms: tuple[tuple[str, ...], ...]) -> str:
    return "".join(terms[0])[:40]


@functools.cache
def synonym_table(path: Path = SYNONYMS_PATH) -> tuple[dict[str, tuple[tuple[str, ...], ...]],
                                                        dict[str, dict[tuple[str, ...], str]]]:
    """(group name -> its terms as folded word tuples, analysis -> {term words under that analysis: group name}).
    Analyses are "raw" (folded only) and each stemmed language; a term found under two groups keeps the first."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    keys: dict[str, dict[tuple[str, ...], str]] = {lang: {} for lang in ("raw", *STEM_LANGUAGES)}
    for group in data.get("groups") or []:
        terms = tuple(t for t in dict.fromkeys(tuple(WORD_RE.findall(fold(str(t)))) for t in group
                                               if str(t).strip()) if t)
        if not terms:
            continue
        name = _group_name(terms)
        groups[name] = terms
        for lang, table in keys.items():
            for term in terms:
                table.setdefault(stem_words(term, lang), name)
    return groups, keys


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


def synonyms_in(words: list[str], lang: str) -> set[str]:
    """Names of the synonym groups one of whose terms occurs in `words` (folded words of a text in `lang`),
    matched both folded only and, for a stemmed language, stemmed as that language."""
    _groups, keys = synonym_table()
    firsts = _first_words()
    found: set[str] = set()
    for analysis in ("raw", lang) if lang in STEM_LANGUAGES else ("raw",):
        sequence = stem_words(words, analysis)
        table, starts = keys[analysis], firsts[analysis]
        for i, word in enumerate(sequence):
            lengths = starts.get(word)
            if not lengths:
                continue
            for n in lengths:
                name = table.get(sequence[i:i + n]) if n > 1 else table.get((word,))
                if name:
                    found.add(name)
    return found


def document_synonyms(doc) -> list[str]:
    """The canonical tokens of the synonym groups a SearchDocument mentions (in any version and field)."""
    from catalogue.search.documents import FIELD_GROUPS

    found: set[str] = set()
    for version in doc.versions:
        for group in FIELD_GROUPS:
            text = version.text(group)
            if text:
                found |= synonyms_in(WORD_RE.findall(fold(text)), version.language)
    return sorted(found)


def group_of(words: tuple[str, ...]) -> str | None:
    """The synonym group a run of typed words spells (folded, or stemmed in any stemmed language), if any."""
    _groups, keys = synonym_table()
    folded = tuple(fold(w) for w in words)
    for lang in ("raw", *STEM_LANGUAGES):
        name = keys[lang].get(stem_words(folded, lang))
        if name:
            return name
    return None


def _longest_key() -> int:
    return max((len(key) for key in synonym_table()[1]["raw"]), default=1)


def _alternative(words: tuple[str, ...]) -> Node:
    return Term(words[0]) if len(words) == 1 else Phrase(words)


def _expand(groups: list[list[Node]]) -> list[list[Node]]:
    """Replace runs of plain words that spell a synonym term by (those words OR the group's canonical token),
    longest match first."""
    out: list[list[Node]] = []
    i = 0
    while i < len(groups):
        matched = False
        for length in range(min(_longest_key(), len(groups) - i), 0, -1):
            run = groups[i:i + length]
            if not all(len(g) == 1 and isinstance(g[0], Term) and not g[0].prefix for g in run):
                continue
            words = tuple(g[0].word for g in run)
            name = group_of(words)
            if name:
                out.append([Or((_alternative(words), Synonym(name)))])
                i += length
                matched = True
                break
        if matched:
            continue
        group = groups[i]
        if len(group) == 1 and isinstance(group[0], Not) and isinstance(group[0].item, Term) \
                and not group[0].item.prefix:
            name = group_of((group[0].item.word,))
            if name:
                group = [Not(Or((group[0].item, Synonym(name))))]
        out.append(group)
        i += 1
    return out


# ---------------------------------------------------------------- parsing

def _words(text: str) -> list[str]:
    return [w[:MAX_WORD_CHARS] for w in WORD_RE.findall(text) if any(ch.isalnum() for ch in w)]


def _node(raw: str, *, phrase: bool) -> Node | None:
    if phrase:
        words = _words(raw)
        if not words:
            return None
        return Term(words[0]) if len(words) == 1 else Phrase(tuple(words[:12]))
    prefix = raw.endswith("*")
    words = _words(raw)
    if not words:
        return None
    if len(words) == 1:
        return Term(words[0], prefix=prefix and len(fold(words[0])) >= 2)
    return Phrase(tuple(words[:12]))  # "anti-money", "d'enquête", "18(13)": words that belong together


def parse(text: str, *, synonyms: bool = True) -> Query:
    """The query tree of what a reader typed; never raises."""
    text = (text or "").replace("\x00", " ")[:MAX_QUERY_CHARS]
    groups: list[list[Node]] = []  # AND of ORs
    plain: list[str] = []
    pending_or = pending_not = False
    for match in _TOKEN_RE.finditer(text):
        word = match.group("word")
        if word is not None:
            if word in ("OR", "|", "||"):
                pending_or = bool(groups)
                continue
            if word in ("AND", "&", "&&", "+"):
                continue
            if word == "NOT":
                pending_not = True
                continue
            negated = word.startswith(("-", "!")) and len(word) > 1
            node = _node(word[1:] if negated else word, phrase=False)
            if node is not None and isinstance(node, Term) and not node.prefix and not negated and not pending_not:
                plain.append(node.word)
        else:
            negated = bool(match.group("neg"))
            node = _node(match.group("phrase"), phrase=True)
        if node is None:
            continue
        if negated or pending_not:
            node = Not(node)
        last = groups[-1] if groups else None
        if pending_or and last is not None and not isinstance(node, Not) and not isinstance(last[-1], Not):
            last.append(node)
        else:
            groups.append([node])
        pending_or = pending_not = False
        if len(groups) >= MAX_CLAUSES:
            break
    if synonyms:
        groups = _expand(groups)
    items = [group[0] if len(group) == 1 else Or(tuple(group)) for group in groups]
    if not items:
        return Query(text, None)
    root = items[0] if len(items) == 1 else And(tuple(items))
    return Query(text, root, tuple(dict.fromkeys(plain)))


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
