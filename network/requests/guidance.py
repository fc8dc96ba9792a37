"""The requested State beside the drafter: what the directory says about the competent authority for this form of
cooperation, the catalogue's precedents for that State and form, and the requirements that can be checked against
the draft.

The competent authority is the finder's answer (network/directory/finder.py), never a query of its own, so the
drafting steps, the finder page and the API always name the same authority. Precedents come through a provider
the catalogue registers at app creation (catalogue/cases/request_precedents.py): the network never imports the
catalogue, and without a provider the panel simply has none.

Checkable requirements are those the directory entry states in a form a program can compare with the draft:
accepted languages and channels (lists), the urgent procedure and 24/7 availability, whether the Convention is
accepted as legal basis (a yes/no), and certification or authentication of documents, which entries state in their
legal and procedural requirements text (found by the words listed in CERTIFICATION_WORDS and
AUTHENTICATION_WORDS; the sentence that states it is shown with the check, so the practitioner reads the entry's
own words). A requirement the entry does not state is not checked."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app, has_app_context, url_for
from flask_babel import gettext as _
from markupsafe import Markup

EXTENSION = "requests_guidance"
MAX_PRECEDENTS = 5


# ---------------------------------------------------------------- what the panel shows

@dataclass(frozen=True)
class PanelAuthority:
    """One authority as the panel shows it: plain values read from the directory entry."""

    key: str
    name: str
    parent_body: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    link: str = ""  # its directory page
    designations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    urgent_requests: str = ""
    available_24_7: bool = False
    accepts_untoc_as_legal_basis: bool | None = None
    time_zone: str = ""
    office_hours: str = ""
    legal_requirements: str = ""  # Markdown, as the entry holds it
    national_laws: tuple[tuple[str, str], ...] = ()  # (title, url)
    treaties: tuple[str, ...] = ()
    last_verified: date | None = None
    stale: bool = False


@dataclass(frozen=True)
class Precedent:
    """A published catalogue case for this State and form, as the provider gives it (the reader may see it)."""

    reference: str
    title: str
    link: str
    year: int | None = None
    outcome: str = ""
    obstacles: str = ""
    solutions: str = ""


@dataclass(frozen=True)
class StatePanel:
    """The requested State beside the drafter. `authority` is the one to address: the first competent authority
    (the finder's order: reachable 24/7 first when urgent), else the finder's first suggestion, else None."""

    state: str
    state_name: str
    form: str
    article: str = ""  # the Convention's provision on the form ("UNTOC art. 18")
    note: str = ""  # the finder's note on the form (drug cases, no designation, ...)
    found: bool = False  # a competent authority is designated for this form
    suggestion_kind: str = ""  # when not found: "mla_central", "other" or "none" (the finder's)
    authority: PanelAuthority | None = None
    competent: tuple[PanelAuthority, ...] = ()
    alternatives: tuple[PanelAuthority, ...] = ()
    suggestions: tuple[PanelAuthority, ...] = ()
    precedents: tuple[Precedent, ...] = ()

    # The addressed authority's facts, flattened for templates and checks.
    @property
    def languages(self) -> tuple[str, ...]:
        return self.authority.languages if self.authority else ()

    @property
    def channels(self) -> tuple[str, ...]:
        return self.authority.channels if self.authority else ()

    @property
    def urgent_procedure(self) -> str:
        return self.authority.urgent_requests if self.authority else ""

    @property
    def available_24_7(self) -> bool:
        return bool(self.authority and self.authority.available_24_7)

    @property
    def accepts_convention(self) -> bool | None:
        return self.authority.accepts_untoc_as_legal_basis if self.authority else None

    @property
    def requirements(self) -> str:
        return self.authority.legal_requirements if self.authority else ""

    @property
    def language_labels(self) -> list[str]:
        return [language_name(code) for code in self.languages]

    @property
    def channel_labels(self) -> list[str]:
        return [channel_name(code) for code in self.channels]

    @property
    def form_label(self) -> str:
        from network.core.labels import label

        return label("cooperation_forms", self.form)

    @property
    def requirements_html(self) -> Markup:
        from network.core.markdown import render_markdown

        return render_markdown(self.requirements)


# ---------------------------------------------------------------- precedents: the catalogue's hook

PrecedentsProvider = Callable[[str, str, object], list]


def register_precedents_provider(app: Flask, provider: PrecedentsProvider) -> None:
    """provider(state, form, viewer) -> [Precedent]: published cases for the requested State and form that the viewer
    may read (the catalogue applies its own visibility filter). Registered by the catalogue at app creation."""
    app.extensions.setdefault(EXTENSION, {})["precedents"] = provider


def precedents_provider() -> PrecedentsProvider | None:
    if not has_app_context():
        return None
    return current_app.extensions.get(EXTENSION, {}).get("precedents")


def _precedents(state: str, form: str, viewer) -> tuple[Precedent, ...]:
    provider = precedents_provider()
    if provider is None:
        return ()
    found = []
    for item in provider(state, form, viewer) or ():
        if isinstance(item, Mapping):
            item = Precedent(**{key: item.get(key) for key in Precedent.__dataclass_fields__ if key in item})
        found.append(item)
    return tuple(found[:MAX_PRECEDENTS])


# ---------------------------------------------------------------- the panel

def _panel_authority(authority) -> PanelAuthority:
    from network.directory.services import is_stale

    try:
        link = url_for("directory.authority", key=authority.key)
    except RuntimeError:  # outside a request (a command or a test without one): no link
        link = ""
    return PanelAuthority(
        key=authority.key, name=authority.name, parent_body=authority.parent_body or "",
        address=authority.address or "", phone=authority.phone or "", email=authority.email or "",
        website=authority.website or "", link=link, designations=tuple(authority.designations),
        languages=tuple(authority.languages or ()), channels=tuple(authority.channels or ()),
        urgent_requests=authority.urgent_requests or "", available_24_7=bool(authority.available_24_7),
        accepts_untoc_as_legal_basis=authority.accepts_untoc_as_legal_basis, time_zone=authority.time_zone or "",
        office_hours=authority.office_hours or "", legal_requirements=authority.legal_requirements or "",
        national_laws=tuple((law.get("title", ""), law.get("url", "")) for law in authority.national_laws or ()),
        treaties=tuple(authority.treaties or ()), last_verified=authority.last_verified, stale=is_stale(authority))


def requested_state_panel(state: str, form: str, viewer, urgent: bool = False) -> StatePanel:
    """The requested State's competent authority for the form (the finder's answer), its languages, channels,
    urgent procedure, 24/7 availability, legal and procedural requirements and position on the Convention as legal
    basis, and the precedents the viewer may read. An unknown State or form gives a panel with no authority."""
    from network.directory.finder import FinderError, find_competent
    from network.directory.states import get_state

    code = (state or "").strip().upper()
    known = get_state(code)
    name = known.name if known else code
    precedents = _precedents(code, form, viewer)
    try:
        answer = find_competent(code, form, urgent)
    except FinderError:
        return StatePanel(state=code, state_name=name, form=form, suggestion_kind="none", precedents=precedents)
    competent = tuple(_panel_authority(a) for a in answer.competent)
    suggestions = tuple(_panel_authority(a) for a in answer.suggestions)
    addressed = competent[0] if competent else (suggestions[0] if suggestions else None)
    return StatePanel(
        state=code, state_name=name, form=form, article=answer.route.article, note=str(answer.route.note or ""),
        found=answer.found, suggestion_kind=answer.suggestion_kind, authority=addressed, competent=competent,
        alternatives=tuple(_panel_authority(a) for a in answer.alternatives), suggestions=suggestions,
        precedents=precedents)


# ---------------------------------------------------------------- checkable requirements

@dataclass(frozen=True)
class DraftFacts:
    """What the checks compare with the directory entry. None: the draft does not say (yet)."""

    language: str  # the document's language (BCP 47: "fr", "ar")
    channel: str = ""  # how the formal original travels (direct, diplomatic, interpol, network)
    urgent: bool = False
    form: str = ""
    certified: bool | None = None  # documents (and translations) certified as true copies
    authenticated: bool | None = None  # documents authenticated, legalised or apostilled
    relies_on_convention: bool | None = None  # the Convention is the (only) legal basis invoked


@dataclass(frozen=True)
class RequirementCheck:
    code: str  # language, channel, certification, authentication, urgent, legal_basis
    ok: bool
    message: str  # translated, for the drafter
    detail: str = ""  # the entry's own words, where the requirement comes from free text


# Stems in the languages entries are written in; matched case-insensitively within a sentence.
CERTIFICATION_WORDS = ("certified", "certification", "true copy", "sworn transl", "certifié", "certifiée",
                       "copie conforme", "certificad", "copia auténtica", "заверен", "مصدق", "مصدّق", "认证", "核证")
AUTHENTICATION_WORDS = ("authenticat", "legalis", "legaliz", "apostil", "légalis", "legalizad", "autenticad",
                        "апостил", "легализ", "توثيق", "تصديق", "公证", "认证书")
_NEGATIONS = re.compile(r"\b(not|no|without|nor|pas|ni|sans|aucun|aucune|sin|ningún|ninguna|ninguno|не|без|لا|ليس|دون|بدون)\b|不需|无需|无须|不必|不要求",
                        re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?;。])\s+|\n+")


def _stated(text: str, words: tuple[str, ...]) -> str:
    """The first sentence of the entry's requirements that asks for what the words name (a sentence that says it
    is *not* required, "a sworn translator is not required", does not count), or ""."""
    for sentence in _SENTENCES.split(text or ""):
        lowered = sentence.lower()
        if any(word in lowered for word in words):
            clauses = re.split(r"[;,]", lowered)
            if any(any(w in clause for w in words) and not _NEGATIONS.search(clause) for clause in clauses):
                return " ".join(sentence.replace("*", "").split())
    return ""


def _base(language: str) -> str:
    return (language or "").lower().split("-")[0].split("_")[0]


def language_name(code: str) -> str:
    """A language's name in the interface language (CLDR), else the code."""
    from babel import Locale
    from flask_babel import get_locale

    try:
        locale = get_locale() if has_app_context() else None
        return (locale or Locale("en")).languages.get(_base(code)) or code
    except Exception:  # noqa: BLE001 (an unknown code or locale: show the code)
        return code


