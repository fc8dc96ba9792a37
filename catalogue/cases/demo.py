"""Demonstration cases for the catalogue: fictional, built deterministically from a fixed table of scenarios.

Each scenario (a form of cooperation met in practice, its obstacles, the solutions found, the lessons) is told
three times, between different pairs of States, with a different outcome, legal basis, date and language.
No random module: the same table always gives the same cases, so `demo load` can run again and only
update what changed (import by reference)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from catalogue.cases import services

SOURCE = "Fictional demonstration case"
REGIONS = ("africa", "americas", "asia", "europe", "oceania")

# State -> (English, French, Spanish) name, as they read in a sentence without an article.
STATE_NAMES = {
    "NGA": ("Nigeria", "Nigéria", "Nigeria"), "KEN": ("Kenya", "Kenya", "Kenya"),
    "ZAF": ("South Africa", "Afrique du Sud", "Sudáfrica"), "SEN": ("Senegal", "Sénégal", "Senegal"),
    "MAR": ("Morocco", "Maroc", "Marruecos"), "GHA": ("Ghana", "Ghana", "Ghana"),
    "CIV": ("Côte d'Ivoire", "Côte d'Ivoire", "Côte d'Ivoire"), "SOM": ("Somalia", "Somalie", "Somalia"),
    "BRA": ("Brazil", "Brésil", "Brasil"), "MEX": ("Mexico", "Mexique", "México"),
    "COL": ("Colombia", "Colombie", "Colombia"), "CAN": ("Canada", "Canada", "Canadá"),
    "ARG": ("Argentina", "Argentine", "Argentina"), "PER": ("Peru", "Pérou", "Perú"),
    "PHL": ("the Philippines", "Philippines", "Filipinas"), "THA": ("Thailand", "Thaïlande", "Tailandia"),
    "IND": ("India", "Inde", "India"), "VNM": ("Viet Nam", "Viet Nam", "Viet Nam"),
    "IDN": ("Indonesia", "Indonésie", "Indonesia"), "LBN": ("Lebanon", "Liban", "Líbano"),
    "ARE": ("the United Arab Emirates", "Émirats arabes unis", "Emiratos Árabes Unidos"),
    "AUT": ("Austria", "Autriche", "Austria"), "FRA": ("France", "France", "Francia"),
    "ITA": ("Italy", "Italie", "Italia"), "ESP": ("Spain", "Espagne", "España"),
    "NLD": ("the Netherlands", "Pays-Bas", "Países Bajos"), "BEL": ("Belgium", "Belgique", "Bélgica"),
    "DEU": ("Germany", "Allemagne", "Alemania"), "CHE": ("Switzerland", "Suisse", "Suiza"),
    "AUS": ("Australia", "Australie", "Australia"), "NZL": ("New Zealand", "Nouvelle-Zélande", "Nueva Zelandia"),
    "FJI": ("Fiji", "Fidji", "Fiji"), "PNG": ("Papua New Guinea", "Papouasie-Nouvelle-Guinée", "Papua Nueva Guinea"),
    "VUT": ("Vanuatu", "Vanuatu", "Vanuatu"), "WSM": ("Samoa", "Samoa", "Samoa"),
}
REGION_STATES = {
    "africa": ("NGA", "KEN", "ZAF", "GHA", "SEN", "MAR"),
    "americas": ("BRA", "MEX", "CAN", "COL", "ARG", "PER"),
    "asia": ("PHL", "THA", "IND", "VNM", "IDN", "ARE"),
    "europe": ("ITA", "NLD", "AUT", "DEU", "FRA", "ESP"),
    "oceania": ("AUS", "NZL", "FJI", "PNG", "WSM", "VUT"),
}
# Requesting States whose authorities write in French or Spanish, one per region where there is one.
FRENCH_STATES = ("SEN", "CAN", "LBN", "FRA", "VUT", "MAR", "BEL", "CIV", "CHE")
SPANISH_STATES = ("MEX", "ESP", "COL", "ARG", "PER")

# What the cooperation rested on: legal bases, and the sentence saying so (English, French, Spanish).
BASES = {
    "untoc": (["untoc"],
              "No treaty bound the two States: the request relied on the Convention as its legal basis.",
              "Aucun traité ne liait les deux États : la demande reposait sur la Convention comme base légale.",
              "Ningún tratado vinculaba a ambos Estados: la solicitud se fundó en la Convención como base jurídica."),
    "untoc_bilateral": (["untoc", "bilateral"],
                        "The request relied on the bilateral treaty and, for the offences the treaty does not list, "
                        "on the Convention.",
                        "La demande reposait sur le traité bilatéral et, pour les infractions que ce traité ne vise "
                        "pas, sur la Convention.",
                        "La solicitud se fundó en el tratado bilateral y, para los delitos que este no prevé, "
                        "en la Convención."),
    "untoc_regional": (["untoc", "regional"],
                       "The request cited a multilateral instrument to which both States are party together with "
                       "the Convention.",
                       "La demande visait un instrument multilatéral auquel les deux États sont parties ainsi que la "
                       "Convention.",
                       "La solicitud invocó un instrumento multilateral del que ambos Estados son parte junto con la "
                       "Convención."),
    "protocol": (["untoc", "protocol"],
                 "The request relied on the Convention and on its Protocol, which both States have ratified.",
                 "La demande reposait sur la Convention et sur son Protocole, ratifiés par les deux États.",
                 "La solicitud se fundó en la Convención y en su Protocolo, ratificados por ambos Estados."),
    "reciprocity": (["reciprocity"],
                    "With no treaty in force between the two States, the request was made on the basis of "
                    "reciprocity.",
                    "En l'absence de traité entre les deux États, la demande a été présentée sur la base de la "
                    "réciprocité.",
                    "A falta de tratado entre ambos Estados, la solicitud se presentó sobre la base de la "
                    "reciprocidad."),
    "domestic": (["domestic_law", "reciprocity"],
                 "The requested State acted under its domestic law on international cooperation, on an "
                 "assurance of reciprocity.",
                 "L'État requis a agi en vertu de sa loi sur l'entraide internationale, sur assurance de "
                 "réciprocité.",
                 "El Estado requerido actuó conforme a su ley de cooperación internacional, con garantía de "
                 "reciprocidad."),
    "bilateral": (["bilateral"],
                  "The request relied on the bilateral treaty between the two States.",
                  "La demande reposait sur le traité bilatéral entre les deux États.",
                  "La solicitud se fundó en el tratado bilateral entre ambos Estados."),
    "regional": (["regional", "domestic_law"],
                 "The request relied on a multilateral instrument binding both States and on the domestic law of "
                 "the requested State.",
                 "La demande reposait sur un instrument multilatéral liant les deux États et sur le droit interne "
                 "de l'État requis.",
                 "La solicitud se fundó en un instrumento multilateral que vincula a ambos Estados y en el derecho "
                 "interno del Estado requerido."),
}

# The closing sentence of a summary, by outcome ({duration}: request to completion or to the decision).
OUTCOME_SENTENCES = {
    "granted": ("The request was granted and executed in full, {duration} after it was sent.",
                "La demande a été accordée et exécutée intégralement, {duration} après son envoi.",
                "La solicitud fue concedida y ejecutada en su totalidad, {duration} después de su envío."),
    "partially_granted": ("The request was granted in part, {duration} after it was sent.",
                          "La demande a été accordée en partie, {duration} après son envoi.",
                          "La solicitud fue concedida parcialmente, {duration} después de su envío."),
    "refused": ("The request was refused {duration} after it was received.",
                "La demande a été rejetée {duration} après sa réception.",
                "La solicitud fue denegada {duration} después de su recepción."),
    "withdrawn": ("The requesting State withdrew the request after {duration}.",
                  "L'État requérant a retiré sa demande au bout de {duration}.",
                  "El Estado requirente retiró la solicitud al cabo de {duration}."),
    "pending": ("The request is still being executed.",
                "La demande est en cours d'exécution.",
                "La solicitud sigue en trámite de ejecución."),
}


@dataclass(frozen=True)
class Scenario:
    """One situation of practice, told three times (variants 0, 1, 2)."""

    forms: tuple[str, ...]
    crimes: tuple[str, ...]
    provisions: tuple[str, ...]  # the UNTOC provisions relied on when the Convention or a Protocol is a basis
    channels: tuple[str, ...]
    keywords: tuple[str, ...]
    outcomes: tuple[str, str, str]
    bases: tuple[str, str, str]
    days: tuple[int, int, int]  # request to completion (or to the decision, when refused)
    title: str
    summary: str
    obstacles: str
    solutions: str
    lessons: str
    refusal: str = ""
    instruments: tuple[str, ...] = ()
    french: tuple[str, str] | None = None  # (title, summary)
    spanish: tuple[str, str] | None = None
    pairs: tuple[tuple[str, str], ...] = field(default=())  # fixed (requesting, requested) pairs, by variant


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        forms=("extradition",), crimes=("drug_trafficking", "organized_criminal_group"),
        provisions=("16", "16(4)", "16(5)", "5"), channels=("diplomatic", "interpol"),
        keywords=("provisional arrest", "red notice", "cocaine"),
        outcomes=("granted", "granted", "partially_granted"), bases=("untoc", "untoc", "untoc_bilateral"),
        days=(410, 530, 365),
        title="Extradition from {requested} to {requesting} of the organizer of a cocaine importation network",
        summary="The organizer of a network importing cocaine in refrigerated containers was located in "
                "{requested} through an INTERPOL red notice and provisionally arrested. {requesting} sent the "
                "extradition request within the deadline set for provisional arrest, relying on article 16, paragraph 4, which "
                "{requested} had notified as accepted under article 16, paragraph 5.",
        obstacles="The requested State's courts first doubted that the Convention could replace a treaty, and the "
                  "defence argued that participation in an organized criminal group was not an offence in the "
                  "requested State as worded in the request.",
        solutions="The central authorities exchanged the notification under article 16, paragraph 5 and a note "
                  "on the offence of article 5 as criminalized in both States; the request was supplemented "
                  "with a description of the conduct rather than the legal qualification, which settled dual "
                  "criminality.",
        lessons="Describe the conduct, not only the name of the offence, so that dual criminality is assessed on "
                "the facts. Keep a copy of the article 16, paragraph 5 notifications of partner States at hand: "
                "judges ask for it.",
        refusal="Extradition was granted for drug trafficking and refused for one count of money-laundering "
                "that was time-barred under the law of the requested State.",
        french=("Extradition d'un organisateur d'un réseau d'importation de cocaïne",
                "L'organisateur d'un réseau qui importait de la cocaïne dans des conteneurs frigorifiques a été "
                "localisé dans l'État requis ({requested}) grâce à une notice rouge d'INTERPOL et arrêté "
                "provisoirement. L'État requérant ({requesting}) a transmis la demande d'extradition dans le délai "
                "prévu, en s'appuyant sur l'article 16, paragraphe 4, de la Convention."),
        spanish=("Extradición del organizador de una red de importación de cocaína",
                 "El organizador de una red que importaba cocaína en contenedores refrigerados fue localizado en el "
                 "Estado requerido ({requested}) mediante una notificación roja de INTERPOL y detenido "
                 "provisionalmente. El Estado requirente ({requesting}) envió la solicitud de extradición dentro "
                 "del plazo, con fundamento en el artículo 16, párrafo 4, de la Convención."),
    ),
    Scenario(
        forms=("mla",), crimes=("money_laundering", "fraud"),
        provisions=("18", "18(13)", "18(15)", "18(24)", "6"), channels=("direct",),
        keywords=("bank records", "beneficial ownership", "shell companies"),
        outcomes=("granted", "partially_granted", "granted"), bases=("untoc", "untoc_bilateral", "untoc"),
        days=(150, 240, 120),
        title="Bank records from {requested} to trace the proceeds of an investment fraud prosecuted in {requesting}",
        summary="Investors in {requesting} lost their savings in a fictitious investment scheme; the proceeds were "
                "moved through accounts of shell companies opened in {requested}. The prosecutor asked for account "
                "opening documents, statements and beneficial ownership records of six companies.",
        obstacles="The first request did not link each account to the facts, and the requested bank secrecy rules "
                  "required a court order for every account. The statements were in a format the requesting "
                  "investigators could not read.",
        solutions="A call between the two central authorities, arranged through the network, identified what the "
                  "court order needed; the request was split by account with a short statement of relevance for "
                  "each. The bank produced the statements in a spreadsheet format agreed in advance.",
        lessons="Consult the requested central authority on a draft before sending it. Ask for records in an "
                "electronic format you can analyse, and say which period you need rather than asking for everything.",
        refusal="Records of two accounts were not produced: the requested court found no link between them and the "
                "fraud described.",
        french=("Relevés bancaires pour retracer le produit d'une escroquerie à l'investissement",
                "Des épargnants de l'État requérant ({requesting}) ont perdu leurs économies dans un faux "
                "placement ; les fonds ont transité par des comptes de sociétés écrans ouverts dans l'État requis "
                "({requested}). Le procureur a demandé les documents d'ouverture, les relevés et l'identité des "
                "bénéficiaires effectifs de six sociétés."),
    ),
    Scenario(
        forms=("confiscation", "mla"), crimes=("corruption", "money_laundering"),
        provisions=("13", "12", "18", "18(19)"), channels=("direct", "diplomatic"),
        keywords=("non-conviction based confiscation", "real estate", "freezing"),
        outcomes=("granted", "pending", "partially_granted"), bases=("untoc", "untoc", "untoc_regional"),
        days=(620, 700, 540),
        title="Freezing and confiscation in {requested} of real estate bought with bribes paid in {requesting}",
        summary="A former procurement official of {requesting} bought apartments in {requested} through relatives "
                "with bribes paid by suppliers. {requesting} asked for the properties to be frozen and, after "
                "conviction, for its confiscation order to be enforced under article 13.",
        obstacles="The requested State could enforce only a final order, and the conviction was under appeal for "
                  "two years; meanwhile the relatives tried to sell one apartment.",
        solutions="The requested State froze the properties under its own law on the basis of the request, and "
                  "renewed the measure every six months on updates from the requesting prosecutor. The order was "
                  "enforced once final.",
        lessons="Ask for provisional measures first and keep them alive with regular updates. Trace ownership "
                "through relatives early: registers show the nominal owner only.",
        refusal="The confiscation order was enforced for two apartments; the third had been sold to a buyer in good "
                "faith before the freezing order.",
        spanish=("Embargo y decomiso de inmuebles adquiridos con sobornos",
                 "Un exfuncionario de contratación del Estado requirente ({requesting}) compró apartamentos en el "
                 "Estado requerido ({requested}) a nombre de familiares con sobornos pagados por proveedores. Se "
                 "solicitó el embargo preventivo de los bienes y, tras la condena, la ejecución de la orden de "
                 "decomiso conforme al artículo 13."),
    ),
    Scenario(
        forms=("asset_sharing", "confiscation"), crimes=("drug_trafficking", "money_laundering"),
        provisions=("14", "14(3)", "13"), channels=("direct",),
        keywords=("asset sharing agreement", "victim compensation", "confiscated proceeds"),
        outcomes=("granted", "granted", "withdrawn"), bases=("untoc", "untoc_bilateral", "domestic"),
        days=(300, 420, 260),
        title="Sharing between {requesting} and {requested} of proceeds confiscated from a drug trafficking network",
        summary="After a joint effort, {requested} confiscated accounts and vessels of a drug trafficking network "
                "investigated first in {requesting}. The two States negotiated a case-specific agreement on the "
                "disposal of the confiscated proceeds.",
        obstacles="Neither State had a standing asset-sharing agreement, and the requested State's law required "
                  "the Ministry of Finance to approve any transfer abroad. Valuing the vessels took months.",
        solutions="A model agreement drawn from the UNODC model bilateral agreement was adapted in two meetings; "
                  "the share was set by the contribution of each State to the investigation and paid after the "
                  "sale of the vessels.",
        lessons="Discuss sharing while the case is running, not after confiscation. Record each State's "
                "contribution as you go: it is the basis of the negotiation.",
        instruments=("UNODC Model Bilateral Agreement on the Sharing of Confiscated Proceeds of Crime",),
    ),
    Scenario(
        forms=("sentenced_persons",), crimes=("trafficking_in_persons",),
        provisions=("17",), channels=("diplomatic",),
        keywords=("consent of the sentenced person", "continued enforcement", "social rehabilitation"),
        outcomes=("granted", "refused", "granted"), bases=("bilateral", "untoc", "untoc_regional"),
        days=(380, 300, 450),
        title="Transfer from {requested} to {requesting} of a national sentenced for trafficking in persons",
        summary="A national of {requesting}, sentenced in {requested} to nine years for trafficking in persons, "
                "asked to serve the rest of the sentence at home near the family. Both States agreed in principle; "
                "the question was how the sentence would be enforced.",
        obstacles="The sentence exceeded the maximum for the same offence in the administering State, and the "
                  "sentencing State feared an early release.",
        solutions="The administering State confirmed in writing that it would continue the enforcement of the "
                  "sentence, adapting it only to its legal maximum, and gave its rules on conditional release so "
                  "the sentencing State could decide with full information.",
        lessons="Explain continued enforcement and conversion early and in writing. Ask the sentenced person for "
                "consent through the prison authorities with an interpreter present.",
        refusal="The sentencing State refused the transfer because the victims' compensation ordered by the court "
                "had not been paid.",
        french=("Transfèrement d'un ressortissant condamné pour traite des personnes",
                "Un ressortissant de l'État d'exécution ({requesting}), condamné dans l'État de condamnation "
                "({requested}) à neuf ans d'emprisonnement pour traite des personnes, a demandé à purger le reste "
                "de sa peine près de sa famille. Les deux États étaient d'accord sur le principe ; restait à "
                "fixer les modalités d'exécution de la peine."),
    ),
    Scenario(
        forms=("joint_investigation", "mla"), crimes=("trafficking_in_persons", "organized_criminal_group"),
        provisions=("19", "18", "25"), channels=("network", "direct"),
        keywords=("joint investigation team", "victim protection", "labour exploitation"),
        outcomes=("granted", "granted", "partially_granted"), bases=("protocol", "protocol", "untoc_regional"),
        days=(540, 610, 480),
        title="Joint investigation by {requesting} and {requested} into labour exploitation on farms",
        summary="Workers recruited in {requested} with false promises were exploited on farms in {requesting}. The "
                "two States set up a joint investigation team under article 19 so that victims' statements, "
                "financial evidence and arrests could be coordinated on the same days.",
        obstacles="The rules on admissibility of evidence differed, and victims were afraid to testify while their "
                  "families remained within reach of the recruiters.",
        solutions="The agreement setting up the team listed the procedural rules each member would follow and how "
                  "evidence would be shared; victim support services of both States met the victims before their "
                  "interviews, and the arrests took place on one day in both States.",
        lessons="Write the evidence rules into the joint investigation agreement. Plan victim protection on both "
                "sides before the first interview, not after.",
        refusal="One member State could not share intercepted communications, which its law reserves for national "
                "proceedings.",
        instruments=("Protocol to Prevent, Suppress and Punish Trafficking in Persons",),
        spanish=("Equipo conjunto de investigación sobre explotación laboral en fincas agrícolas",
                 "Trabajadores reclutados en el Estado requerido ({requested}) con falsas promesas fueron "
                 "explotados en fincas del Estado requirente ({requesting}). Ambos Estados crearon un equipo "
                 "conjunto de investigación conforme al artículo 19 para coordinar declaraciones de víctimas, "
                 "pruebas financieras y detenciones en las mismas fechas."),
    ),
    Scenario(
        forms=("special_techniques", "law_enforcement"), crimes=("drug_trafficking",),
        provisions=("20", "20(3)", "27"), channels=("interpol", "direct"),
        keywords=("controlled delivery", "maritime container", "liaison officers"),
        outcomes=("granted", "partially_granted", "granted"), bases=("untoc", "reciprocity", "untoc_bilateral"),
        days=(45, 30, 60),
        title="Controlled delivery of a container of heroin from {requested} to {requesting}",
        summary="Customs in {requested} found heroin hidden in a container bound for {requesting}. Instead of "
                "seizing it at once, the two States agreed on a controlled delivery to identify "
                "the receivers.",
        obstacles="The requested State's law required a prosecutor's authorization within hours, and the "
                  "shipping company changed the route through a third port.",
        solutions="Liaison officers kept a line open day and night; the authorization was given on a short "
                  "written summary and completed later, and the third State agreed by telephone to let the "
                  "container pass under watch.",
        lessons="Agree in advance who authorizes a controlled delivery and how fast. Keep transit States informed "
                "from the start.",
        refusal="The requested State allowed the container to move but not the substitution of the drugs, so only "
                "part of the operation could proceed as planned.",
    ),
    Scenario(
        forms=("transfer_of_proceedings",), crimes=("smuggling_of_migrants", "organized_criminal_group"),
        provisions=("21", "15"), channels=("direct",),
        keywords=("concentration of proceedings", "jurisdiction", "sea crossing"),
        outcomes=("granted", "granted", "refused"), bases=("protocol", "untoc", "regional"),
        days=(210, 260, 180),
        title="Transfer of proceedings from {requested} to {requesting} against a migrant smuggling network",
        summary="Members of a network smuggling migrants by sea were prosecuted in both {requesting} and "
                "{requested}. To avoid parallel trials, {requested} transferred its proceedings to {requesting}, "
                "where most evidence and the leaders were.",
        obstacles="Each State had jurisdiction under article 15 and neither wanted to close its own case; the "
                  "files were in different languages.",
        solutions="The prosecutors met by videoconference and compared evidence, suspects and victims in a joint "
                  "table; the transferring State sent its file with translations of the key documents only.",
        lessons="Decide early where to prosecute, and put the reasons in writing. Translate key documents, not the "
                "whole file.",
        refusal="The transfer was refused because the limitation period had run under the law of the State asked to "
                "take over the proceedings.",
        instruments=("Protocol against the Smuggling of Migrants by Land, Sea and Air",),
        french=("Transmission des poursuites contre un réseau de trafic illicite de migrants",
                "Des membres d'un réseau de trafic illicite de migrants par mer étaient poursuivis à la fois dans "
                "l'État requérant ({requesting}) et dans l'État requis ({requested}). Pour éviter deux procès, "
                "l'État requis a transmis ses poursuites à l'État requérant, où se trouvaient la plupart des "
                "preuves et les dirigeants."),
    ),
    Scenario(
        forms=("videoconference", "mla"), crimes=("kidnapping", "obstruction_of_justice"),
        provisions=("18", "18(18)", "24", "23"), channels=("network", "direct"),
        keywords=("videoconference hearing", "witness protection", "intimidation"),
        outcomes=("granted", "granted", "pending"), bases=("untoc", "untoc", "untoc_bilateral"),
        days=(75, 90, 60),
        title="Hearing by videoconference from {requested} of a protected witness in a kidnapping trial in {requesting}",
        summary="A key witness of a kidnapping for ransom had moved to {requested} after threats. The court in "
                "{requesting} asked for the witness to be heard by videoconference under article 18, paragraph 18, "
                "with protective measures.",
        obstacles="The requested State's courts had never organized a hearing for a foreign trial, and the defence "
                  "insisted on seeing the witness's face.",
        solutions="A test call a week before fixed the technical setup; a judge of the requested State was present "
                  "with the witness, and the image was blurred for the public but not for the court and counsel.",
        lessons="Run a technical test in advance and agree on who presides. Check the protective measures allowed "
                "by both laws before the hearing.",
        spanish=("Audiencia por videoconferencia de un testigo protegido en un juicio por secuestro",
                 "Un testigo clave de un secuestro extorsivo se había trasladado al Estado requerido ({requested}) "
                 "tras recibir amenazas. El tribunal del Estado requirente ({requesting}) pidió que se le tomara "
                 "declaración por videoconferencia conforme al artículo 18, párrafo 18, con medidas de protección."),
    ),
    Scenario(
        forms=("spontaneous_information",), crimes=("cybercrime", "fraud"),
        provisions=("18(4)", "18(5)"), channels=("network",),
        keywords=("phishing", "spontaneous transmission", "money mules"),
        outcomes=("granted", "granted", "granted"), bases=("untoc", "untoc", "untoc"),
        days=(12, 20, 8),
        title="Spontaneous information from {requested} to {requesting} on a phishing ring targeting its banks",
        summary="Investigators in {requested} analysing a seized server found stolen credentials of customers of "
                "banks in {requesting} and the accounts of money mules there. Without any request, they transmitted "
                "the information under article 18, paragraph 4.",
        obstacles="The information contained personal data, and the transmitting State wanted it used only for the "
                  "investigation.",
        solutions="The information was sent with a request for confidentiality and a limitation on use under "
                  "article 18, paragraph 5; the receiving State confirmed the conditions before opening the files.",
        lessons="Spontaneous information works: the network's secure messaging made it possible within days. State "
                "the conditions on use when you send, so the receiver can confirm them at once.",
        french=("Transmission spontanée d'informations sur un réseau d'hameçonnage visant des banques",
                "En analysant un serveur saisi, les enquêteurs de l'État requis ({requested}) ont trouvé les "
                "identifiants volés de clients de banques de l'État requérant ({requesting}) et les comptes de "
                "mules financières. Sans attendre de demande, ils ont transmis ces informations en application de "
                "l'article 18, paragraphe 4."),
    ),
    Scenario(
        forms=("law_enforcement",), crimes=("firearms_trafficking",),
        provisions=("27", "28"), channels=("interpol",),
        keywords=("firearms tracing", "serial numbers", "converted weapons"),
        outcomes=("granted", "partially_granted", "granted"), bases=("protocol", "protocol", "reciprocity"),
        days=(35, 60, 40),
        title="Tracing in {requested} of converted firearms seized in {requesting}",
        summary="Police in {requesting} seized pistols converted from alarm weapons. They asked {requested}, where "
                "the weapons were made, to trace the sales through police-to-police cooperation.",
        obstacles="Some serial numbers had been erased, and the manufacturer's records were kept by a private "
                  "company not bound to answer the police.",
        solutions="Forensic laboratories restored most serial numbers; the national firearms focal point of the "
                  "requested State obtained the sales records under its licensing powers.",
        lessons="Use the firearms focal points designated under the Firearms Protocol. Send photographs of markings "
                "with the first message.",
        refusal="Records older than ten years had been destroyed, so only recent sales could be traced.",
        instruments=("Protocol against the Illicit Manufacturing of and Trafficking in Firearms",),
    ),
    Scenario(
        forms=("extradition",), crimes=("fraud",),
        provisions=("16", "16(10)", "16(4)"), channels=("diplomatic",),
        keywords=("nationality exception", "aut dedere aut judicare", "domestic prosecution"),
        outcomes=("refused", "refused", "granted"), bases=("untoc", "untoc_bilateral", "untoc"),
        days=(240, 300, 390),
        title="Extradition of a national of {requested} to {requesting} for a large-scale fraud",
        summary="A company director who defrauded suppliers in {requesting} fled to {requested}, of which he is a "
                "national. {requesting} requested extradition; the case tested the obligation to extradite or "
                "prosecute under article 16, paragraph 10.",
        obstacles="The constitution of the requested State bars the extradition of nationals, and its prosecutors "
                  "had no evidence of their own.",
        solutions="After the refusal the requesting State sent its whole file, with translations, so that the "
                  "requested State could prosecute at home; the two prosecution services cooperated on evidence "
                  "as in article 16, paragraph 10.",
        lessons="When a national is sought, prepare the file for domestic prosecution in parallel with the "
                "extradition request. Ask for the case to be submitted to prosecutors without delay.",
        refusal="Extradition was refused on the ground of nationality; the case was submitted to the prosecutors of "
                "the requested State under article 16, paragraph 10.",
        spanish=("Extradición de un nacional del Estado requerido por un fraude a gran escala",
                 "El director de una empresa que defraudó a proveedores en el Estado requirente ({requesting}) huyó "
                 "al Estado requerido ({requested}), del que es nacional. El caso puso a prueba la obligación de "
                 "extraditar o juzgar del artículo 16, párrafo 10."),
    ),
    Scenario(
        forms=("mla", "confiscation"), crimes=("cultural_property",),
        provisions=("18", "13", "12"), channels=("diplomatic", "interpol"),
        keywords=("looted antiquities", "auction house", "restitution"),
        outcomes=("granted", "partially_granted", "pending"), bases=("untoc", "domestic", "untoc"),
        days=(330, 450, 400),
        title="Seizure in {requested} of antiquities looted from sites in {requesting}",
        summary="Archaeologists in {requesting} recognized objects from a looted site in the catalogue of an auction "
                "house in {requested}. The prosecutor asked for the objects to be seized and for the records of "
                "the consignor to be produced.",
        obstacles="The auction house argued that the objects had been on the market for decades, and the requested "
                  "State needed proof that they left the country after its export ban.",
        solutions="Excavation reports and photographs dated the removal; the objects were withdrawn from sale and "
                  "seized, and the consignor's records showed the route through a free port.",
        lessons="Act before the sale date: a short urgent request by INTERPOL channel can stop a sale while the "
                "formal request follows. Attach the evidence of provenance you already have.",
        refusal="Some objects could not be linked to the looted site and were returned to the consignor.",
    ),
    Scenario(
        forms=("mla", "law_enforcement"), crimes=("wildlife_crime", "corruption"),
        provisions=("18", "27", "8"), channels=("direct", "interpol"),
        keywords=("ivory", "rhinoceros horn", "DNA analysis"),
        outcomes=("granted", "granted", "withdrawn"), bases=("untoc", "untoc_regional", "reciprocity"),
        days=(200, 280, 150),
        title="Evidence from {requested} on a wildlife trafficking shipment seized in {requesting}",
        summary="A shipment of ivory and rhinoceros horn declared as timber was seized in {requesting}. The "
                "investigators asked {requested}, the country of export, for shipping records, the identity of the "
                "exporters and the customs officers who cleared the containers.",
        obstacles="Wildlife crime carried low penalties in one State, raising doubts about the seriousness "
                  "threshold, and a customs officer involved was suspected of taking bribes.",
        solutions="The request charged the conduct also as corruption and participation in an organized criminal "
                  "group, which are serious crimes in both States; DNA samples shared through the police channel "
                  "linked the ivory to poaching areas.",
        lessons="Charge the whole conduct: corruption and laundering charges bring wildlife cases within the "
                "Convention. Share forensic samples early; they answer questions of origin quickly.",
        pairs=(("THA", "KEN"), ("VNM", "ZAF"), ("BEL", "NGA")),
    ),
    Scenario(
        forms=("mla", "spontaneous_information"), crimes=("falsified_medicines", "organized_criminal_group"),
        provisions=("18", "18(4)", "18(13)"), channels=("direct", "network"),
        keywords=("falsified vaccines", "online pharmacy", "public health"),
        outcomes=("granted", "partially_granted", "granted"), bases=("untoc", "untoc", "domestic"),
        days=(160, 220, 130),
        title="Evidence from {requested} on falsified medicines sold online to patients in {requesting}",
        summary="Falsified antimalarial medicines sold through online pharmacies caused harm to patients in "
                "{requesting}. The packaging pointed to a factory in {requested}; {requesting} asked for a search "
                "of the factory and the records of its exports.",
        obstacles="The health regulator and the police of the requested State each considered the other competent, "
                  "and the website was hosted in a third State.",
        solutions="The central authority of the requested State brought both bodies to one meeting and assigned the "
                  "search to the police with experts of the regulator; the hosting State was informed "
                  "spontaneously of the results.",
        lessons="Name the body you think is competent, but let the central authority coordinate. Falsified medicines "
                "are a public health emergency: say so, and ask for urgent execution.",
        refusal="The search was carried out, but export records older than the regulator's retention period were "
                "no longer available.",
        french=("Preuves sur des médicaments falsifiés vendus en ligne à des patients",
                "Des antipaludiques falsifiés vendus par des pharmacies en ligne ont nui à des patients de l'État "
                "requérant ({requesting}). L'emballage désignait une usine située dans l'État requis "
                "({requested}) ; une perquisition de l'usine et la production de ses registres d'exportation ont "
                "été demandées."),
    ),
    Scenario(
        forms=("transfer_of_proceedings", "extradition"), crimes=("piracy",),
        provisions=("21", "16", "15(2)"), channels=("diplomatic",),
        keywords=("piracy", "maritime crime", "prosecution agreement"),
        outcomes=("granted", "refused", "granted"), bases=("untoc", "reciprocity", "untoc_bilateral"),
        days=(120, 200, 150),
        title="Prosecution in {requested} of suspected pirates captured by a naval vessel of {requesting}",
        summary="A naval vessel of {requesting} captured suspects after an armed attack on a merchant ship on the "
                "high seas. {requesting} asked {requested}, the nearest coastal State with a prosecution "
                "agreement, to take over the proceedings and receive the suspects.",
        obstacles="Evidence had to be gathered at sea by naval personnel, and the receiving State required "
                  "statements in a form its courts accept.",
        solutions="Naval boarding teams used an evidence handbook agreed with the receiving State's prosecutors; "
                  "the officers testified later by videoconference.",
        lessons="Train boarding teams in evidence handling before deployment. Agree on the handover procedure and "
                "the documents required before any capture.",
        refusal="The coastal State refused to take over the proceedings because its courts had reached the limit "
                "of cases they could try under the agreement.",
        pairs=(("NLD", "KEN"), ("FRA", "SEN"), ("DEU", "KEN")),
    ),
    Scenario(
        forms=("mla",), crimes=("terrorism", "money_laundering"),
        provisions=(), channels=("direct", "diplomatic"),
        keywords=("terrorist financing", "hawala", "financial intelligence"),
        outcomes=("partially_granted", "granted", "refused"), bases=("regional", "bilateral", "domestic"),
        days=(260, 320, 210),
        title="Financial evidence from {requested} on the funding of a terrorist cell prosecuted in {requesting}",
        summary="Prosecutors in {requesting} traced money sent to a terrorist cell through informal value transfer "
                "operators in {requested}. They asked for the records of the operators and of bank accounts used to "
                "settle the transfers.",
        obstacles="The informal operators kept few written records, and the requested State could not use "
                  "financial intelligence as evidence without a separate request.",
        solutions="The financial intelligence units first exchanged intelligence to find the right accounts; the "
                  "formal request then targeted those accounts only, which made it quick to execute.",
        lessons="Use the intelligence channel to focus the request, then the judicial channel for evidence. "
                "Terrorism cases fall outside the Convention unless organized crime offences are involved: choose "
                "another legal basis.",
        refusal="Records of one operator were refused because the requested State's law protects information "
                "obtained by its financial intelligence unit.",
        instruments=("International Convention for the Suppression of the Financing of Terrorism",),
    ),
    Scenario(
        forms=("extradition",), crimes=("kidnapping", "organized_criminal_group"),
        provisions=("16", "16(4)", "16(5)", "16(14)"), channels=("interpol", "diplomatic"),
        keywords=("kidnapping for ransom", "fair trial guarantees", "assurances"),
        outcomes=("granted", "withdrawn", "granted"), bases=("untoc", "untoc", "untoc_regional"),
        days=(460, 380, 500),
        title="Extradition from {requested} to {requesting} of a kidnapping gang leader after assurances",
        summary="The leader of a gang that kidnapped business people for ransom in {requesting} was arrested in "
                "{requested}. The requested court asked for assurances on prison conditions and a fair trial "
                "before deciding.",
        obstacles="Reports on prison conditions in the requesting State were used by the defence, and the "
                  "requested court asked for individual, not general, assurances.",
        solutions="The requesting State gave written assurances naming the detention facility and allowing consular "
                  "visits; the requested court accepted them.",
        lessons="Expect article 16, paragraph 14 arguments and prepare specific assurances. Name the authority "
                "that gives them and the one that will check them.",
        spanish=("Extradición del jefe de una banda de secuestros tras garantías diplomáticas",
                 "El jefe de una banda que secuestraba empresarios en el Estado requirente ({requesting}) fue "
                 "detenido en el Estado requerido ({requested}). El tribunal pidió garantías sobre las condiciones "
                 "de detención y el juicio justo antes de resolver."),
    ),
    Scenario(
        forms=("mla",), crimes=("cybercrime",),
        provisions=("18", "18(14)", "18(24)", "18(13)"), channels=("direct", "network"),
        keywords=("electronic evidence", "preservation", "ransomware"),
        outcomes=("granted", "partially_granted", "pending"), bases=("untoc", "untoc_bilateral", "untoc"),
        days=(95, 180, 120),
        title="Preservation and production in {requested} of server data on a ransomware attack against hospitals in {requesting}",
        summary="A ransomware attack paralysed hospitals in {requesting}. The attackers' command server was rented "
                "from a provider in {requested}; the prosecutor asked first for the data to be preserved, then for "
                "its production.",
        obstacles="The provider kept logs for ninety days only, and the formal request could not be ready in time.",
        solutions="A preservation request sent by e-mail to the central authority, accepted under article 18, "
                  "paragraph 14 in urgent cases and confirmed in writing, froze the data within two days; the "
                  "formal request followed.",
        lessons="Ask for preservation at once, by the fastest channel the requested State accepts. Say exactly "
                "which accounts, dates and kinds of data you need.",
        refusal="Content data was not produced: the requested State requires a court order that the facts "
                "described did not support; subscriber and traffic data were produced.",
        french=("Conservation et production de données d'un serveur utilisé contre des hôpitaux",
                "Une attaque par rançongiciel a paralysé des hôpitaux de l'État requérant ({requesting}). Le "
                "serveur de commande des attaquants était loué auprès d'un hébergeur de l'État requis "
                "({requested}) ; le procureur a d'abord demandé la conservation des données, puis leur production."),
    ),
    Scenario(
        forms=("extradition", "mla"), crimes=("corruption", "money_laundering"),
        provisions=("16", "16(4)", "18", "8"), channels=("diplomatic",),
        keywords=("political offence", "public official", "embezzlement"),
        outcomes=("refused", "granted", "partially_granted"), bases=("untoc", "untoc", "untoc_bilateral"),
        days=(280, 520, 440),
        title="Extradition to {requesting} of a former official from {requested} for bribery and laundering",
        summary="A former senior official of {requesting}, accused of taking bribes for public contracts and "
                "laundering them, settled in {requested}. {requesting} requested extradition and the seizure of "
                "the accounts where the money was held.",
        obstacles="The person claimed that the prosecution was political, and the requested court examined the "
                  "political situation in the requesting State at length.",
        solutions="The requesting State showed that the charges were ordinary offences under articles 6 and 8 and "
                  "that the investigation began before the change of government, with documents of the audit "
                  "office.",
        lessons="Document when and how the investigation started. Offences established under the Convention are "
                "not political offences, but the court will still look at the facts.",
        refusal="The court found a risk that the person would be prosecuted for political opinions and refused "
                "extradition; the accounts stayed frozen under the requested State's own laundering case.",
    ),
    Scenario(
        forms=("mla",), crimes=("other_serious_crime", "organized_criminal_group"),
        provisions=("18", "2", "3"), channels=("direct",),
        keywords=("illegal waste dumping", "serious crime", "environmental crime"),
        outcomes=("granted", "withdrawn", "granted"), bases=("untoc", "untoc", "untoc_bilateral"),
        days=(190, 140, 230),
        title="Evidence from {requested} on an organized group dumping hazardous waste in {requesting}",
        summary="A group shipped hazardous industrial waste from {requested} to {requesting}, declared as recycled "
                "material, and dumped it near a river. {requesting} asked for company records and the testimony of "
                "port officials.",
        obstacles="Illegal dumping was an administrative offence in one State, and the requested authorities asked "
                  "whether it was a serious crime within article 2.",
        solutions="The request showed that the offence carried four years' imprisonment in the requesting State and "
                  "was committed by an organized criminal group across borders, meeting article 3.",
        lessons="Explain the penalty and the transnational, organized nature of the offence: the Convention covers "
                "any serious crime, not only listed ones.",
    ),
    Scenario(
        forms=("joint_investigation", "special_techniques"), crimes=("smuggling_of_migrants", "money_laundering"),
        provisions=("19", "20", "20(2)"), channels=("network", "direct"),
        keywords=("joint investigation team", "undercover operation", "financial flows"),
        outcomes=("granted", "partially_granted", "granted"), bases=("protocol", "untoc_regional", "protocol"),
        days=(600, 480, 560),
        title="Joint investigation of {requesting} and {requested} into a smuggling network and its finances",
        summary="A network smuggled migrants overland and hid its profits in exchange offices. {requesting} and "
                "{requested} set up a joint team using undercover officers and financial investigation to reach "
                "the organizers.",
        obstacles="Undercover operations were regulated differently, and the exchange offices were licensed in a "
                  "third State.",
        solutions="The team's agreement set the rules for undercover work in each State, and the third State joined "
                  "as a participant for the financial part.",
        lessons="Invite third States into a joint team when the money goes there. Agree on special investigative "
                "techniques in writing, State by State.",
        refusal="Evidence from an undercover officer was not admitted in one State because its law requires prior "
                "judicial authorization.",
        instruments=("Protocol against the Smuggling of Migrants by Land, Sea and Air",),
        spanish=("Investigación conjunta sobre una red de tráfico de migrantes y sus finanzas",
                 "Una red trasladaba migrantes por tierra y ocultaba sus ganancias en casas de cambio. El Estado "
                 "requirente ({requesting}) y el Estado requerido ({requested}) crearon un equipo conjunto con "
                 "agentes encubiertos e investigación financiera para llegar a los organizadores."),
    ),
)


# ---------------------------------------------------------------- building the cases

def _date_of(n: int, pending: bool) -> date:
    year = 2024 + n % 2 if pending else 2014 + (n * 7) % 10
    return date(year, (n * 5) % 12 + 1, (n * 11) % 28 + 1)


def _states(scenario: Scenario, variant: int, n: int, language: str) -> tuple[str, str]:
    if scenario.pairs:
        return scenario.pairs[variant]
    if language == "fr":
        requesting = FRENCH_STATES[n % len(FRENCH_STATES)]
    elif language == "es":
        requesting = SPANISH_STATES[n % len(SPANISH_STATES)]
    else:
        requesting = REGION_STATES[REGIONS[n % 5]][(n // 5) % 6]
    region = REGIONS[(n // 5 + n * 2 + 1) % 5]
    candidates = [s for s in REGION_STATES[region] if s != requesting]
    return requesting, candidates[(n // 3) % len(candidates)]


def _names(code: str, index: int) -> str:
    return STATE_NAMES[code][index]


def demo_case(scenario: Scenario, variant: int, n: int) -> dict:
    """The n-th demonstration case (1-based), in the interchange format."""
    outcome = scenario.outcomes[variant]
    language = "fr" if variant == 1 and scenario.french else "es" if variant == 2 and scenario.spanish else "en"
    requesting, requested = _states(scenario, variant, n, language)
    bases, *basis_sentences = BASES[scenario.bases[variant]]
    pending = outcome == "pending"
    request_date = _date_of(n, pending)
    days = scenario.days[variant]
    months = max(1, round(days / 30))

    def text(index: int, title: str, summary: str) -> tuple[str, str]:
        names = {"requesting": _names(requesting, index), "requested": _names(requested, index)}
        duration = (("one month", "un mois", "un mes") if months == 1 else
                    (f"{months} months", f"{months} mois", f"{months} meses"))[index]
        closing = OUTCOME_SENTENCES[outcome][index].format(duration=duration)
        body = f"{summary.format(**names)} {basis_sentences[index]} {closing}"
        if index == 0:  # "the Philippines" opening a sentence
            body = re.sub(r"(^|[.!?] )the ", r"\1The ", body)
        return title.format(**names), body

    english = text(0, scenario.title, scenario.summary)
    versions = {"en": english}
    if scenario.french:
        versions["fr"] = text(1, *scenario.french)
    if scenario.spanish:
        versions["es"] = text(2, *scenario.spanish)
    title, summary = versions[language]
    translations = {}
    if language != "en":
        translations["en"] = english
    elif variant == 0:
        translations = {lang: version for lang, version in versions.items() if lang != "en"}

    data: dict = {
        "reference": f"DEMO-{n:03d}",
        "title": title,
        "summary": summary,
        "language": language,
        "translations": {lang: {"title": t, "summary": s} for lang, (t, s) in translations.items()},
        "requesting_state": requesting,
        "requested_state": requested,
        "cooperation_forms": list(scenario.forms),
        "legal_bases": list(bases),
        "untoc_provisions": list(scenario.provisions) if {"untoc", "protocol"} & set(bases) else [],
        "other_instruments": list(scenario.instruments),
        "crime_types": list(scenario.crimes),
        "channels": list(scenario.channels),
        "request_date": request_date.isoformat(),
        "outcome": outcome,
        "obstacles": scenario.obstacles,
        "solutions": scenario.solutions,
        "lessons_learned": scenario.lessons,
        "keywords": list(scenario.keywords),
        "visibility": "members" if n % 3 == 0 else "public",
        "source": SOURCE,
    }
    if outcome in ("granted", "partially_granted"):
        data["decision_date"] = (request_date + timedelta(days=days * 2 // 3)).isoformat()
        data["completion_date"] = (request_date + timedelta(days=days)).isoformat()
    elif outcome == "refused":
        data["decision_date"] = data["completion_date"] = (request_date + timedelta(days=days)).isoformat()
    elif outcome == "withdrawn":
        data["completion_date"] = (request_date + timedelta(days=days)).isoformat()
    if outcome in ("refused", "partially_granted") and scenario.refusal:
        data["refusal_grounds"] = scenario.refusal
    # Keep the interchange field order and leave out what is empty, as exports do.
    order = ("reference", "title", "summary", "language", "translations", "requesting_state", "requested_state",
             "cooperation_forms", "legal_bases", "untoc_provisions", "other_instruments", "crime_types", "channels",
             "request_date", "decision_date", "completion_date", "outcome", "refusal_grounds", "obstacles",
             "solutions", "lessons_learned", "keywords", "visibility", "source")
    return {key: data[key] for key in order if data.get(key) not in (None, "", [], {})}


def demo_cases() -> list[dict]:
    """Every demonstration case, three per scenario, in reference order."""
    return [demo_case(scenario, variant, index * 3 + variant + 1)
            for index, scenario in enumerate(SCENARIOS) for variant in range(3)]


def load_demo_cases() -> dict[str, int]:
    """Import the demonstration cases (published; created or updated by reference). The caller commits."""
    created = 0
    for data in demo_cases():
        problems = services.validation_errors(data)
        if problems:
            raise ValueError(f"demonstration case {data['reference']} is invalid: {'; '.join(problems)}")
        _case, new = services.import_case(data, SOURCE)
        created += int(new)
    return {"cases": created}
