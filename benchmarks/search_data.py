"""Synthetic catalogues for the search benchmark: deterministic, multilingual SearchDocuments built from the
vocabulary's codes and phrase banks in English, French, Spanish and Russian.

Case n of a seed is always the same case, whatever the size asked for (the 1,000-case catalogue is the first
thousand of the 10,000-case one), and nothing here uses the module random: every draw is a hash of (seed, case,
draw number), so the generator needs no state and gives the same text on every machine and Python version."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import TypeVar

from catalogue.cases.demo import REGION_STATES, STATE_NAMES
from network.core.reference import region_of, untoc_article_subjects, vocabulary_labels
from network.search.documents import SearchDocument, Version

T = TypeVar("T")

# Language of a case and how often it occurs (per 100 cases).
LANGUAGE_WEIGHTS = (("en", 55), ("fr", 17), ("es", 17), ("ru", 11))
STATES = tuple(sorted(STATE_NAMES))

RUSSIAN_STATE_NAMES = {
    "NGA": "Нигерия", "KEN": "Кения", "ZAF": "Южная Африка", "SEN": "Сенегал", "MAR": "Марокко", "GHA": "Гана",
    "CIV": "Кот-д'Ивуар", "SOM": "Сомали", "BRA": "Бразилия", "MEX": "Мексика", "COL": "Колумбия", "CAN": "Канада",
    "ARG": "Аргентина", "PER": "Перу", "PHL": "Филиппины", "THA": "Таиланд", "IND": "Индия", "VNM": "Вьетнам",
    "IDN": "Индонезия", "LBN": "Ливан", "ARE": "Объединённые Арабские Эмираты", "AUT": "Австрия", "FRA": "Франция",
    "ITA": "Италия", "ESP": "Испания", "NLD": "Нидерланды", "BEL": "Бельгия", "DEU": "Германия",
    "CHE": "Швейцария", "AUS": "Австралия", "NZL": "Новая Зеландия", "FJI": "Фиджи",
    "PNG": "Папуа — Новая Гвинея", "VUT": "Вануату", "WSM": "Самоа",
}

# Forms of cooperation and crime types in the four languages (English from the vocabulary).
FORMS = {
    "extradition": ("extradition", "extradición", "экстрадиция"),
    "mla": ("entraide judiciaire", "asistencia judicial recíproca", "взаимная правовая помощь"),
    "confiscation": ("coopération aux fins de confiscation", "cooperación a efectos de decomiso",
                     "сотрудничество в целях конфискации"),
    "asset_sharing": ("partage des avoirs confisqués", "reparto de bienes decomisados", "раздел конфискованных активов"),
    "sentenced_persons": ("transfèrement des personnes condamnées", "traslado de personas condenadas",
                          "передача осуждённых лиц"),
    "joint_investigation": ("équipe commune d'enquête", "equipo conjunto de investigación",
                            "совместная следственная группа"),
    "special_techniques": ("techniques d'enquête spéciales", "técnicas especiales de investigación",
                           "специальные методы расследования"),
    "transfer_of_proceedings": ("transmission des poursuites", "remisión de actuaciones penales",
                                "передача уголовного судопроизводства"),
    "videoconference": ("audition par visioconférence", "audiencia por videoconferencia",
                        "допрос с помощью видеоконференции"),
    "spontaneous_information": ("transmission spontanée d'informations", "transmisión espontánea de información",
                                "добровольная передача информации"),
    "law_enforcement": ("coopération entre services de détection et de répression", "cooperación policial",
                        "сотрудничество правоохранительных органов"),
}
CRIMES = {
    "organized_criminal_group": ("participation à un groupe criminel organisé",
                                 "participación en un grupo delictivo organizado",
                                 "участие в организованной преступной группе"),
    "money_laundering": ("blanchiment d'argent", "blanqueo de capitales", "отмывание денег"),
    "corruption": ("corruption", "corrupción", "коррупция"),
    "obstruction_of_justice": ("entrave au bon fonctionnement de la justice", "obstrucción de la justicia",
                               "воспрепятствование осуществлению правосудия"),
    "trafficking_in_persons": ("traite des personnes", "trata de personas", "торговля людьми"),
    "smuggling_of_migrants": ("trafic illicite de migrants", "tráfico ilícito de migrantes",
                              "незаконный ввоз мигрантов"),
    "firearms_trafficking": ("trafic d'armes à feu", "tráfico de armas de fuego", "незаконный оборот оружия"),
    "drug_trafficking": ("trafic de stupéfiants", "tráfico de drogas", "незаконный оборот наркотиков"),
    "cybercrime": ("cybercriminalité", "ciberdelincuencia", "киберпреступность"),
    "fraud": ("escroquerie", "fraude", "мошенничество"),
    "kidnapping": ("enlèvement", "secuestro", "похищение людей"),
    "cultural_property": ("trafic de biens culturels", "tráfico de bienes culturales",
                          "незаконный оборот культурных ценностей"),
    "wildlife_crime": ("criminalité liée aux espèces sauvages", "delitos contra la vida silvestre",
                       "преступления против дикой природы"),
    "falsified_medicines": ("médicaments falsifiés", "medicamentos falsificados", "фальсифицированные лекарства"),
    "piracy": ("piraterie maritime", "piratería marítima", "морское пиратство"),
    "terrorism": ("financement du terrorisme", "financiación del terrorismo", "финансирование терроризма"),
    "other_serious_crime": ("infraction grave", "delito grave", "тяжкое преступление"),
}
# Facts of a case by crime type: what moved, what was sought (English only: the keyword banks).
KEYWORDS = {
    "organized_criminal_group": ("criminal organization", "leadership structure", "wiretaps"),
    "money_laundering": ("bank records", "shell companies", "beneficial ownership", "laundering of proceeds"),
    "corruption": ("bribes", "public procurement", "embezzlement", "politically exposed person"),
    "obstruction_of_justice": ("witness intimidation", "witness protection", "false testimony"),
    "trafficking_in_persons": ("labour exploitation", "victim protection", "sexual exploitation", "recruiters"),
    "smuggling_of_migrants": ("sea crossing", "migrant smuggling", "false documents", "overland route"),
    "firearms_trafficking": ("firearms tracing", "serial numbers", "converted weapons", "ammunition"),
    "drug_trafficking": ("cocaine", "heroin", "controlled delivery", "maritime container", "synthetic drugs"),
    "cybercrime": ("ransomware", "phishing", "electronic evidence", "preservation", "subscriber data"),
    "fraud": ("investment fraud", "money mules", "ponzi scheme", "invoice fraud"),
    "kidnapping": ("kidnapping for ransom", "hostage", "negotiation"),
    "cultural_property": ("looted antiquities", "auction house", "restitution", "provenance"),
    "wildlife_crime": ("ivory", "rhinoceros horn", "pangolin scales", "timber", "DNA analysis"),
    "falsified_medicines": ("falsified vaccines", "online pharmacy", "public health"),
    "piracy": ("piracy", "naval vessel", "boarding team", "hijacked ship"),
    "terrorism": ("terrorist financing", "hawala", "financial intelligence"),
    "other_serious_crime": ("hazardous waste", "environmental crime", "serious crime"),
}
# Crime types that go together, and the forms of cooperation their cases use.
CRIME_PAIRS = {
    "money_laundering": ("fraud", "corruption", "drug_trafficking", "terrorism"),
    "corruption": ("money_laundering",), "drug_trafficking": ("organized_criminal_group", "money_laundering"),
    "trafficking_in_persons": ("organized_criminal_group",), "smuggling_of_migrants": ("organized_criminal_group",),
    "cybercrime": ("fraud",), "fraud": ("money_laundering", "cybercrime"), "wildlife_crime": ("corruption",),
}
FORM_WEIGHTS = (("mla", 40), ("extradition", 20), ("confiscation", 8), ("joint_investigation", 5),
                ("law_enforcement", 6), ("special_techniques", 4), ("transfer_of_proceedings", 4),
                ("videoconference", 4), ("spontaneous_information", 4), ("sentenced_persons", 3),
                ("asset_sharing", 2))
OUTCOME_WEIGHTS = (("granted", 50), ("partially_granted", 20), ("refused", 12), ("withdrawn", 6), ("pending", 12))
BASES = (("untoc",), ("untoc", "bilateral"), ("untoc", "regional"), ("untoc", "protocol"), ("bilateral",),
         ("reciprocity",), ("domestic_law", "reciprocity"), ("regional", "domestic_law"))
ARTICLES = {"extradition": ("16", "16(4)", "16(5)", "16(10)", "16(14)"), "mla": ("18", "18(13)", "18(14)", "18(15)",
            "18(21)", "18(24)"), "confiscation": ("12", "13"), "asset_sharing": ("14",), "sentenced_persons": ("17",),
            "joint_investigation": ("19",), "special_techniques": ("20",), "transfer_of_proceedings": ("21",),
            "videoconference": ("18(18)",), "spontaneous_information": ("18(4)", "18(5)"),
            "law_enforcement": ("27", "28")}
CODE_SYLLABLES = ("ka", "lo", "mi", "ra", "to", "ven", "sa", "dor", "el", "ni", "qu", "ar", "bo", "zen", "lu", "fa")

# ---------------------------------------------------------------- phrase banks
# Slots: {form} {crime} {crime2} {requesting} {requested} {thing} {amount} {months} {article} {operation} {file}

TITLES = {
    "en": ("{form} from {requested} to {requesting} in a case of {crime}",
           "{Thing} sought from {requested} in the {crime} investigation of {requesting}",
           "{form}: {requesting} and {requested} against {crime} (operation {operation})",
           "Request of {requesting} to {requested} on {crime} and {crime2}"),
    "fr": ("{form} de l'État requis ({requested}) vers {requesting} pour {crime}",
           "Demande de {requesting} à {requested} concernant {crime} et {crime2}",
           "{form} : opération {operation} contre {crime}"),
    "es": ("{form} de {requested} a {requesting} por {crime}",
           "Solicitud de {requesting} a {requested} sobre {crime} y {crime2}",
           "{form}: operación {operation} contra {crime}"),
    "ru": ("{form}: запрос {requesting} к {requested} по делу о {crime}",
           "Операция {operation}: {form} в связи с {crime}",
           "Запрос {requesting} в {requested} о {crime} и {crime2}"),
}
SUMMARY = {
    "en": ("Investigators in {requesting} uncovered {crime} involving {thing} and proceeds of about {amount}.",
           "The prosecutor of {requesting} sent a request for {form} to the central authority of {requested} "
           "under article {article} of the Convention.",
           "The suspects used {thing} and moved the money through accounts in {requested}.",
           "The case (file {file}) also concerned {crime2}, which both States criminalize.",
           "The request asked for {thing}, bank records and the testimony of two witnesses.",
           "The central authorities consulted on a draft before the request was sent.",
           "The request was executed {months} months after it was received."),
    "fr": ("Les enquêteurs de {requesting} ont mis au jour des faits de {crime} portant sur {thing} et un produit "
           "d'environ {amount}.",
           "Le procureur a adressé une demande d'{form} à l'autorité centrale de {requested} en application de "
           "l'article {article} de la Convention.",
           "Les suspects ont fait transiter les fonds par des comptes ouverts dans l'État requis.",
           "L'affaire (dossier {file}) portait aussi sur {crime2}, incriminé dans les deux États.",
           "La demande visait la production de relevés bancaires et l'audition de deux témoins.",
           "La demande a été exécutée au bout de {months} mois."),
    "es": ("Los investigadores de {requesting} descubrieron hechos de {crime} relacionados con {thing} y un "
           "producto de unos {amount}.",
           "El fiscal envió una solicitud de {form} a la autoridad central de {requested} conforme al artículo "
           "{article} de la Convención.",
           "Los sospechosos movieron el dinero a través de cuentas abiertas en el Estado requerido.",
           "El caso (expediente {file}) se refería también a {crime2}, tipificado en ambos Estados.",
           "La solicitud pedía registros bancarios y la declaración de dos testigos.",
           "La solicitud se ejecutó {months} meses después de su recepción."),
    "ru": ("Следователи {requesting} выявили {crime}, связанные с {thing}, и доходы около {amount}.",
           "Прокурор направил запрос о {form} в центральный орган {requested} на основании статьи {article} "
           "Конвенции.",
           "Подозреваемые переводили деньги через счета, открытые в запрашиваемом государстве.",
           "Дело (номер {file}) касалось также {crime2}, криминализированного в обоих государствах.",
           "В запросе содержалась просьба о предоставлении банковских документов и допросе двух свидетелей.",
           "Запрос был исполнен через {months} месяцев после получения."),
}
BODY = {
    "en": ("The requested State first asked for more information on the link between the accounts and the facts.",
           "Dual criminality was questioned because the offence was worded differently in the two laws.",
           "Bank secrecy rules required a court order for every account.",
           "The defence argued that the prosecution was political.",
           "A call between the central authorities settled what the court order needed.",
           "The request was split by account with a short statement of relevance for each.",
           "Liaison officers kept a line open day and night during the operation.",
           "Describe the conduct, not only the name of the offence.",
           "Ask for preservation of electronic evidence at once, by the fastest channel.",
           "Consult the requested central authority on a draft before sending it.",
           "Plan victim protection on both sides before the first interview.",
           "Translate the key documents, not the whole file."),
    "fr": ("L'État requis a d'abord demandé des précisions sur le lien entre les comptes et les faits.",
           "La double incrimination a été discutée car l'infraction était définie différemment.",
           "Le secret bancaire exigeait une décision judiciaire pour chaque compte.",
           "Un appel entre les autorités centrales a permis de préciser ce que le juge attendait.",
           "Décrire les faits, et pas seulement la qualification juridique.",
           "Consulter l'autorité centrale requise sur un projet avant l'envoi."),
    "es": ("El Estado requerido pidió primero más información sobre el vínculo entre las cuentas y los hechos.",
           "Se cuestionó la doble incriminación porque el delito se definía de forma distinta.",
           "El secreto bancario exigía una orden judicial para cada cuenta.",
           "Una llamada entre las autoridades centrales aclaró lo que necesitaba el tribunal.",
           "Describir la conducta, no solo la calificación jurídica.",
           "Consultar a la autoridad central requerida sobre un borrador antes del envío."),
    "ru": ("Запрашиваемое государство сначала запросило дополнительную информацию о связи счетов с фактами.",
           "Возник вопрос о двойной криминальности, так как составы преступлений различались.",
           "Банковская тайна требовала судебного решения по каждому счёту.",
           "Звонок между центральными органами прояснил, что требовалось суду.",
           "Описывайте деяние, а не только его юридическую квалификацию.",
           "Согласуйте проект запроса с центральным органом заранее."),
}
THINGS = {
    "en": ("bank records", "shell companies", "cocaine shipments", "falsified invoices", "server logs",
           "cryptocurrency wallets", "real estate", "vessels", "luxury vehicles", "firearms", "antiquities",
           "ivory", "forged passports", "subscriber data", "company registers"),
    "fr": ("relevés bancaires", "sociétés écrans", "cargaisons de cocaïne", "fausses factures", "journaux de serveur",
           "portefeuilles de cryptomonnaie", "biens immobiliers", "navires", "armes à feu", "antiquités"),
    "es": ("registros bancarios", "sociedades pantalla", "cargamentos de cocaína", "facturas falsas",
           "registros de servidores", "monederos de criptomonedas", "bienes inmuebles", "buques", "armas de fuego"),
    "ru": ("банковские документы", "подставные компании", "партии кокаина", "поддельные счета", "журналы серверов",
           "криптовалютные кошельки", "недвижимость", "суда", "огнестрельное оружие"),
}


# ---------------------------------------------------------------- deterministic draws

class Dice:
    """Draws that depend only on a key: the same key gives the same sequence everywhere (no module random)."""

    def __init__(self, *key: object) -> None:
        self._key = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
        self._count = 0

    def number(self) -> int:
        self._count += 1
        return int.from_bytes(hashlib.blake2b(self._key + self._count.to_bytes(4, "big"), digest_size=8).digest(),
                              "big")

    def below(self, n: int) -> int:
        return self.number() % n

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def weighted(self, pairs: Sequence[tuple[T, int]]) -> T:
        draw = self.below(sum(weight for _item, weight in pairs))
        for item, weight in pairs:
            if draw < weight:
                return item
            draw -= weight
        return pairs[-1][0]

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        pool = list(items)
        return [pool.pop(self.below(len(pool))) for _ in range(min(k, len(pool)))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent


# ---------------------------------------------------------------- cases

LANG_INDEX = {"fr": 0, "es": 1, "ru": 2}


def _state_name(code: str, lang: str) -> str:
    if lang == "ru":
        return RUSSIAN_STATE_NAMES[code]
    return STATE_NAMES[code][{"en": 0, "fr": 1, "es": 2}[lang]]


def _label(table: dict, labels: dict[str, str], code: str, lang: str) -> str:
    return labels[code].lower() if lang == "en" else table[code][LANG_INDEX[lang]]


def _operation(dice: Dice) -> str:
    return "".join(dice.choice(CODE_SYLLABLES) for _ in range(2 + dice.below(2))).capitalize()


def _text(dice: Dice, lang: str, slots: dict[str, str]) -> tuple[str, str, str]:
    """(title, summary, body) in `lang`, from the phrase banks."""
    thing = dice.choice(THINGS[lang])
    values = {**slots, "thing": thing, "Thing": thing[:1].upper() + thing[1:]}
    title = dice.choice(TITLES[lang]).format(**values)
    title = title[:1].upper() + title[1:]
    sentences = SUMMARY[lang]
    summary = " ".join(s.format(**values) for s in dice.sample(sentences, 4 + dice.below(len(sentences) - 3)))
    body = " ".join(s.format(**values) for s in dice.sample(BODY[lang], 4 + dice.below(4)))
    return title, summary, body


def synthetic_document(n: int, seed: int = 1) -> SearchDocument:
    """Case number n (1-based) of the synthetic catalogue of `seed`."""
    dice = Dice(seed, n)
    form_labels, crime_labels = vocabulary_labels("cooperation_forms"), vocabulary_labels("crime_types")
    lang = dice.weighted(LANGUAGE_WEIGHTS)
    forms = [dice.weighted(FORM_WEIGHTS)]
    if dice.chance(30):
        forms.append(dice.choice([f for f in FORMS if f not in forms]))
    crime = dice.choice(tuple(CRIMES))
    crimes = [crime]
    if crime in CRIME_PAIRS and dice.chance(60):
        crimes.append(dice.choice(CRIME_PAIRS[crime]))
    crime2 = crimes[1] if len(crimes) > 1 else dice.choice([c for c in CRIMES if c != crime])
    region = dice.choice(tuple(REGION_STATES))
    requesting = dice.choice(STATES)
    requested = dice.choice([s for s in REGION_STATES[region] if s != requesting] or [s for s in STATES
                                                                                    if s != requesting])
    bases = dice.choice(BASES)
    provisions = sorted({p for f in forms for p in dice.sample(ARTICLES[f], 2)}) if "untoc" in bases else []
    outcome = dice.weighted(OUTCOME_WEIGHTS)
    filed = date(2005, 1, 1) + timedelta(days=dice.below(20 * 365))
    months = 1 + dice.below(30)
    subjects = untoc_article_subjects()

    def slots(code_lang: str) -> dict[str, str]:
        return {
            "form": _label(FORMS, form_labels, forms[0], code_lang),
            "crime": _label(CRIMES, crime_labels, crime, code_lang),
            "crime2": _label(CRIMES, crime_labels, crime2, code_lang),
            "requesting": _state_name(requesting, code_lang), "requested": _state_name(requested, code_lang),
            "amount": f"{1 + dice.below(900)},{dice.below(10)}00,000 USD", "months": str(months),
            "article": provisions[0] if provisions else "18", "operation": _operation(dice),
            "file": f"{filed.year}/{n:06d}",
        }

    title, summary, body = _text(dice, lang, slots(lang))
    keywords = dice.sample(KEYWORDS[crime], 2) + dice.sample(KEYWORDS[crime2], 1)
    if provisions and dice.chance(50):
        keywords.append(subjects.get(provisions[0], ""))
    versions = [Version(lang, title=title, keywords="\n".join(k for k in keywords if k), summary=summary, body=body)]
    if lang != "en" and dice.chance(60):  # an English translation of the title and summary
        en_title, en_summary, _body = _text(dice, "en", slots("en"))
        versions.append(Version("en", title=en_title, summary=en_summary))
    status = "published" if dice.chance(92) else dice.choice(("draft", "submitted", "in_review"))
    facets = {f"cooperation_form:{f}" for f in forms} | {f"crime_type:{c}" for c in crimes}
    facets |= {f"legal_basis:{b}" for b in bases} | {f"outcome:{outcome}", f"language:{lang}"}
    facets |= {f"provision:{p}" for p in provisions} | {f"provision:{p.split('(')[0]}" for p in provisions}
    for kind, state in (("requesting_state", requesting), ("requested_state", requested)):
        facets |= {f"{kind}:{state}", f"region:{region_of(state)}"}
    return SearchDocument(
        id=n, status=status, visibility="members" if dice.chance(33) else "public",
        submitter_id=1 + dice.below(max(1, n // 10 + 1)), reviewer_id=None if status == "draft" else 1,
        when=filed, year=filed.year, facets=sorted(facets), versions=versions,
    )


def synthetic_catalogue(size: int, seed: int = 1) -> Iterator[SearchDocument]:
    """The first `size` cases of the synthetic catalogue of `seed`, generated as they are consumed."""
    for n in range(1, size + 1):
        yield synthetic_document(n, seed)
