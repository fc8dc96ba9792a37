"""States for the directory: every ISO 3166-1 entry, with its UN M49 region and its UN regional group.

States are reference data, not rows: they change only with the standard, every deployment holds the same list,
and nothing on the platform edits them (docs/decisions/0004-directory.md)."""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import pycountry
from flask_babel import lazy_gettext as _l

from network.core.labels import label, reader_language, state_label
from network.core.reference import collation_key, is_state, un_state_name

GROUPS_PATH = Path(__file__).resolve().parent.parent / "reference" / "un_regional_groups.csv"
REGIONS_PATH = Path(__file__).resolve().parent.parent / "reference" / "regions.csv"

# The five regional groups of Member States at the United Nations, in the order the UN lists them.
REGIONAL_GROUPS = {
    "african": _l("African States"),
    "asia_pacific": _l("Asia-Pacific States"),
    "eastern_european": _l("Eastern European States"),
    "latin_american_caribbean": _l("Latin American and Caribbean States"),
    "western_european_others": _l("Western European and other States"),
}
NO_GROUP = "none"  # territories and non-members: listed under their M49 region only


@dataclass(frozen=True)
class State:
    code: str  # ISO 3166-1 alpha-3
    alpha_2: str
    iso_name: str  # ISO 3166-1 common name, in English: shown only for a code the UN's lists do not have
    region: str  # UN M49 region code: africa, americas, asia, europe, oceania ("" if none)
    subregion: str
    regional_group: str  # a REGIONAL_GROUPS key, or NO_GROUP

    @property
    def name(self) -> str:
        """The UN's short name of the State ("Viet Nam"), or the M49 name of a territory, in the page's language."""
        found = state_label(self.code)
        return found if found != self.code else self.iso_name

    @property
    def is_state(self) -> bool:
        """One of the 193 Member States or 2 observer States (what State pickers offer), not a territory."""
        return is_state(self.code)

    @property
    def region_label(self) -> str:
        return label("regions", self.region)

    @property
    def group_label(self) -> str:
        if self.regional_group in REGIONAL_GROUPS:
            return label("regional_groups", self.regional_group)
        return str(_l("Not in a UN regional group"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@functools.cache
def all_states() -> dict[str, State]:
    """Code -> State (every ISO 3166-1 entry, territories too: an authority's place), in ISO name order; lists
    shown to a reader are sorted by the reader's names (network.core.labels.sorted_by_name)."""
    regions = {row["state"]: (row["region"].lower(), row["subregion"]) for row in _read_csv(REGIONS_PATH)}
    groups = {row["state"]: row["group"] for row in _read_csv(GROUPS_PATH)}
    entries = []
    for country in pycountry.countries:
        region, subregion = regions.get(country.alpha_3, ("", ""))
        entries.append(State(code=country.alpha_3, alpha_2=country.alpha_2,
                             iso_name=getattr(country, "common_name", None) or country.name,
                             region=region, subregion=subregion,
                             regional_group=groups.get(country.alpha_3, NO_GROUP)))
    return {state.code: state for state in sorted(entries, key=lambda state: state.iso_name)}


def get_state(code: str) -> State | None:
    return all_states().get((code or "").upper())


@functools.cache
def _names(language: str) -> dict[str, str]:
    return {code: name if (name := un_state_name(code, language)) != code else state.iso_name
            for code, state in all_states().items()}


@functools.cache
def _by_name(language: str) -> tuple[str, ...]:
    names = _names(language)
    return tuple(sorted(names, key=lambda code: collation_key(names[code], language)))


@functools.cache
def _order(language: str) -> dict[str, int]:
    return {code: n for n, code in enumerate(_by_name(language))}


def state_names() -> dict[str, str]:
    """Code -> `State.name` of every State in the reader's language. A list page asks once, not once per State
    (each `State.name` finds the page's language again); the table is built once per process and language."""
    return _names(reader_language())


def codes_by_name() -> tuple[str, ...]:
    """The code of every State (territories too), in the reader's order of State names."""
    return _by_name(reader_language())


@functools.cache
def state_codes() -> frozenset[str]:
    """The codes of the Member and observer States (`State.is_state`), not of territories."""
    return frozenset(code for code in all_states() if is_state(code))


def name_order() -> dict[str, int]:
    """Code -> place of every State in the reader's order of State names (network.core.labels.sorted_by_name's):
    what sorts a list by State name without a collation key per State and request."""
    return _order(reader_language())


def states_in_group(group: str) -> list[State]:
    return [state for state in all_states().values() if state.regional_group == group]
