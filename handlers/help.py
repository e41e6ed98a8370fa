"""`help [command]`: what the bot understands. The words live in templates/."""
from __future__ import annotations

from handlers.reply import Context, Reply

TOPICS = ("fit", "account", "accounts", "deal", "deals", "checklist", "tiers", "stages", "nudge", "done", "settings")
TOPIC_WORDS = {
    "fit": "fit", "adequation": "fit", "account": "account", "compte": "account", "accounts": "accounts",
    "comptes": "accounts", "deal": "deal", "affaire": "deal", "deals": "deals", "affaires": "deals",
    "tiers": "tiers", "niveaux": "tiers", "stages": "stages", "etapes": "stages",
    "checklist": "checklist", "grille": "checklist", "nudge": "nudge", "relance": "nudge",
    "done": "done", "fait": "done", "settings": "settings", "reglages": "settings",
}


def help_(ctx: Context, topic: str | None = None) -> Reply:
    chosen = TOPIC_WORDS.get(topic or "", None)
    return Reply("help", {"topic": chosen, "asked": topic, "topics": list(TOPICS), "platform": ctx.platform,
                          "profiles": [p.id for p in ctx.playbook.profiles]})
