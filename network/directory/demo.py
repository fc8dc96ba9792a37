"""Demonstration directory (`flask --app app demo load`): a FICTIONAL directory of competent national authorities.

Every entry is invented for demonstration: names follow the way such offices are usually called, but addresses,
telephone numbers (555 numbers), e-mail addresses and websites are on reserved example domains, and each entry says
it is fictional. The entries go through the import service (validation, versions with source "demo"), and the
authorities that network/members/demo.py creates with a name only (AUT-MOJ, NGA-CA, ...) are completed by key,
keeping their e-mail domains, so the demo accounts of those authorities still match them.

Verification dates are counted back from the day of loading, so the demo always shows current and stale entries;
loading again changes nothing, also on a later day (an entry that differs only by that date is left alone)."""
from __future__ import annotations

from datetime import timedelta

from network.core.clock import utcnow
from network.directory import interchange, services

SOURCE = "demo"
FICTIONAL = "*Fictional entry for demonstration: not an official designation, contact or summary of law.*"

# ---------------------------------------------------------------- legal and procedural requirements (Markdown)

_REFUSAL = {
    "civil": "- the request concerns a political offence or would prejudice sovereignty, security or *ordre public*;\n"
             "- there are substantial grounds to believe it was made to prosecute a person on account of sex, race, "
             "religion, nationality, ethnic origin or political opinions.\n",
    "common": "- the request would prejudice sovereignty, security or other essential interests (UNTOC art. 18 (21));\n"
              "- the conduct would not be an offence here *and* the measure sought is coercive (dual criminality "
              "is not required for non-coercive assistance).\n",
}


def _mla(languages: str, untoc: bool, legal_system: str = "civil", extra: str = "", urgent: str = "") -> str:
    basis = ("The Convention is accepted as the legal basis for assistance where no treaty applies (UNTOC art. 18 "
             "(7)); cite article 18 expressly." if untoc else
             "Assistance without a treaty is given on reciprocity: the request must contain an assurance of "
             "reciprocity signed by the requesting central authority.")
    return f"""{FICTIONAL}

## Mutual legal assistance

{basis}

### A request must state
1. the authority making the request and the investigation, prosecution or proceedings it concerns;
2. a summary of the facts, the offences and the **text of the provisions** that define and punish them;
3. the assistance sought, with the persons, accounts or premises concerned identified as closely as possible;
4. any procedure to be followed (e.g. a witness heard under oath, in the presence of the requesting authority);
5. any confidentiality required (UNTOC art. 18 (20)) and the time limit within which execution is desired.
{extra}
### Languages
Requests and supporting documents in {languages}. A translation certified by the requesting authority is
accepted; a sworn translator is not required.

### Grounds for refusal
{_REFUSAL[legal_system]}
### Urgent requests
{urgent or "An advance copy by e-mail is acted upon at once; the original follows through the usual channel."}
"""


def _extradition(languages: str, untoc: bool, nationals: bool, extra: str = "") -> str:
    basis = ("The Convention is taken as the legal basis for extradition with States Parties with which no treaty "
             "is in force (UNTOC art. 16 (4))." if untoc else
             "Extradition requires a treaty: the Convention is **not** taken as the legal basis (notification under "
             "UNTOC art. 16 (5)). Requests from States without a treaty are refused.")
    own = ("Nationals may be extradited, on condition that they are returned to serve any sentence here "
           "(UNTOC art. 16 (11))." if nationals else
           "Nationals are not extradited: at the request of the requesting State the case is submitted to our "
           "prosecution without undue delay (*aut dedere aut judicare*, UNTOC art. 16 (10)).")
    return f"""{FICTIONAL}

## Extradition

{basis}

### Documents required
- the warrant of arrest or the judgment, in the original or a certified copy;
- a statement of the facts, with the time, place and degree of participation of the person sought;
- the text of the provisions creating the offence and the penalty, and those on limitation;
- a description of the person sought, with a photograph and fingerprints where available.
{extra}
### Nationals
{own}

### Provisional arrest
A request for provisional arrest through INTERPOL or by e-mail is accepted in urgent cases; the formal request
must follow within **60 days**.

Requests and documents in {languages}.
"""


def _sea(instrument: str, languages: str) -> str:
    if instrument == "SOM":
        subject = ("requests under article 8 of the Protocol against the Smuggling of Migrants by Land, Sea and Air "
                   "to confirm the registry of a vessel and to board and search it")
        care = ("- boarding is authorised for the vessel named and the measures stated, nothing more;\n"
                "- the safety and humane treatment of the persons on board come first (Protocol art. 9 (1)).\n")
    else:
        subject = ("requests under article 17 of the 1988 Convention to confirm the registry of a vessel suspected of "
                   "illicit traffic and to board, search and take measures")
        care = ("- the authorisation names the vessel, the measures permitted and any conditions;\n"
                "- the results of any measure taken are reported to us promptly (1988 Convention art. 17 (4)).\n")
    return f"""{FICTIONAL}

## Requests concerning vessels

This authority answers {subject}. It is staffed **24 hours a day**.

### Send
- the vessel's name, registration number, flag claimed, position, course and speed;
- the grounds for suspicion;
- the measures sought, and the requesting State's point of contact reachable at any hour.

### Conditions
{care}
Requests by telephone are confirmed in writing (e-mail) within the hour, in {languages}.
"""


def _firearms(languages: str) -> str:
    return f"""{FICTIONAL}

## Firearms: national point of contact

Single point of contact under article 13 (2) of the Firearms Protocol, for:

- **tracing** requests on firearms, their parts and components and ammunition (send markings, calibre, make,
  model and photographs of the markings);
- verification of import and export licences and transit authorisations (Protocol art. 10);
- exchange of information on authorised manufacturers, dealers, importers and exporters.

Tracing requests are answered within **30 days**; urgent cases within 72 hours. Requests in {languages}.
"""


def _drugs(languages: str) -> str:
    return f"""{FICTIONAL}

## Drug trafficking cases (1988 Convention)

Central authority for mutual legal assistance under article 7 (8) of the 1988 Convention. Requests concerning
offences established under article 3 (1) of that Convention are sent here directly, not to the general central
authority.

### Particular points
- controlled deliveries (art. 11) are agreed case by case, through the liaison officers of the national
  narcotics service;
- confiscated proceeds may be shared with the requesting State by agreement (art. 5 (5) (b)).

Requests in {languages}.
"""


# ---------------------------------------------------------------- the entries

def _laws(domain: str, *titles: str) -> list[dict]:
    return [{"title": f"{title} (fictional)", "url": f"https://laws.{domain}/{n}"} for n, title in enumerate(titles, 1)]


MLA_ACT = "Mutual Legal Assistance in Criminal Matters Act"
EXTRADITION_ACT = "Extradition Act"
PROCEEDS_ACT = "Proceeds of Crime Act"
CPC = "Code of Criminal Procedure"
FIREARMS_ACT = "Firearms and Ammunition Act"
DRUGS_ACT = "Narcotic Drugs and Psychotropic Substances Act"
MARITIME_ACT = "Maritime Zones and Enforcement Act"