def channel_name(code: str) -> str:
    from network.core.labels import label

    return label("channels", code)


def checkable_requirements(panel: StatePanel, draft: DraftFacts) -> list[RequirementCheck]:
    """Each requirement the addressed authority's entry states checkably, compared with the draft, in a fixed
    order: language, channel, urgent procedure, legal basis, certification, authentication."""
    authority = panel.authority
    if authority is None:
        return []
    checks: list[RequirementCheck] = []
    accepted = [code for code in authority.languages if code]
    if accepted:
        names = ", ".join(language_name(code) for code in accepted)
        if _base(draft.language) in {_base(code) for code in accepted}:
            checks.append(RequirementCheck("language", True, _(
                "The document is in %(language)s, a language the requested authority accepts (%(accepted)s).",
                language=language_name(draft.language), accepted=names)))
        else:
            checks.append(RequirementCheck("language", False, _(
                "The document is in %(language)s, but the requested authority accepts requests in %(accepted)s "
                "only (article 18 (14)). Produce the document in one of them, or attach a translation.",
                language=language_name(draft.language), accepted=names)))
    if authority.channels:
        names = ", ".join(channel_name(code) for code in authority.channels)
        if not draft.channel:
            checks.append(RequirementCheck("channel", False, _(
                "Choose how the formal original will travel: the requested authority accepts %(accepted)s.",
                accepted=names)))
        elif draft.channel in authority.channels:
            checks.append(RequirementCheck("channel", True, _(
                "The requested authority accepts requests through this channel (%(channel)s).",
                channel=channel_name(draft.channel))))
        else:
            checks.append(RequirementCheck("channel", False, _(
                "The requested authority does not accept requests through %(channel)s; it accepts %(accepted)s.",
                channel=channel_name(draft.channel), accepted=names)))
    if draft.urgent:
        if authority.urgent_requests or authority.available_24_7:
            message = (_("Urgent: the requested authority is reachable 24/7.") if authority.available_24_7 else
                       _("Urgent: follow the requested authority's urgent procedure."))
            checks.append(RequirementCheck("urgent", True, message, authority.urgent_requests))
        else:
            checks.append(RequirementCheck("urgent", False, _(
                "The request is urgent, but the directory entry states no urgent procedure and no 24/7 "
                "availability: telephone the authority before relying on an advance copy.")))
    if authority.accepts_untoc_as_legal_basis is False and draft.relies_on_convention:
        checks.append(RequirementCheck("legal_basis", False, _(
            "The requested State does not take the Convention as the legal basis for this cooperation: cite a "
            "treaty in force between the two States, or offer reciprocity.")))
    elif authority.accepts_untoc_as_legal_basis is True and draft.relies_on_convention:
        checks.append(RequirementCheck("legal_basis", True, _(
            "The requested State takes the Convention as legal basis.")))
    for code, words, flag, asked, done in (
            ("certification", CERTIFICATION_WORDS, draft.certified,
             _("The requested authority asks for certified documents or translations: confirm that they will be "
               "certified."),
             _("The documents will be certified, as the requested authority asks.")),
            ("authentication", AUTHENTICATION_WORDS, draft.authenticated,
             _("The requested authority asks for authenticated (legalised or apostilled) documents: confirm that "
               "they will be."),
             _("The documents will be authenticated, as the requested authority asks."))):
        sentence = _stated(authority.legal_requirements, words)
        if sentence:
            checks.append(RequirementCheck(code, bool(flag), done if flag else asked, sentence))
    return checks
