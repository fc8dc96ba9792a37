"""The forms of request as data: for each form its measures, its short steps, and for each step the fields with plain
guidance and the article behind them, and which of them are essential (named before the drafter moves on).

Kept as data so that a practitioner reviewing the guidance reads one file, and so that the step checks, the views and
the document (H5's network/requests/document.py) agree on one list of field keys."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

# When a field is essential: always, never, or on a condition of the draft.
ALWAYS, OPTIONAL = "always", "optional"
IF_URGENT, IF_CONFIDENTIAL, IF_LIMITED = "if_urgent", "if_confidential", "if_limited"
MAX_FIELD = 20000  # characters in one field: a long statement of facts fits, a pasted file does not


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: object  # a lazy string
    guidance: object
    article: str  # the provision behind the field, as the Convention numbers it ("18 (15) (a)")
    rows: int = 4


@dataclass(frozen=True)
class StepDef:
    key: str
    title: object
    fields: tuple[tuple[str, str], ...]  # (field key, when essential)
    measure: str | None = None  # shown only when this measure is chosen
    intro: object = ""


@dataclass(frozen=True)
class MeasureDef:
    code: str
    label: object
    article: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormDef:
    code: str
    label: object
    article: str
    steps: tuple[StepDef, ...]
    measures: tuple[MeasureDef, ...] = ()
    options: tuple[MeasureDef, ...] = field(default=())  # extradition: provisional arrest


FIELDS: dict[str, FieldDef] = {f.key: f for f in (
    FieldDef("requesting_authority", _l("Requesting authority"), _l(
        "The authority making the request: its name, address, telephone and e-mail, and the officer who can answer "
        "questions about it."), "18 (15) (a)", 3),
    FieldDef("proceeding_authority", _l("Authority conducting the proceeding"), _l(
        "The prosecutor, court or investigating authority in charge of the investigation, prosecution or proceeding "
        "to which the request relates."), "18 (15) (b)", 2),
    FieldDef("subject_matter", _l("Subject matter and nature of the proceeding"), _l(
        "What the proceeding is about and at which stage it is (investigation, prosecution, trial, enforcement)."),
        "18 (15) (b)", 3),
    FieldDef("facts", _l("Summary of the relevant facts"), _l(
        "What happened, when and where, and the link between the facts and the assistance sought. Describe the "
        "conduct, not only its legal label: the requested State checks dual criminality against the conduct."),
        "18 (15) (c)", 8),
    FieldDef("offences", _l("Offences and applicable law"), _l(
        "The offences, the text of the provisions that define them and the penalties they carry."),
        "18 (15) (c)", 5),
    FieldDef("assistance_sought", _l("Assistance sought"), _l(
        "Exactly what you ask the requested State to do, in the order you need it done."), "18 (15) (c)", 5),
    FieldDef("procedure", _l("Particular procedure to be followed"), _l(
        "Any procedure the requesting State wishes followed (presence of its officials, an oath, a certificate of "
        "authenticity) and why it is needed for the evidence to be admissible."), "18 (15) (d), 18 (17)", 3),
    FieldDef("persons", _l("Persons concerned"), _l(
        "Where possible, the identity, location and nationality of any person concerned, and their role "
        "(suspect, witness, holder of records)."), "18 (15) (e)", 4),
    FieldDef("purpose", _l("Purpose of the request"), _l(
        "The purpose for which the evidence, information or action is sought."), "18 (15) (f)", 3),
    FieldDef("urgency", _l("Reasons for urgency"), _l(
        "Why the request is urgent and the date by which execution is needed (a trial date, a custody time limit, "
        "data about to be deleted)."), "18 (14)", 3),
    FieldDef("confidentiality", _l("Confidentiality"), _l(
        "What must be kept confidential and why; the requested State tells you promptly if it cannot comply."),
        "18 (20)", 3),
    FieldDef("limitation_on_use", _l("Limitation on use"), _l(
        "The proceedings for which the information or evidence will be used; any other use needs the requested "
        "State's prior consent."), "18 (19)", 3),
    FieldDef("legal_basis", _l("Legal basis"), _l(
        "The Convention (article 18 or 16), and any bilateral or regional treaty that applies between the two "
        "States."), "18 (6), 18 (7), 16 (4)", 2),
    FieldDef("evidence_questions", _l("Evidence to be taken and questions to be asked"), _l(
        "The witnesses or experts, the questions to put to each, and the documents or objects to be produced."),
        "18 (3) (a)", 6),
    FieldDef("videoconference_details", _l("Hearing by videoconference"), _l(
        "Who is to be heard, why their presence in the requesting State is not possible or desirable, the judicial "
        "authority conducting the hearing and the technical contact."), "18 (18)", 4),
    FieldDef("documents_to_serve", _l("Documents to be served"), _l(
        "The documents, the person to be served and their address, and any proof of service required."),
        "18 (3) (b)", 4),
    FieldDef("search_places_items", _l("Places to be searched and items to be seized"), _l(
        "The premises, the items or data sought, and the grounds to believe they are there."), "18 (3) (c)", 4),
    FieldDef("financial_details", _l("Bank and financial records"), _l(
        "The bank, the account holder, account numbers if known, the period and the records sought."),
        "18 (3) (f), 18 (8)", 4),
    FieldDef("electronic_data_details", _l("Stored electronic data"), _l(
        "The service provider, the account or identifier, the data to be preserved and produced, and the period."),
        "18 (3) (c), 18 (3) (f)", 4),
    FieldDef("property_details", _l("Proceeds and property"), _l(
        "The proceeds or property to be identified, traced, frozen or seized, where they are and their estimated "
        "value."), "13, 18 (3) (g)", 4),
    FieldDef("detained_person_details", _l("Detained person to be transferred"), _l(
        "Who the detained person is, where they are held, the purpose and length of the transfer, and whether they "
        "consent."), "18 (10)-(12)", 4),
    FieldDef("person_sought", _l("Person sought"), _l(
        "Name, date of birth, nationality, description (photograph, fingerprints if available) and probable "
        "location of the person sought."), "16", 4),
    FieldDef("warrant_or_judgment", _l("Warrant or judgment"), _l(
        "The arrest warrant or the enforceable judgment: the issuing authority, its date and reference."),
        "16", 3),
    FieldDef("penalty_and_limitation", _l("Penalty and limitation period"), _l(
        "The penalty the offence carries (or the sentence left to serve) and why prosecution or enforcement is not "
        "time-barred."), "16 (1), 16 (7)", 3),
    FieldDef("provisional_arrest_grounds", _l("Grounds for provisional arrest"), _l(
        "Why provisional arrest is urgent pending the extradition request, and the undertaking to send the "
        "request in time."), "16 (9)", 3),
    FieldDef("assurances", _l("Assurances"), _l(
        "Any assurance the requesting State gives (speciality, the death penalty not carried out, a retrial)."),
        "16 (10)-(14)", 3),
    FieldDef("confiscation_order", _l("Confiscation order"), _l(
        "The order to be enforced (or the request for an order): the court, date, reference and whether it is "
        "final."), "13 (1), 13 (3)", 3),
    FieldDef("requested_measure", _l("Measure requested"), _l(
        "Whether the requested State is asked to give effect to the order, to obtain its own order, or to identify, "
        "trace and freeze first."), "13 (1), 13 (2)", 3),
    FieldDef("sentenced_person", _l("Sentenced person"), _l(
        "Identity, nationality and place of detention of the sentenced person."), "17", 3),
    FieldDef("sentence_details", _l("Sentence"), _l(
        "The judgment, the sentence, the part already served and the part left to serve."), "17", 3),
    FieldDef("consent", _l("Consent of the sentenced person"), _l(
        "Whether the person consents to the transfer, and how the consent was recorded."), "17", 2),
    FieldDef("proceedings_file", _l("File of the proceedings"), _l(
        "The file to be transferred: the evidence gathered, the decisions taken, and the stage reached."),
        "21", 4),
    FieldDef("reasons_for_transfer", _l("Reasons for the transfer"), _l(
        "Why the proper administration of justice is better served by proceedings in the requested State "
        "(several jurisdictions, the accused's residence, the evidence)."), "21", 3),
    FieldDef("signatory", _l("Signatory"), _l(
        "The name and title of the person who will sign the request."), "18 (14)", 1),
)}

MLA_MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef("evidence", _l("Taking evidence or statements"), "18 (3) (a)", ("evidence_questions",)),
    MeasureDef("videoconference", _l("Hearing by videoconference"), "18 (18)", ("videoconference_details",)),
    MeasureDef("service", _l("Service of judicial documents"), "18 (3) (b)", ("documents_to_serve",)),
    MeasureDef("search_seizure", _l("Search and seizure"), "18 (3) (c)", ("search_places_items",)),
    MeasureDef("financial_records", _l("Bank and financial records"), "18 (3) (f)", ("financial_details",)),
    MeasureDef("electronic_data", _l("Expedited preservation and production of stored electronic data"),
               "18 (3)", ("electronic_data_details",)),
    MeasureDef("proceeds", _l("Identifying, tracing, freezing or seizing proceeds"), "18 (3) (g), 13",
               ("property_details",)),
    MeasureDef("detained_transfer", _l("Temporary transfer of a detained person"), "18 (10)-(12)",
               ("detained_person_details",)),
    MeasureDef("other", _l("Any other assistance"), "18 (3) (i)"),
)
EXTRADITION_OPTIONS = (MeasureDef("provisional_arrest", _l("Provisional arrest pending the extradition request"),
                                  "16 (9)", ("provisional_arrest_grounds",)),)

_AUTHORITIES = StepDef("authorities", _l("The authorities"), (
    ("requesting_authority", ALWAYS), ("proceeding_authority", ALWAYS)),
    intro=_l("Who asks, and who conducts the proceeding the request serves."))
_HANDLING = StepDef("handling", _l("Handling, legal basis and signature"), (
    ("urgency", IF_URGENT), ("confidentiality", IF_CONFIDENTIAL), ("limitation_on_use", IF_LIMITED),
    ("legal_basis", ALWAYS), ("signatory", ALWAYS)),
    intro=_l("How the requested State is to handle the request, on which basis it is made, and who signs it."))

FORMS: dict[str, FormDef] = {form.code: form for form in (
    FormDef("mla", _l("Mutual legal assistance"), "18", (
        _AUTHORITIES,
        StepDef("case", _l("The case"), (("subject_matter", ALWAYS), ("facts", ALWAYS), ("offences", ALWAYS))),
        StepDef("assistance", _l("The assistance sought"), (
            ("assistance_sought", ALWAYS), ("purpose", ALWAYS), ("persons", OPTIONAL), ("procedure", OPTIONAL))),
        *(StepDef(f"measure_{m.code}", m.label, tuple((key, ALWAYS) for key in m.fields), measure=m.code)
          for m in MLA_MEASURES if m.fields),
        _HANDLING,
    ), measures=MLA_MEASURES),
    FormDef("extradition", _l("Extradition"), "16", (
        _AUTHORITIES,
        StepDef("person", _l("The person sought"), (("person_sought", ALWAYS),)),
        StepDef("case", _l("The case"), (
            ("facts", ALWAYS), ("offences", ALWAYS), ("warrant_or_judgment", ALWAYS),
            ("penalty_and_limitation", ALWAYS))),
        StepDef("measure_provisional_arrest", _l("Provisional arrest"), (("provisional_arrest_grounds", ALWAYS),),
                measure="provisional_arrest"),
        StepDef("assurances", _l("Assurances"), (("assurances", OPTIONAL),)),
        _HANDLING,
    ), options=EXTRADITION_OPTIONS),
    FormDef("confiscation", _l("Enforcement of a confiscation order"), "13", (
        _AUTHORITIES,
        StepDef("case", _l("The case"), (("facts", ALWAYS), ("offences", ALWAYS))),
        StepDef("order", _l("The order and the property"), (
            ("confiscation_order", ALWAYS), ("property_details", ALWAYS), ("requested_measure", ALWAYS))),
        _HANDLING,
    )),
    FormDef("sentenced_persons", _l("Transfer of a sentenced person"), "17", (
        _AUTHORITIES,
        StepDef("person", _l("The sentenced person"), (
            ("sentenced_person", ALWAYS), ("sentence_details", ALWAYS), ("consent", ALWAYS))),
        StepDef("case", _l("The case"), (("facts", ALWAYS), ("offences", ALWAYS))),
        _HANDLING,
    )),
    FormDef("transfer_of_proceedings", _l("Transfer of criminal proceedings"), "21", (
        _AUTHORITIES,
        StepDef("case", _l("The case"), (("subject_matter", ALWAYS), ("facts", ALWAYS), ("offences", ALWAYS))),
        StepDef("proceedings", _l("The proceedings to transfer"), (
            ("proceedings_file", ALWAYS), ("reasons_for_transfer", ALWAYS))),
        _HANDLING,
    )),
)}


@dataclass(frozen=True)
class DraftFlags:
    """What decides which steps show and which fields are essential: the form, its measures and the flags."""

    form: str
    measures: tuple[str, ...] = ()
    urgent: bool = False
    confidential: bool = False
    limited_use: bool = False


def form_def(code: str) -> FormDef:
    return FORMS[code]


def measure_choices(code: str) -> tuple[MeasureDef, ...]:
    form = FORMS[code]
    return form.measures or form.options


def valid_measures(code: str, measures: Iterable[str]) -> tuple[str, ...]:
    """The measures in the form's own order; an unknown code raises ValueError (never silently dropped)."""
    known = [m.code for m in measure_choices(code)]
    chosen = set(measures)
    unknown = chosen - set(known)
    if unknown:
        raise ValueError(f"unknown measures for {code}: {sorted(unknown)}")
    return tuple(m for m in known if m in chosen)