EU_MLA = ["European Convention on Mutual Assistance in Criminal Matters (1959) and its Protocols",
          "European Convention on Extradition (1957) and its Protocols"]
EU_ARREST = ["Between European Union member States: the European Arrest Warrant and the European Investigation Order "
             "replace extradition and most mutual legal assistance"]
ECOWAS = ["ECOWAS Convention on Mutual Assistance in Criminal Matters (1992)", "ECOWAS Convention on Extradition (1994)"]
HARARE = ["Scheme relating to Mutual Assistance in Criminal Matters within the Commonwealth (Harare Scheme)"]
INTER_AMERICAN = ["Inter-American Convention on Mutual Assistance in Criminal Matters (1992)",
                  "Inter-American Convention on Extradition (1981)"]
ASEAN = ["Treaty on Mutual Legal Assistance in Criminal Matters among ASEAN Member States (2004)"]
ARAB = ["Riyadh Arab Agreement for Judicial Cooperation (1983)"]
SADC = ["SADC Protocol on Mutual Legal Assistance in Criminal Matters (2002)", "SADC Protocol on Extradition (2002)"]

# Each entry in the interchange format, with `verified_days_ago` (None: never verified) instead of last_verified.
ENTRIES: list[dict] = [
    # ------------------------------------------------ African States
    {
        "key": "NGA-CA", "state": "NGA", "name": "Central Authority Unit, Federal Ministry of Justice",
        "parent_body": "Federal Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation"],
        "address": "Central Authority Unit, 5 Example Crescent, Maitama, Abuja (fictional address)",
        "phone": "+234 9 555 0100", "email": "central.authority@justice.example.ng",
        "email_domains": ["justice.example.ng"], "website": "https://www.justice.example.ng/central-authority",
        "languages": ["en"], "channels": ["direct", "diplomatic", "network"], "accepts_untoc_as_legal_basis": True,
        "urgent_requests": "Send an advance copy by e-mail to the duty officer; INTERPOL Abuja for provisional "
                           "arrest.",
        "time_zone": "Africa/Lagos", "office_hours": "Mon-Fri 08:00-16:00",
        "legal_requirements": _mla("English", True, "common",
                                   "6. for restraint of assets, the order of the requesting court and an undertaking "
                                   "to seek confiscation.\n"),
        "national_laws": _laws("ng.example", MLA_ACT, EXTRADITION_ACT, "Proceeds of Crime (Recovery and Management) "
                               "Act"),
        "treaties": ECOWAS + HARARE, "verified_days_ago": 40,
    },
    {
        "key": "NGA-NDLEA", "state": "NGA", "name": "Directorate of Legal Services, National Drug Law Enforcement Agency",
        "parent_body": "National Drug Law Enforcement Agency (fictional entry)",
        "designations": ["drugs_mla_central", "drugs_extradition"],
        "address": "12 Example Way, Ikoyi, Lagos (fictional address)", "phone": "+234 1 555 0177",
        "email": "legal@ndlea.ng.example", "email_domains": ["ndlea.ng.example"],
        "languages": ["en"], "channels": ["direct", "interpol"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Lagos", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _drugs("English"), "national_laws": _laws("ng.example", DRUGS_ACT),
        "treaties": ECOWAS, "verified_days_ago": 500,
    },
    {
        "key": "KEN-ODPP", "state": "KEN", "name": "Office of the Director of Public Prosecutions, Mutual Legal "
                                                  "Assistance Division",
        "parent_body": "Office of the Director of Public Prosecutions (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_confiscation"],
        "address": "ODPP House, 1 Example Road, Upper Hill, Nairobi (fictional address)", "phone": "+254 20 555 0142",
        "email": "mla@odpp.ke.example", "email_domains": ["odpp.ke.example"], "website": "https://www.odpp.ke.example",
        "languages": ["en", "sw"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Africa/Nairobi", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("English or Kiswahili", True, "common"),
        "national_laws": _laws("ke.example", "Mutual Legal Assistance Act", "Proceeds of Crime and Anti-Money "
                               "Laundering Act"),
        "treaties": HARARE + ["Agreement on cooperation in criminal matters within the East African Community "
                              "(fictional)"],
        "verified_days_ago": 95,
    },
    {
        "key": "KEN-AG", "state": "KEN", "name": "Office of the Attorney General, International Law Division",
        "parent_body": "Office of the Attorney General and Department of Justice (fictional entry)",
        "designations": ["untoc_extradition", "untoc_sentenced_persons"],
        "address": "Sheria House, Example Avenue, Nairobi (fictional address)", "phone": "+254 20 555 0199",
        "email": "extradition@ag.ke.example", "email_domains": ["ag.ke.example"],
        "languages": ["en"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Nairobi", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _extradition("English", True, True),
        "national_laws": _laws("ke.example", "Extradition (Commonwealth Countries) Act", "Extradition (Contiguous "
                               "and Foreign Countries) Act"),
        "treaties": ["London Scheme for Extradition within the Commonwealth"], "verified_days_ago": 120,
    },
    {
        "key": "KEN-NFP", "state": "KEN", "name": "Kenya National Focal Point on Small Arms and Light Weapons",
        "parent_body": "Ministry of Interior (fictional entry)", "designations": ["firearms_contact"],
        "address": "Example House, Harambee Avenue, Nairobi (fictional address)", "phone": "+254 20 555 0160",
        "email": "tracing@nfp.ke.example", "email_domains": ["nfp.ke.example"],
        "languages": ["en", "sw"], "channels": ["direct", "interpol"], "time_zone": "Africa/Nairobi",
        "office_hours": "Mon-Fri 08:00-17:00", "legal_requirements": _firearms("English or Kiswahili"),
        "national_laws": _laws("ke.example", FIREARMS_ACT), "verified_days_ago": 210,
    },
    {
        "key": "ZAF-DOJ", "state": "ZAF", "name": "Directorate International Legal Relations, Department of Justice "
                                                 "and Constitutional Development",
        "parent_body": "Department of Justice and Constitutional Development (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "Momentum Example Building, 329 Example Street, Pretoria (fictional address)",
        "phone": "+27 12 555 0134", "email": "ilr@justice.za.example", "email_domains": ["justice.za.example"],
        "website": "https://www.justice.za.example/ilr",
        "languages": ["en", "af", "zu"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Africa/Johannesburg",
        "office_hours": "Mon-Fri 07:30-16:00",
        "legal_requirements": _mla("English (requests in other languages with an English translation)", True,
                                   "common"),
        "national_laws": _laws("za.example", "International Co-operation in Criminal Matters Act",
                               EXTRADITION_ACT, "Prevention of Organised Crime Act"),
        "treaties": SADC + HARARE, "verified_days_ago": 30,
    },
    {
        "key": "ZAF-CFR", "state": "ZAF", "name": "Central Firearms Register, South African Police Service",
        "parent_body": "South African Police Service (fictional entry)", "designations": ["firearms_contact"],
        "address": "Example Park, Pretoria (fictional address)", "phone": "+27 12 555 0188",
        "email": "tracing@cfr.za.example", "email_domains": ["cfr.za.example"],
        "languages": ["en"], "channels": ["direct", "interpol"], "available_24_7": True,
        "time_zone": "Africa/Johannesburg", "office_hours": "Mon-Fri 07:30-16:00",
        "urgent_requests": "Urgent tracing through the INTERPOL NCB Pretoria, at any hour.",
        "legal_requirements": _firearms("English"), "national_laws": _laws("za.example", "Firearms Control Act"),
        "verified_days_ago": 60,
    },
    {
        "key": "SEN-DACG", "state": "SEN", "name": "Direction des affaires criminelles et des grâces",
        "parent_body": "Ministère de la Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "Building administratif, avenue de l'Exemple, Dakar (fictional address)",
        "phone": "+221 33 555 01 20", "email": "entraide@justice.sn.example", "email_domains": ["justice.sn.example"],
        "languages": ["fr"], "channels": ["diplomatic", "direct"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Dakar", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("French", True, "civil"),
        "national_laws": _laws("sn.example", CPC + " (book on international judicial cooperation)"),
        "treaties": ECOWAS + ["Convention générale de coopération en matière de justice (fictional bilateral)"],
        "verified_days_ago": 420,
    },
    {
        "key": "MAR-DAPG", "state": "MAR", "name": "Direction des affaires pénales et des grâces, Service de l'entraide "
                                                  "judiciaire",
        "parent_body": "Ministère de la Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "drugs_mla_central"],
        "address": "Place de l'Exemple, Rabat (fictional address)", "phone": "+212 537 555 010",
        "email": "entraide@justice.ma.example", "email_domains": ["justice.ma.example"],
        "languages": ["ar", "fr"], "channels": ["diplomatic", "direct"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Casablanca", "office_hours": "Mon-Fri 08:30-16:30",
        "legal_requirements": _mla("Arabic or French", True, "civil"),
        "national_laws": _laws("ma.example", CPC), "treaties": ARAB, "verified_days_ago": 150,
    },
    {
        "key": "MAR-MRCC", "state": "MAR", "name": "Maritime Rescue and Coordination Centre, Royal Navy",
        "parent_body": "Royal Armed Forces (fictional entry)", "designations": ["som_sea", "drugs_sea"],
        "address": "Naval Base, Example Quay, Casablanca (fictional address)", "phone": "+212 522 555 099",
        "email": "ops@mrcc.ma.example", "email_domains": ["mrcc.ma.example"],
        "languages": ["ar", "fr", "en"], "channels": ["direct"], "available_24_7": True,
        "time_zone": "Africa/Casablanca", "office_hours": "Mon-Sun 00:00-24:00",
        "legal_requirements": _sea("SOM", "Arabic, French or English"), "verified_days_ago": 75,
    },
    {
        "key": "EGY-IC", "state": "EGY", "name": "International Cooperation Department, Office of the Public Prosecutor",
        "parent_body": "Office of the Public Prosecutor (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "Example Street, New Cairo (fictional address)", "phone": "+20 2 555 0111",
        "email": "ic@pp.eg.example", "email_domains": ["pp.eg.example"],
        "languages": ["ar", "en"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Cairo", "office_hours": "Sun-Thu 09:00-15:00",
        "legal_requirements": _mla("Arabic (or English with an Arabic translation)", True, "civil"),
        "national_laws": _laws("eg.example", CPC), "treaties": ARAB, "verified_days_ago": 180,
    },
    {
        "key": "GHA-AG", "state": "GHA", "name": "Office of the Attorney-General, Mutual Legal Assistance Unit",
        "parent_body": "Office of the Attorney-General and Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "Example Ridge, Accra (fictional address)", "phone": "+233 30 555 0125",
        "email": "mla@mojag.gh.example", "email_domains": ["mojag.gh.example"],
        "languages": ["en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Africa/Accra", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("gh.example", "Mutual Legal Assistance Act", EXTRADITION_ACT),
        "treaties": ECOWAS + HARARE, "verified_days_ago": None,  # never verified
    },
    # ------------------------------------------------ Asia-Pacific States
    {
        "key": "PHL-DOJ", "state": "PHL", "name": "Department of Justice, Office of the Chief State Counsel",
        "parent_body": "Department of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "DOJ Example Building, Padre Faura Street, Manila (fictional address)",
        "phone": "+63 2 555 0140", "email": "ocsc@doj.example.ph", "email_domains": ["doj.example.ph"],
        "website": "https://www.doj.example.ph/ocsc",
        "languages": ["en", "fil"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Asia/Manila", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("ph.example", "Anti-Trafficking in Persons Act", "Anti-Money Laundering Act"),
        "treaties": ASEAN, "verified_days_ago": 20,
    },
    {
        "key": "PHL-PCG", "state": "PHL", "name": "Philippine Coast Guard, Maritime Law Enforcement Command",
        "parent_body": "Department of Transportation (fictional entry)", "designations": ["som_sea", "drugs_sea"],
        "address": "Coast Guard Example Station, Port Area, Manila (fictional address)", "phone": "+63 2 555 0166",
        "email": "ops@pcg.ph.example", "email_domains": ["pcg.ph.example"],
        "languages": ["en", "fil"], "channels": ["direct"], "available_24_7": True, "time_zone": "Asia/Manila",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("DRUGS1988", "English"),
        "national_laws": _laws("ph.example", MARITIME_ACT), "verified_days_ago": 45,
    },
    {
        "key": "IND-MHA", "state": "IND", "name": "Legal Cell (Internal Security Division), Ministry of Home Affairs",
        "parent_body": "Ministry of Home Affairs (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_sentenced_persons"],
        "address": "Example Bhawan, New Delhi (fictional address)", "phone": "+91 11 555 0123",
        "email": "mla@mha.in.example", "email_domains": ["mha.in.example"],
        "languages": ["en", "hi"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Kolkata", "office_hours": "Mon-Fri 09:30-18:00",
        "legal_requirements": _mla("English or Hindi", True, "common",
                                   "6. letters rogatory from a court where the evidence is to be taken by a court "
                                   "here.\n"),
        "national_laws": _laws("in.example", CPC + " (chapter on reciprocal arrangements)"),
        "treaties": ["Bilateral mutual legal assistance treaties with more than forty States (fictional list)"],
        "verified_days_ago": 250,
    },
    {
        "key": "IND-CPV", "state": "IND", "name": "Consular, Passport and Visa Division (Extradition), Ministry of "
                                                 "External Affairs",
        "parent_body": "Ministry of External Affairs (fictional entry)",
        "designations": ["untoc_extradition", "drugs_extradition"],
        "address": "Example Bhawan, Janpath, New Delhi (fictional address)", "phone": "+91 11 555 0155",
        "email": "extradition@mea.in.example", "email_domains": ["mea.in.example"],
        "languages": ["en"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Kolkata", "office_hours": "Mon-Fri 09:00-17:30",
        "legal_requirements": _extradition("English", True, True),
        "national_laws": _laws("in.example", EXTRADITION_ACT), "verified_days_ago": 390,
    },
    {
        "key": "IND-NCB", "state": "IND", "name": "Narcotics Control Bureau, International Cooperation Cell",
        "parent_body": "Ministry of Home Affairs (fictional entry)", "designations": ["drugs_mla_central"],
        "address": "Example Complex, R.K. Puram, New Delhi (fictional address)", "phone": "+91 11 555 0170",
        "email": "intl@ncb.in.example", "email_domains": ["ncb.in.example"],
        "languages": ["en", "hi"], "channels": ["direct", "interpol"], "time_zone": "Asia/Kolkata",
        "office_hours": "Mon-Fri 09:30-18:00", "legal_requirements": _drugs("English or Hindi"),
        "national_laws": _laws("in.example", DRUGS_ACT), "verified_days_ago": 100,
    },
    {
        "key": "THA-OAG", "state": "THA", "name": "International Affairs Department, Office of the Attorney General",
        "parent_body": "Office of the Attorney General (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "Example Government Complex, Chaeng Watthana Road, Bangkok (fictional address)",
        "phone": "+66 2 555 0181", "email": "inter@ago.th.example", "email_domains": ["ago.th.example"],
        "languages": ["th", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Bangkok", "office_hours": "Mon-Fri 08:30-16:30",
        "legal_requirements": _mla("Thai or English", True, "civil"),
        "national_laws": _laws("th.example", "Act on Mutual Assistance in Criminal Matters", EXTRADITION_ACT),
        "treaties": ASEAN, "verified_days_ago": 70,
    },
    {
        "key": "THA-ONCB", "state": "THA", "name": "Office of the Narcotics Control Board, Foreign Affairs Bureau",
        "parent_body": "Ministry of Justice (fictional entry)", "designations": ["drugs_mla_central", "drugs_sea"],
        "address": "Example Road, Din Daeng, Bangkok (fictional address)", "phone": "+66 2 555 0190",
        "email": "foreign@oncb.th.example", "email_domains": ["oncb.th.example"],
        "languages": ["th", "en"], "channels": ["direct", "interpol"], "available_24_7": True,
        "time_zone": "Asia/Bangkok", "office_hours": "Mon-Fri 08:30-16:30",
        "urgent_requests": "The ONCB operations room answers at any hour: +66 2 555 0199.",
        "legal_requirements": _drugs("Thai or English"), "national_laws": _laws("th.example", "Narcotics Code"),
        "verified_days_ago": 35,
    },
    {
        "key": "IDN-MOL", "state": "IDN", "name": "Directorate of International Law and Central Authority, Ministry "
                                                 "of Law",
        "parent_body": "Ministry of Law (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "Jalan Contoh 6-7, Kuningan, Jakarta (fictional address)", "phone": "+62 21 555 0127",
        "email": "central.authority@law.id.example", "email_domains": ["law.id.example"],
        "languages": ["id", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": False,
        "time_zone": "Asia/Jakarta", "office_hours": "Mon-Fri 08:00-16:00",
        "legal_requirements": _mla("Indonesian or English", False, "civil"),
        "national_laws": _laws("id.example", "Law on Mutual Assistance in Criminal Matters", "Law on Extradition"),
        "treaties": ASEAN, "verified_days_ago": 130,
    },
    {
        "key": "JPN-MOJ", "state": "JPN", "name": "International Affairs Division, Criminal Affairs Bureau, Ministry "
                                                 "of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_sentenced_persons", "drugs_mla_central"],
        "address": "1-1-1 Example, Chiyoda-ku, Tokyo (fictional address)", "phone": "+81 3 555 0115",
        "email": "intl-criminal@moj.jp.example", "email_domains": ["moj.jp.example"],
        "languages": ["ja", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Tokyo", "office_hours": "Mon-Fri 09:30-18:15",
        "legal_requirements": _mla("Japanese (English accepted with a Japanese translation)", True, "civil"),
        "national_laws": _laws("jp.example", "Act on International Assistance in Investigation",
                               "Act on Transnational Transfer of Sentenced Persons"),
        "treaties": ["Bilateral treaties on mutual legal assistance in criminal matters (fictional list)",
                     "Convention on the Transfer of Sentenced Persons (1983)"],
        "verified_days_ago": 15,
    },
    {
        "key": "ARE-MOJ", "state": "ARE", "name": "International Cooperation Department, Ministry of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation"],
        "address": "Example Street, Abu Dhabi (fictional address)", "phone": "+971 2 555 0133",
        "email": "icd@moj.ae.example", "email_domains": ["moj.ae.example"],
        "languages": ["ar", "en"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "available_24_7": True, "time_zone": "Asia/Dubai",
        "office_hours": "Mon-Thu 07:30-15:30, Fri 07:30-12:00",
        "urgent_requests": "Urgent requests by e-mail at any hour; a duty officer confirms receipt within two hours.",
        "legal_requirements": _mla("Arabic or English", True, "civil"),
        "national_laws": _laws("ae.example", "Federal Law on International Judicial Cooperation in Criminal Matters"),
        "treaties": ARAB, "verified_days_ago": 10,
    },
    {
        "key": "VNM-SPP", "state": "VNM", "name": "Department of International Cooperation and Mutual Legal Assistance "
                                                 "in Criminal Matters, Supreme People's Procuracy",
        "parent_body": "Supreme People's Procuracy (fictional entry)", "designations": ["untoc_mla_central"],
        "address": "Example Street, Hoan Kiem, Ha Noi (fictional address)", "phone": "+84 24 555 0126",
        "email": "htqt@vksndtc.vn.example", "email_domains": ["vksndtc.vn.example"],
        "languages": ["vi", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Ho_Chi_Minh", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("Vietnamese, or English with a Vietnamese translation", True, "civil"),
        "national_laws": _laws("vn.example", "Law on Mutual Legal Assistance"), "treaties": ASEAN,
        "verified_days_ago": 560,
    },
    {
        "key": "FJI-ODPP", "state": "FJI", "name": "Office of the Director of Public Prosecutions, Central Authority",
        "parent_body": "Office of the Director of Public Prosecutions (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "Example House, Victoria Parade, Suva (fictional address)", "phone": "+679 555 0105",
        "email": "mla@odpp.fj.example", "email_domains": ["odpp.fj.example"],
        "languages": ["en"], "channels": ["direct", "diplomatic", "network"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Pacific/Fiji", "office_hours": "Mon-Thu 08:00-16:30, Fri 08:00-16:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("fj.example", "Mutual Assistance in Criminal Matters Act", "Proceeds of Crime Act"),
        "treaties": HARARE + ["Pacific Islands Law Officers' Network arrangements (fictional)"],
        "verified_days_ago": 85,
    },
    # ------------------------------------------------ Eastern European States
    {
        "key": "POL-MOJ", "state": "POL", "name": "Department of International Cooperation and Human Rights, Ministry "
                                                 "of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "Al. Przykładowe 11, Warsaw (fictional address)", "phone": "+48 22 555 0112",
        "email": "dwmpc@ms.pl.example", "email_domains": ["ms.pl.example"],
        "languages": ["pl", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Europe/Warsaw", "office_hours": "Mon-Fri 08:15-16:15",
        "legal_requirements": _mla("Polish (English accepted in urgent cases)", True, "civil"),
        "national_laws": _laws("pl.example", CPC + " (Part XIII: international cooperation)"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 55,
    },
    {
        "key": "ROU-MOJ", "state": "ROU", "name": "Directorate for International Law and Judicial Cooperation",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "Strada Exemplu 17, Bucharest (fictional address)", "phone": "+40 21 555 0114",
        "email": "ddijic@just.ro.example", "email_domains": ["just.ro.example"],
        "languages": ["ro", "en", "fr"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Europe/Bucharest", "office_hours": "Mon-Thu 08:00-16:30, Fri 08:00-14:00",
        "legal_requirements": _mla("Romanian, English or French", True, "civil"),
        "national_laws": _laws("ro.example", "Law on International Judicial Cooperation in Criminal Matters"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 140,
    },
    {
        "key": "UKR-PGO", "state": "UKR", "name": "International Legal Cooperation Department, Office of the "
                                                 "Prosecutor General",
        "parent_body": "Office of the Prosecutor General (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "Vulytsia Pryklad 13/15, Kyiv (fictional address)", "phone": "+380 44 555 0119",
        "email": "intl@gp.ua.example", "email_domains": ["gp.ua.example"],
        "languages": ["uk", "en", "ru"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Europe/Kyiv", "office_hours": "Mon-Thu 09:00-18:00, Fri 09:00-16:45",
        "legal_requirements": _mla("Ukrainian or English", True, "civil",
                                   "6. in the pre-trial stage, requests go here; at the trial stage, to the Ministry "
                                   "of Justice (fictional split of competences).\n"),
        "national_laws": _laws("ua.example", CPC + " (chapter IX: international cooperation)"),
        "treaties": EU_MLA, "verified_days_ago": 300,
    },
    {
        "key": "GEO-MOJ", "state": "GEO", "name": "International Relations Department, Ministry of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "Example Street 24a, Tbilisi (fictional address)", "phone": "+995 32 555 0121",
        "email": "ird@justice.ge.example", "email_domains": ["justice.ge.example"],
        "languages": ["ka", "en", "ru"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Asia/Tbilisi", "office_hours": "Mon-Fri 09:00-18:00",
        "legal_requirements": _mla("Georgian, English or Russian", True, "civil"),
        "national_laws": _laws("ge.example", "Law on International Cooperation in Criminal Matters"),
        "treaties": EU_MLA, "verified_days_ago": 400,
    },
    {
        "key": "SRB-MOJ", "state": "SRB", "name": "Department for International Legal Assistance, Ministry of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "Primer 22-26, Belgrade (fictional address)", "phone": "+381 11 555 0128",
        "email": "mpp@mpravde.rs.example", "email_domains": ["mpravde.rs.example"],
        "languages": ["sr", "en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Europe/Belgrade", "office_hours": "Mon-Fri 07:30-15:30",
        "legal_requirements": _mla("Serbian or English", True, "civil"),
        "national_laws": _laws("rs.example", "Law on Mutual Legal Assistance in Criminal Matters"),
        "treaties": EU_MLA, "verified_days_ago": 90,
    },
    {
        "key": "SRB-FIREARMS", "state": "SRB", "name": "Small Arms and Light Weapons Commission, Ministry of Interior",
        "parent_body": "Ministry of Interior (fictional entry)", "designations": ["firearms_contact"],
        "address": "Bulevar Primer 2, Belgrade (fictional address)", "phone": "+381 11 555 0160",
        "email": "salw@mup.rs.example", "email_domains": ["mup.rs.example"],
        "languages": ["sr", "en"], "channels": ["direct", "interpol"], "time_zone": "Europe/Belgrade",
        "office_hours": "Mon-Fri 07:30-15:30", "legal_requirements": _firearms("Serbian or English"),
        "national_laws": _laws("rs.example", "Law on Weapons and Ammunition"), "verified_days_ago": 190,
    },
    # ------------------------------------------------ Latin American and Caribbean States
    {
        "key": "BRA-DRCI", "state": "BRA", "name": "Department of Asset Recovery and International Legal Cooperation",
        "parent_body": "National Secretariat of Justice, Ministry of Justice and Public Security (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_confiscation", "drugs_mla_central"],
        "address": "Esplanada dos Exemplos, Bloco T, Brasília (fictional address)", "phone": "+55 61 555 0130",
        "email": "cooperacaopenal@mj.example.br", "email_domains": ["mj.example.br"],
        "website": "https://www.mj.example.br/drci",
        "languages": ["pt", "es", "en"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "America/Sao_Paulo", "office_hours": "Mon-Fri 08:00-18:00",
        "legal_requirements": _mla("Portuguese, Spanish or English (Portuguese translation preferred)", True,
                                   "civil"),
        "national_laws": _laws("br.example", "Código de Processo Penal", "Lei de Migração (extradição)"),
        "treaties": INTER_AMERICAN + ["Protocolo de San Luis on mutual legal assistance in criminal matters "
                                      "(MERCOSUR, 1996)"],
        "verified_days_ago": 25,
    },
    {
        "key": "BRA-EXTRA", "state": "BRA", "name": "Division of Extradition and Transfer of Sentenced Persons",
        "parent_body": "Department of Migration, Ministry of Justice and Public Security (fictional entry)",
        "designations": ["untoc_extradition", "untoc_sentenced_persons", "drugs_extradition"],
        "address": "Esplanada dos Exemplos, Bloco T, Brasília (fictional address)", "phone": "+55 61 555 0131",
        "email": "extradicao@mj.example.br", "email_domains": ["mj.example.br"],
        "languages": ["pt"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Sao_Paulo", "office_hours": "Mon-Fri 09:00-18:00",
        "legal_requirements": _extradition("Portuguese", True, False),
        "national_laws": _laws("br.example", "Lei de Migração (extradição)"),
        "treaties": ["Inter-American Convention on Extradition (1981)"], "verified_days_ago": 370,
    },
    {
        "key": "BRA-SINARM", "state": "BRA", "name": "National Firearms System (SINARM), Federal Police",
        "parent_body": "Federal Police (fictional entry)", "designations": ["firearms_contact"],
        "address": "SAS Quadra 6, Example Building, Brasília (fictional address)", "phone": "+55 61 555 0150",
        "email": "sinarm@pf.br.example", "email_domains": ["pf.br.example"],
        "languages": ["pt", "es"], "channels": ["direct", "interpol"], "time_zone": "America/Sao_Paulo",
        "office_hours": "Mon-Fri 08:00-18:00", "legal_requirements": _firearms("Portuguese or Spanish"),
        "national_laws": _laws("br.example", "Estatuto do Desarmamento"), "verified_days_ago": 160,
    },
    {
        "key": "MEX-FGR", "state": "MEX", "name": "Attorney General's Office, International Affairs Unit",
        "parent_body": "Fiscalía General de la República (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "drugs_mla_central", "drugs_extradition"],
        "address": "Avenida Ejemplo 211, Ciudad de México (fictional address)", "phone": "+52 55 555 0145",
        "email": "asuntos.internacionales@fgr.example.mx", "email_domains": ["fgr.example.mx"],
        "languages": ["es", "en"], "channels": ["direct", "diplomatic", "interpol", "network"],
        "accepts_untoc_as_legal_basis": True, "available_24_7": True, "time_zone": "America/Mexico_City",
        "office_hours": "Mon-Fri 09:00-18:00",
        "urgent_requests": "Provisional arrest: INTERPOL Mexico or the duty prosecutor of the unit, at any hour.",
        "legal_requirements": _mla("Spanish (English accepted with a Spanish translation to follow)", True, "civil"),
        "national_laws": _laws("mx.example", "Ley de Extradición Internacional", "Código Nacional de Procedimientos "
                               "Penales"),
        "treaties": INTER_AMERICAN, "verified_days_ago": 50,
    },
    {
        "key": "MEX-SEDENA", "state": "MEX", "name": "Directorate of Firearms Registration and Explosives Control",
        "parent_body": "Secretariat of National Defence (fictional entry)", "designations": ["firearms_contact"],
        "address": "Boulevard Ejemplo s/n, Ciudad de México (fictional address)", "phone": "+52 55 555 0162",
        "email": "rastreo@sedena.mx.example", "email_domains": ["sedena.mx.example"],
        "languages": ["es"], "channels": ["direct", "diplomatic"], "time_zone": "America/Mexico_City",
        "office_hours": "Mon-Fri 08:00-15:00", "legal_requirements": _firearms("Spanish"),
        "national_laws": _laws("mx.example", "Ley Federal de Armas de Fuego y Explosivos"),
        "verified_days_ago": 220,
    },
    {
        "key": "COL-FGN", "state": "COL", "name": "Dirección de Asuntos Internacionales, Fiscalía General de la Nación",
        "parent_body": "Fiscalía General de la Nación (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_confiscation", "drugs_mla_central"],
        "address": "Avenida Calle Ejemplo # 52-01, Bogotá (fictional address)", "phone": "+57 601 555 0135",
        "email": "asuntos.internacionales@fiscalia.co.example", "email_domains": ["fiscalia.co.example"],
        "languages": ["es", "en"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "America/Bogota", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _mla("Spanish", True, "civil"),
        "national_laws": _laws("co.example", "Código de Procedimiento Penal (cooperación internacional)"),
        "treaties": INTER_AMERICAN, "verified_days_ago": 65,
    },
    {
        "key": "COL-MRE", "state": "COL", "name": "Grupo Interno de Trabajo de Extradiciones, Ministerio de Relaciones "
                                                 "Exteriores",
        "parent_body": "Ministry of Foreign Affairs (fictional entry)",
        "designations": ["untoc_extradition", "drugs_extradition"],
        "address": "Carrera Ejemplo 5-51, Bogotá (fictional address)", "phone": "+57 601 555 0137",
        "email": "extradiciones@cancilleria.co.example", "email_domains": ["cancilleria.co.example"],
        "languages": ["es"], "channels": ["diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Bogota", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": _extradition("Spanish", True, True,
                                           "- for nationals: the offence must have been committed after 17 December "
                                           "1997 (fictional condition for this demonstration).\n"),
        "national_laws": _laws("co.example", "Código de Procedimiento Penal (extradición)"),
        "treaties": ["Inter-American Convention on Extradition (1981)"], "verified_days_ago": 110,
    },
    {
        "key": "COL-ARC", "state": "COL", "name": "Centro Internacional de Análisis Marítimo contra el Narcotráfico, "
                                                 "Armada de Colombia",
        "parent_body": "Colombian Navy (fictional entry)", "designations": ["drugs_sea", "som_sea"],
        "address": "Base Naval Ejemplo, Cartagena (fictional address)", "phone": "+57 605 555 0139",
        "email": "cimcon@armada.co.example", "email_domains": ["armada.co.example"],
        "languages": ["es", "en"], "channels": ["direct"], "available_24_7": True, "time_zone": "America/Bogota",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("DRUGS1988", "Spanish or English"),
        "verified_days_ago": 28,
    },
    {
        "key": "ARG-MRE", "state": "ARG", "name": "Dirección de Asistencia Jurídica Internacional, Ministerio de "
                                                 "Relaciones Exteriores",
        "parent_body": "Ministry of Foreign Affairs, International Trade and Worship (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "Esmeralda Ejemplo 1212, Buenos Aires (fictional address)", "phone": "+54 11 555 0138",
        "email": "dajin@mrecic.ar.example", "email_domains": ["mrecic.ar.example"],
        "languages": ["es"], "channels": ["diplomatic", "direct"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Argentina/Buenos_Aires", "office_hours": "Mon-Fri 09:00-17:00",
        "legal_requirements": _mla("Spanish", True, "civil"),
        "national_laws": _laws("ar.example", "Ley de Cooperación Internacional en Materia Penal"),
        "treaties": INTER_AMERICAN + ["Protocolo de San Luis (MERCOSUR, 1996)"], "verified_days_ago": 200,
    },
    {
        "key": "CHL-MP", "state": "CHL", "name": "Unidad de Cooperación Internacional y Extradiciones, Fiscalía "
                                                "Nacional",
        "parent_body": "Ministerio Público (fictional entry)", "designations": ["untoc_mla_central"],
        "address": "Catedral Ejemplo 1437, Santiago (fictional address)", "phone": "+56 2 555 0156",
        "email": "ucie@fiscalia.cl.example", "email_domains": ["fiscalia.cl.example"],
        "languages": ["es", "en"], "channels": ["direct", "network"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Santiago", "office_hours": "Mon-Thu 08:30-17:30, Fri 08:30-16:30",
        "legal_requirements": _mla("Spanish", True, "civil"),
        "national_laws": _laws("cl.example", "Código Procesal Penal"), "treaties": INTER_AMERICAN,
        "verified_days_ago": 80,
    },
    {
        "key": "JAM-MOJ", "state": "JAM", "name": "Central Authority, Ministry of Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "61 Example Road, Kingston (fictional address)", "phone": "+1 876 555 0118",
        "email": "central.authority@moj.jm.example", "email_domains": ["moj.jm.example"],
        "languages": ["en"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Jamaica", "office_hours": "Mon-Thu 08:30-17:00, Fri 08:30-16:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("jm.example", "Mutual Assistance (Criminal Matters) Act", PROCEEDS_ACT),
        "treaties": HARARE + INTER_AMERICAN[:1], "verified_days_ago": 450,
    },
    {
        "key": "JAM-JDFCG", "state": "JAM", "name": "Jamaica Defence Force Coast Guard, Operations Centre",
        "parent_body": "Jamaica Defence Force (fictional entry)", "designations": ["drugs_sea"],
        "address": "HMJS Example, Port Royal (fictional address)", "phone": "+1 876 555 0190",
        "email": "ops@coastguard.jm.example", "email_domains": ["coastguard.jm.example"],
        "languages": ["en"], "channels": ["direct"], "available_24_7": True, "time_zone": "America/Jamaica",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("DRUGS1988", "English"),
        "verified_days_ago": 60,
    },
    {
        "key": "CRI-MP", "state": "CRI", "name": "Oficina de Asesoría Técnica y Relaciones Internacionales, Ministerio "
                                                "Público",
        "parent_body": "Ministerio Público (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_sentenced_persons"],
        "address": "Avenida Ejemplo, San José (fictional address)", "phone": "+506 2 555 0146",
        "email": "oatri@mp.cr.example", "email_domains": ["mp.cr.example"],
        "languages": ["es"], "channels": ["direct", "diplomatic", "network"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "America/Costa_Rica", "office_hours": "Mon-Fri 07:30-16:30",
        "legal_requirements": _mla("Spanish", True, "civil"),
        "national_laws": _laws("cr.example", "Código Procesal Penal"),
        "treaties": INTER_AMERICAN + ["Treaty on Mutual Legal Assistance in Criminal Matters among the Central "
                                      "American Republics (1993)"],
        "verified_days_ago": 175,
    },
    # ------------------------------------------------ Western European and other States
    {
        "key": "AUT-MOJ", "state": "AUT", "name": "Federal Ministry of Justice, International Criminal Law Division",
        "parent_body": "Federal Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation",
                         "drugs_mla_central", "drugs_extradition"],
        "address": "Beispielgasse 7, 1070 Vienna (fictional address)", "phone": "+43 1 555 0100",
        "email": "team.intl@justiz.example.at", "email_domains": ["justiz.example.at"],
        "website": "https://www.justiz.example.at/international",
        "languages": ["de", "en"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Europe/Vienna",
        "office_hours": "Mon-Thu 08:00-16:00, Fri 08:00-13:00",
        "urgent_requests": "An advance copy by e-mail is executed at once; outside office hours, through the "
                           "journal prosecutor of the competent public prosecutor's office.",
        "legal_requirements": _mla("German or English (other languages with a German translation)", True, "civil"),
        "national_laws": _laws("at.example", "Extradition and Mutual Assistance Act (ARHG)",
                               "Act on Judicial Cooperation in Criminal Matters with the EU Member States (EU-JZG)"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 12,
    },
    {
        "key": "FRA-BEPI", "state": "FRA", "name": "Ministry of Justice, Office for Mutual Assistance in Criminal "
                                                  "Matters",
        "parent_body": "Direction des affaires criminelles et des grâces (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "13 place de l'Exemple, 75001 Paris (fictional address)", "phone": "+33 1 55 55 01 00",
        "email": "bepi@justice.example.fr", "email_domains": ["justice.example.fr"],
        "languages": ["fr", "en"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Europe/Paris", "office_hours": "Mon-Fri 09:00-18:00",
        "legal_requirements": _mla("French (requests in English with a French translation)", True, "civil"),
        "national_laws": _laws("fr.example", "Code de procédure pénale (articles on international mutual "
                               "assistance)"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 33,
    },
    {
        "key": "FRA-OCRTIS", "state": "FRA", "name": "Office anti-stupéfiants, international cooperation section",
        "parent_body": "Direction nationale de la police judiciaire (fictional entry)",
        "designations": ["drugs_mla_central", "drugs_sea"],
        "address": "101 rue de l'Exemple, Nanterre (fictional address)", "phone": "+33 1 55 55 01 70",
        "email": "international@ofast.fr.example", "email_domains": ["ofast.fr.example"],
        "languages": ["fr", "en", "es"], "channels": ["direct", "interpol"], "available_24_7": True,
        "time_zone": "Europe/Paris", "office_hours": "Mon-Fri 09:00-18:00",
        "urgent_requests": "Duty officer at any hour for boardings at sea and controlled deliveries.",
        "legal_requirements": _drugs("French, English or Spanish"), "verified_days_ago": 700,
    },
    {
        "key": "ITA-MOJ", "state": "ITA", "name": "Office II, International Cooperation, Directorate General of "
                                                 "Criminal Justice",
        "parent_body": "Ministry of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation"],
        "address": "Via Esempio 70, Rome (fictional address)", "phone": "+39 06 555 0117",
        "email": "ufficio2.dgpenale@giustizia.it.example", "email_domains": ["giustizia.it.example"],
        "languages": ["it", "en", "fr"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Europe/Rome", "office_hours": "Mon-Fri 08:30-17:30",
        "legal_requirements": _mla("Italian (English or French accepted, with an Italian translation to follow)",
                                   True, "civil"),
        "national_laws": _laws("it.example", "Codice di procedura penale (book XI: international relations)"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 22,
    },
    {
        "key": "ITA-MRCC", "state": "ITA", "name": "Italian Maritime Rescue Coordination Centre, Coast Guard",
        "parent_body": "Corpo delle Capitanerie di Porto - Guardia Costiera (fictional entry)",
        "designations": ["som_sea", "drugs_sea"],
        "address": "Viale Esempio 3, Rome (fictional address)", "phone": "+39 06 555 0190",
        "email": "ops@mrcc.it.example", "email_domains": ["mrcc.it.example"],
        "languages": ["it", "en"], "channels": ["direct"], "available_24_7": True, "time_zone": "Europe/Rome",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("SOM", "Italian or English"),
        "verified_days_ago": 18,
    },
    {
        "key": "ESP-MJU", "state": "ESP", "name": "Subdirección General de Cooperación Jurídica Internacional",
        "parent_body": "Ministerio de Justicia (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons"],
        "address": "Calle Ejemplo 45, Madrid (fictional address)", "phone": "+34 91 555 0116",
        "email": "cooperacion@mjusticia.es.example", "email_domains": ["mjusticia.es.example"],
        "languages": ["es", "en", "fr"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Europe/Madrid",
        "office_hours": "Mon-Thu 09:00-17:30, Fri 09:00-14:00",
        "legal_requirements": _mla("Spanish (English or French accepted in urgent cases)", True, "civil"),
        "national_laws": _laws("es.example", "Ley de Extradición Pasiva", "Ley de reconocimiento mutuo de "
                               "resoluciones penales en la Unión Europea"),
        "treaties": EU_MLA + EU_ARREST + INTER_AMERICAN[:1], "verified_days_ago": 48,
    },
    {
        "key": "ESP-SVA", "state": "ESP", "name": "Servicio de Vigilancia Aduanera, Operations Coordination Centre",
        "parent_body": "Agencia Tributaria (fictional entry)", "designations": ["drugs_sea"],
        "address": "Avenida Ejemplo 40, Madrid (fictional address)", "phone": "+34 91 555 0191",
        "email": "coordinacion@sva.es.example", "email_domains": ["sva.es.example"],
        "languages": ["es", "en"], "channels": ["direct"], "available_24_7": True, "time_zone": "Europe/Madrid",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("DRUGS1988", "Spanish or English"),
        "verified_days_ago": 120,
    },
    {
        "key": "NLD-AIRS", "state": "NLD", "name": "International Legal Assistance in Criminal Matters (AIRS)",
        "parent_body": "Ministry of Justice and Security (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation"],
        "address": "Voorbeeldstraat 2, The Hague (fictional address)", "phone": "+31 70 555 0113",
        "email": "airs@minjenv.nl.example", "email_domains": ["minjenv.nl.example"],
        "languages": ["nl", "en", "fr", "de"], "channels": ["direct", "diplomatic", "network"],
        "accepts_untoc_as_legal_basis": True, "time_zone": "Europe/Amsterdam", "office_hours": "Mon-Fri 08:30-17:00",
        "legal_requirements": _mla("Dutch, English, French or German", True, "civil"),
        "national_laws": _laws("nl.example", CPC + " (Book 5: international cooperation)", "Extradition Act"),
        "treaties": EU_MLA + EU_ARREST, "verified_days_ago": 29,
    },
    {
        "key": "CAN-IAG", "state": "CAN", "name": "International Assistance Group, Department of Justice",
        "parent_body": "Department of Justice (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_confiscation"],
        "address": "284 Example Street, Ottawa, Ontario (fictional address)", "phone": "+1 613 555 0109",
        "email": "iag-gei@justice.ca.example", "email_domains": ["justice.ca.example"],
        "website": "https://www.justice.ca.example/iag",
        "languages": ["en", "fr"], "channels": ["direct", "network"], "accepts_untoc_as_legal_basis": True,
        "available_24_7": True, "time_zone": "America/Toronto", "office_hours": "Mon-Fri 08:30-17:00",
        "urgent_requests": "Counsel on call at any hour for provisional arrest and urgent preservation of data.",
        "legal_requirements": _mla("English or French", True, "common",
                                   "6. for search and seizure, facts showing reasonable grounds to believe the "
                                   "evidence will be found at the place to be searched.\n"),
        "national_laws": _laws("ca.example", "Mutual Legal Assistance in Criminal Matters Act", EXTRADITION_ACT),
        "treaties": INTER_AMERICAN + ["London Scheme for Extradition within the Commonwealth"],
        "verified_days_ago": 14,
    },
    {
        "key": "CAN-RCMP", "state": "CAN", "name": "Canadian Firearms Program, Tracing Centre",
        "parent_body": "Royal Canadian Mounted Police (fictional entry)", "designations": ["firearms_contact"],
        "address": "73 Example Drive, Ottawa, Ontario (fictional address)", "phone": "+1 613 555 0161",
        "email": "tracing@rcmp.ca.example", "email_domains": ["rcmp.ca.example"],
        "languages": ["en", "fr"], "channels": ["direct", "interpol"], "time_zone": "America/Toronto",
        "office_hours": "Mon-Fri 08:00-16:00", "legal_requirements": _firearms("English or French"),
        "national_laws": _laws("ca.example", "Firearms Act"), "verified_days_ago": 260,
    },
    {
        "key": "AUS-AGD", "state": "AUS", "name": "International Crime Cooperation Central Authority, Attorney-"
                                                 "General's Department",
        "parent_body": "Attorney-General's Department (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition", "untoc_sentenced_persons", "untoc_confiscation"],
        "address": "3-5 Example Circuit, Barton ACT (fictional address)", "phone": "+61 2 5550 0101",
        "email": "icc.centralauthority@ag.au.example", "email_domains": ["ag.au.example"],
        "website": "https://www.ag.au.example/icc",
        "languages": ["en"], "channels": ["direct", "diplomatic", "network"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Australia/Sydney", "office_hours": "Mon-Fri 08:30-17:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("au.example", "Mutual Assistance in Criminal Matters Act 1987", "Extradition Act "
                               "1988", "Proceeds of Crime Act 2002"),
        "treaties": HARARE + ["Bilateral treaties on mutual assistance and extradition (fictional list)"],
        "verified_days_ago": 42,
    },
    {
        "key": "AUS-MBC", "state": "AUS", "name": "Maritime Border Command, Australian Border Force",
        "parent_body": "Department of Home Affairs (fictional entry)", "designations": ["som_sea", "drugs_sea"],
        "address": "Example Street, Canberra ACT (fictional address)", "phone": "+61 2 5550 0190",
        "email": "mbc.ops@abf.au.example", "email_domains": ["abf.au.example"],
        "languages": ["en"], "channels": ["direct"], "available_24_7": True, "time_zone": "Australia/Sydney",
        "office_hours": "Mon-Sun 00:00-24:00", "legal_requirements": _sea("SOM", "English"),
        "national_laws": _laws("au.example", "Maritime Powers Act 2013"), "verified_days_ago": 480,
    },
    {
        "key": "NZL-CLO", "state": "NZL", "name": "Crown Law Office, Mutual Assistance and Extradition Team",
        "parent_body": "Crown Law Office (fictional entry)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "19 Example Street, Wellington (fictional address)", "phone": "+64 4 555 0120",
        "email": "mutual.assistance@crownlaw.nz.example", "email_domains": ["crownlaw.nz.example"],
        "languages": ["en", "mi"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "time_zone": "Pacific/Auckland", "office_hours": "Mon-Fri 08:30-17:00",
        "legal_requirements": _mla("English", True, "common"),
        "national_laws": _laws("nz.example", "Mutual Assistance in Criminal Matters Act 1992", "Extradition Act "
                               "1999"),
        "treaties": HARARE, "verified_days_ago": 76,
    },
]


def demo_entries(today=None) -> list[dict]:
    """The entries in the interchange format, verification dates counted back from today."""
    today = today or utcnow().date()
    entries = []
    for item in ENTRIES:
        entry = {field: value for field, value in item.items() if field != "verified_days_ago"}
        if item.get("verified_days_ago") is not None:
            entry["last_verified"] = (today - timedelta(days=item["verified_days_ago"])).isoformat()
        entries.append(entry)
    return entries


def _comparable(data: dict) -> dict:
    entry = services.normalised(data)
    entry["designations"] = sorted(entry["designations"])
    entry.pop("last_verified")
    return entry


def load_demo_directory() -> dict[str, int]:
    """Create the demo entries and complete the demo accounts' authorities by key; idempotent. An entry that
    differs from the directory only by its verification date (loaded again on a later day) is left alone."""
    entries = demo_entries()
    problems = [f"{entry['key']}: {problem}" for entry in entries for problem in services.validation_errors(entry)]
    if problems:  # a mistake in the table above, not in anyone's data
        raise services.DirectoryError("; ".join(problems))
    pending = []
    for number, entry in enumerate(entries, start=1):
        authority = interchange.find_authority(entry["key"])
        if authority is not None and _comparable(authority.to_interchange()) == _comparable(entry):
            continue
        pending.append((number, entry))
    result = interchange.import_authorities(pending, source=SOURCE, note="Demonstration data", progress=False)
    return {"directory entries": len(result.created), "directory entry versions": len(result.updated)}
