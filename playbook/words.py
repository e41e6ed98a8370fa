"""How people write the words Gare reads, in English and French: one `fold` for every name
comparison, and the synonym tables of the command grammar, owners and choices. Pure data."""
from __future__ import annotations

import re
import unicodedata


def fold(text: str | None) -> str:
    """Case- and accent-insensitive key, so 'societe generale' finds 'Société Générale'."""
    nfkd = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in nfkd if not unicodedata.combining(c)).casefold().strip()


def name_key(text: str | None) -> str:
    """A name with case, accents and punctuation folded: 'Proposal/Price Quote' and
    'proposal price-quote' share 'proposal price quote'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


# Command words of the grammar (folded), by family. English first, then French: the first of
# each language is the one help shows.
COMMAND_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "help": {"en": ("help", "?", "h"), "fr": ("aide",)},
    "fit": {"en": ("fit",), "fr": ("adequation", "adapte", "convient")},
    "account": {"en": ("account",), "fr": ("compte",)},
    "accounts": {"en": ("accounts",), "fr": ("comptes",)},
    "deal": {"en": ("deal", "opportunity", "opp"), "fr": ("affaire", "opportunite")},
    "deals": {"en": ("deals", "opportunities", "opps"), "fr": ("affaires", "opportunites")},
    "tiers": {"en": ("tiers", "pyramid"), "fr": ("niveaux", "pyramide")},
    "stages": {"en": ("stages", "pipeline"), "fr": ("etapes",)},
    "checklist": {"en": ("checklist", "qualification"), "fr": ("grille",)},
    "nudge": {"en": ("nudge",), "fr": ("relance", "rappel")},
    "settings": {"en": ("settings", "preferences"), "fr": ("reglages", "parametres")},
    "done": {"en": ("done",), "fr": ("fait", "fini")},
    "whoami": {"en": ("whoami",), "fr": ("quisuisje",)},
    "history": {"en": ("history", "audit"), "fr": ("historique",)},
    # Account plans (seed 003). Two-word French words are read as one command word.
    "plan": {"en": ("plan", "account-plan"), "fr": ("plan", "plan-de-compte")},
    "plans": {"en": ("plans",), "fr": ("plans", "plans-de-compte")},
    "task": {"en": ("task", "todo"), "fr": ("tache",)},
    "kpi": {"en": ("kpi", "metric"), "fr": ("indicateur", "kpis")},
    "stakeholder": {"en": ("stakeholder",), "fr": ("partie prenante", "partie-prenante", "interlocuteur")},
    "whitespace": {"en": ("whitespace", "white space", "white-space"), "fr": ("espace blanc", "espace-blanc")},
    "rival": {"en": ("rival", "competitor"), "fr": ("concurrent",)},
    "forces": {"en": ("forces", "five-forces"), "fr": ("forces", "cinq-forces")},
}

# Words that follow a name or a command word and say what to do with it.
KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "set": {"en": ("set",), "fr": ("modifier", "definir")},
    "stage": {"en": ("stage",), "fr": ("etape",)},
    "nurture": {"en": ("nurture", "nurturing"), "fr": ("maturation", "nourrir")},
    "snooze": {"en": ("snooze", "pause"), "fr": ("reporter", "sommeil")},
    "tick": {"en": ("tick", "check"), "fr": ("cocher", "coche")},
    "untick": {"en": ("untick", "uncheck"), "fr": ("decocher", "decoche")},
    "frozen": {"en": ("frozen", "stuck"), "fr": ("gelees", "gelee", "bloquees", "bloquee")},
    "skipped": {"en": ("skipped",), "fr": ("sautees", "sautee", "brulees", "brulee")},
    "confirm": {"en": ("confirm", "anyway"), "fr": ("confirmer", "forcer")},
    "decide": {"en": ("decide", "decision"), "fr": ("decider", "decision")},
    # Account plans.
    "goal": {"en": ("goal", "objective"), "fr": ("objectif", "but")},
    "review": {"en": ("review",), "fr": ("revue", "bilan")},
    "export": {"en": ("export",), "fr": ("exporter",)},
    "answer": {"en": ("answer",), "fr": ("reponse", "repondre")},
    "add": {"en": ("add", "new"), "fr": ("ajouter", "ajout", "nouveau", "nouvelle")},
    "task_done": {"en": ("done", "complete", "completed"), "fr": ("fait", "faite", "termine", "terminee")},
}

# The method's own words, accepted wherever a profile is named (KARE in English, GARE in French).
PROFILE_NAMES = {
    "keep": "keep", "garder": "keep", "k": "keep", "g": "keep",
    "acquire": "acquire", "acquerir": "acquire", "a": "acquire",
    "win_back": "win_back", "winback": "win_back", "reconquerir": "win_back", "r": "win_back",
    "expand": "expand", "etendre": "expand", "e": "expand",
}
LET_GO_WORDS = ("let_go", "letgo", "lacher", "laisser_aller", "laisser-aller")
MISFIT_WORDS = ("misfit", "misfits", "inadapte", "inadaptes", "mal_adapte", "mal_adaptes")
NO_PROFILE_WORDS = ("none", "aucun")

# What `account X set …` may change, with the French words a rep may type.
SETTABLE_ALIASES = {
    "proprietaire": "owner", "statut": "status", "industrie": "industry", "region": "region",
    "chiffre_affaires": "annual_revenue", "ca": "annual_revenue", "effectif": "employees",
    "employes": "employees", "marge": "margin", "margin": "margin_pct", "sponsor": "exec_sponsor",
    "dernier_contact": "last_contact", "valeur_vie": "lifetime_value", "ltv": "lifetime_value",
    "profil": "profile", "niveau": "tier",
}
# A deal's fields as chat may name them (folded, spaces as underscores).
DEAL_SETTABLE_ALIASES = {
    "type": "kind", "deal_type": "kind", "opportunity_type": "kind", "nature": "kind", "genre": "kind",
    "type_d_affaire": "kind", "montant": "amount", "value": "amount", "valeur": "amount",
    "devise": "currency", "close": "close_date", "closing_date": "close_date", "close_date": "close_date",
    "date_de_cloture": "close_date", "cloture": "close_date", "echeance": "close_date",
}
# An owner's decision on an account to let go.
DECISION_WORDS = {
    "end": "end", "let_go": "end", "letgo": "end", "terminate": "end", "fin": "end", "terminer": "end",
    "arreter": "end", "lacher": "end", "keep": "keep", "garder": "keep", "conserver": "keep",
    "raised": "raised", "discussed": "raised", "talked": "raised", "souleve": "raised", "aborde": "raised",
    "en_discussion": "raised", "discute": "raised",
}
TODAY_WORDS = ("today", "now", "aujourd'hui", "aujourd’hui", "auj", "maintenant")

# Account statuses and sectors as people type them in chat (imports have their own, wider tables).
STATUS_WORDS = {"client": "customer", "ancien": "former", "ancien_client": "former", "ex-client": "former"}
SECTOR_WORDS = {"commercial": "commercial", "prive": "commercial", "public": "public"}

# Filter keys of lists, and the owner synonyms used wherever a person is named.
OWNER_KEYS = ("owner", "proprietaire", "rep", "commercial")
TIER_KEYS = ("tier", "niveau")
PROFILE_KEYS = ("profile", "profil")
ME_WORDS = ("@me", "me", "moi", "@moi")
ALL_WORDS = ("all", "tous", "toutes", "tout")
EMPTY_WORDS = ("none", "aucun", "-", "null", "vide", "empty")
AUTO_WORDS = ("auto", "rules", "regles", "default", "defaut")

# Weekdays (Monday is 0) and the parts of the weekly nudge a rep may mute.
DAY_WORDS = {
    "mon": 0, "monday": 0, "lundi": 0, "tue": 1, "tuesday": 1, "mardi": 1, "wed": 2, "wednesday": 2,
    "mercredi": 2, "thu": 3, "thursday": 3, "jeudi": 3, "fri": 4, "friday": 4, "vendredi": 4,
    "sat": 5, "saturday": 5, "samedi": 5, "sun": 6, "sunday": 6, "dimanche": 6,
}
NUDGE_CATEGORIES = ("frozen", "skipped", "let_go", "at_risk", "misfits", "win_back", "actions", "plans")
CATEGORY_WORDS = {
    "frozen": "frozen", "stuck": "frozen", "gelees": "frozen", "skipped": "skipped", "sautees": "skipped",
    "let_go": "let_go", "letgo": "let_go", "lacher": "let_go", "at_risk": "at_risk", "risque": "at_risk",
    "a_risque": "at_risk", "misfits": "misfits", "misfit": "misfits", "inadaptes": "misfits",
    "win_back": "win_back", "winback": "win_back", "reconquerir": "win_back", "actions": "actions",
    "plans": "plans", "plan": "plans",
}

# Account plans: how people write a plan's parts in chat (folded; the values are the stored ids).
# A goal's date follows one of these words: `"5% more subscribers" by 2026-06-30`.
GOAL_DATE_WORDS = ("by", "before", "until", "on", "d'ici le", "d'ici", "avant le", "avant", "pour le", "au", "jusqu'au")
MONTH_WORDS = {
    "january": 1, "jan": 1, "janvier": 1, "janv": 1, "february": 2, "feb": 2, "fevrier": 2, "fev": 2, "fevr": 2,
    "march": 3, "mar": 3, "mars": 3, "april": 4, "apr": 4, "avril": 4, "avr": 4, "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juin": 6, "july": 7, "jul": 7, "juillet": 7, "juil": 7, "august": 8, "aug": 8,
    "aout": 8, "september": 9, "sep": 9, "sept": 9, "septembre": 9, "october": 10, "oct": 10, "octobre": 10,
    "november": 11, "nov": 11, "novembre": 11, "december": 12, "dec": 12, "decembre": 12,
}
# Five Forces (Porter), as typed in `forces ACCOUNT buyer=4 …`.
FORCE_WORDS = {
    "buyer": "buyer_power", "buyers": "buyer_power", "buyer_power": "buyer_power", "acheteurs": "buyer_power",
    "acheteur": "buyer_power", "pouvoir_acheteurs": "buyer_power", "clients": "buyer_power",
    "entrants": "new_entrants", "new_entrants": "new_entrants", "entrants_new": "new_entrants",
    "nouveaux_entrants": "new_entrants", "entry": "new_entrants", "entree": "new_entrants",
    "substitutes": "substitutes", "substitute": "substitutes", "substituts": "substitutes",
    "substitution": "substitutes",
    "supplier": "supplier_power", "suppliers": "supplier_power", "supplier_power": "supplier_power",
    "fournisseurs": "supplier_power", "fournisseur": "supplier_power", "pouvoir_fournisseurs": "supplier_power",
    "rivalry": "rivalry", "rivals": "rivalry", "competition": "rivalry", "competitive_rivalry": "rivalry",
    "rivalite": "rivalry", "concurrence": "rivalry",
}
ATTITUDE_WORDS = {
    "champion": "champion", "sponsor": "champion", "allie": "champion", "alliee": "champion", "ally": "champion",
    "neutral": "neutral", "neutre": "neutral",
    "blocker": "blocker", "bloqueur": "blocker", "bloqueuse": "blocker", "opposant": "blocker",
    "opposante": "blocker", "detractor": "blocker", "detracteur": "blocker",
}
# Who does a task: one of our people (an owner name), a named client contact, an outside vendor.
TASK_OWNER_PREFIXES = {
    "client": "client", "customer": "client", "contact": "client",
    "vendor": "vendor", "supplier": "vendor", "partner": "vendor", "fournisseur": "vendor",
    "prestataire": "vendor", "partenaire": "vendor",
    "internal": "internal", "interne": "internal", "us": "internal", "nous": "internal",
}
# The fields of `task ACCOUNT add …`, `stakeholder ACCOUNT add …` and `plan ACCOUNT review …`.
TASK_FIELD_WORDS = {"owner": "owner", "proprietaire": "owner", "responsable": "owner", "qui": "owner", "who": "owner",
                    "due": "due", "echeance": "due", "pour": "due", "date": "due", "avant": "due"}
STAKEHOLDER_FIELD_WORDS = {
    "role": "role", "title": "role", "poste": "role", "fonction": "role",
    "department": "department", "dept": "department", "departement": "department", "service": "department",
    "direction": "department",
    "attitude": "attitude", "stance": "attitude", "position": "attitude",
    "needs": "needs", "need": "needs", "besoins": "needs", "besoin": "needs",
    "last_contact": "last_contact", "contact": "last_contact", "contacted": "last_contact",
    "dernier_contact": "last_contact",
}
REVIEW_FIELD_WORDS = {"worked": "worked", "what_worked": "worked", "reussi": "worked", "marche": "worked",
                      "fonctionne": "worked", "a_marche": "worked",
                      "did_not": "did_not", "didnt": "did_not", "not_worked": "did_not", "missed": "did_not",
                      "improve": "did_not", "rate": "did_not", "pas_marche": "did_not",
                      "a_ameliorer": "did_not", "ameliorer": "did_not"}
CLOSE_WORDS = ("close", "done", "finish", "clore", "cloturer", "terminer", "fermer")
TARGET_WORDS = ("target", "goal", "cible", "objectif")
PAGE_WORDS = ("page", "p")

TRUE_WORDS = frozenset({"yes", "y", "true", "1", "oui", "o", "vrai"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "non", "faux"})

# A deal's status as CRMs and people write it (name_key form: case, accents and punctuation
# folded). "won" and "lost" also name the closing stages of Salesforce ("Closed Won"), HubSpot
# ("closedwon") and Dynamics (status "Won"); Dynamics' "Close" is a stage, not an outcome.
DEAL_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "open": ("open", "opened", "in progress", "active", "ouvert", "ouverte", "en cours", "actif"),
    "won": ("won", "closed won", "closedwon", "close won", "deal won", "gagne", "gagnee", "ferme gagne",
            "fermee gagnee", "conclu gagne", "signe", "signed"),
    "lost": ("lost", "closed lost", "closedlost", "close lost", "deal lost", "perdu", "perdue", "ferme perdu",
             "fermee perdue", "conclu perdu", "canceled", "cancelled", "annule", "annulee", "out sold", "outsold", "abandonne",
             "abandoned"),
    "nurture": ("nurture", "nurturing", "on hold", "en attente", "en pause"),
}
DEAL_STATUS_OF = {word: status for status, words in DEAL_STATUS_WORDS.items() for word in (status, *words)}

# A person's role as CRMs and HR files write it (name_key form).
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "rep": ("rep", "sales rep", "sales representative", "account executive", "ae", "account manager",
            "sdr", "bdr", "commercial", "commerciale", "vendeur", "vendeuse", "ingenieur commercial"),
    "manager": ("manager", "sales manager", "team lead", "team leader", "head of sales", "sales director",
                "directeur commercial", "directrice commerciale", "responsable commercial", "chef des ventes"),
    "admin": ("admin", "administrator", "system administrator", "sales ops", "sales operations", "revops",
              "revenue operations", "crm admin", "administrateur", "administratrice"),
}
ROLE_OF = {word: role for role, words in ROLE_WORDS.items() for word in (role, *words)}

# A deal's kind (new business, renewal, expansion) as the vendors' Type / Deal Type columns say
# it: Salesforce "New Customer", "Existing Customer - Upgrade"; HubSpot "New Business",
# "Existing Business" (internal values newbusiness, existingbusiness).
DEAL_KINDS = ("new_business", "renewal", "expansion")
DEAL_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "new_business": ("new business", "newbusiness", "new customer", "new logo", "new", "nouveau", "nouveau client",
                     "nouvelle affaire", "new customer new business"),
    "renewal": ("renewal", "renewals", "existing customer renewal", "existing customer replacement", "replacement",
                "renouvellement", "existing business renewal", "existing customer downgrade", "downgrade"),
    "expansion": ("expansion", "existing business", "existingbusiness", "existing customer upgrade", "upgrade",
                  "upsell", "up sell", "cross sell", "add on", "existing customer", "extension", "montee en gamme"),
}
DEAL_KIND_OF = {word: kind for kind, words in DEAL_KIND_WORDS.items() for word in (kind.replace("_", " "), *words)}


def _flat(table: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for family, by_language in table.items():
        for words in by_language.values():
            for word in words:
                if out.setdefault(word, family) != family:
                    raise AssertionError(f"the word {word!r} names both {out[word]} and {family}")
    return out


COMMAND_OF = _flat(COMMAND_WORDS)
KEYWORD_OF = _flat(KEYWORDS)


def command_family(word: str) -> str | None:
    """'Affaires' -> 'deals'; None when the word is no command."""
    return COMMAND_OF.get(fold(word))


def is_keyword(word: str, family: str) -> bool:
    return KEYWORD_OF.get(fold(word)) == family


def first_word(table: dict[str, dict[str, tuple[str, ...]]], family: str, language: str) -> str:
    """The word help shows for a family in a language, written with its accents when French."""
    words = table[family].get(language) or table[family]["en"]
    return ACCENTED.get(words[0], words[0])


# The French command words as people write them (the tables above are folded).
ACCENTED = {"etapes": "étapes", "etape": "étape", "reglages": "réglages", "adequation": "adéquation",
            "gelees": "gelées", "sautees": "sautées", "decocher": "décocher", "opportunite": "opportunité",
            "quisuisje": "qui suis-je", "tache": "tâche", "reponse": "réponse", "decider": "décider"}