def steps_for(flags: DraftFlags) -> list[StepDef]:
    """The steps this draft walks through: measure steps only for the measures chosen."""
    return [s for s in FORMS[flags.form].steps if s.measure is None or s.measure in flags.measures]


def step_for(flags: DraftFlags, key: str) -> StepDef | None:
    return next((s for s in steps_for(flags) if s.key == key), None)


def is_essential(rule: str, flags: DraftFlags) -> bool:
    return {ALWAYS: True, OPTIONAL: False, IF_URGENT: flags.urgent, IF_CONFIDENTIAL: flags.confidential,
            IF_LIMITED: flags.limited_use}[rule]


def missing_essentials(step: StepDef, flags: DraftFlags, values: Mapping[str, str]) -> list[str]:
    """The keys of the step's essential fields left empty, in the step's order."""
    return [key for key, rule in step.fields if is_essential(rule, flags) and not (values.get(key) or "").strip()]


def all_missing(flags: DraftFlags, values: Mapping[str, str]) -> dict[str, list[str]]:
    """Step key -> the essentials still missing there, for every step of the draft (empty steps left out)."""
    found = {}
    for step in steps_for(flags):
        missing = missing_essentials(step, flags, values)
        if missing:
            found[step.key] = missing
    return found


def field_keys(flags: DraftFlags) -> list[str]:
    """Every field of the draft's steps, in order (what the document's sections are made of)."""
    return [key for step in steps_for(flags) for key, _rule in step.fields]


def label(key: str) -> str:
    found = FIELDS.get(key)
    return str(found.label) if found else key.replace("_", " ").capitalize()


def measure_label(form: str, code: str) -> str:
    found = next((m for m in measure_choices(form) if m.code == code), None) if form in FORMS else None
    return str(found.label) if found else code.replace("_", " ")
