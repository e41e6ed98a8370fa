"""A handler's reply as a Teams message: an Adaptive Card from templates/teams (Jinja2 producing
the card's JSON, version 1.5 at most), with a one-line summary for notifications and the
console's text rendering as the card's fallback."""
from __future__ import annotations

import base64
from typing import Any

from bot.render import render
from handlers.reply import Reply

CARD = "application/vnd.microsoft.card.adaptive"
SUMMARY_LIMIT = 200
FALLBACK_LIMIT = 1000


def text_of(reply: Reply, language: str, currency: str) -> str:
    return render(reply, surface="text", language=language, currency=currency).strip()


def card_for(reply: Reply, *, language: str, currency: str, text_rendering: str | None = None, **extra: Any) -> dict:
    """The reply's Adaptive Card (a reply without a Teams template falls back to its text).
    `text_rendering`: the reply's text_of, when the caller has it already."""
    card = render(reply, surface="teams", language=language, currency=currency, **extra)
    if not card.get("fallbackText"):
        text = text_rendering if text_rendering is not None else text_of(reply, language, currency)
        card["fallbackText"] = text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"
    return card


def summary_of(reply: Reply, language: str, currency: str, text_rendering: str | None = None) -> str:
    text = text_rendering if text_rendering is not None else text_of(reply, language, currency)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "Gare")
    return first if len(first) <= SUMMARY_LIMIT else first[: SUMMARY_LIMIT - 1] + "…"


def message_for(reply: Reply, *, language: str, currency: str, **extra: Any) -> dict:
    """A message activity (JSON) carrying the reply's card; the text is rendered once, for both
    the card's fallback and the notification's summary."""
    text = text_of(reply, language, currency)
    return card_message(card_for(reply, language=language, currency=currency, text_rendering=text, **extra),
                        summary_of(reply, language, currency, text))


def card_message(card: dict, summary: str) -> dict:
    return {"type": "message", "summary": summary, "attachments": [{"contentType": CARD, "content": card}]}


def card_response(card: dict) -> dict:
    """The body of an invoke response to Action.Execute that replaces the card."""
    return {"statusCode": 200, "type": CARD, "value": card}


def text_response(text: str) -> dict:
    """The body of an invoke response that leaves the card as it is and says something."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def image_message(png: bytes, title: str) -> dict:
    """A picture (the digest's chart) as an inline image: base64 images do not count against
    Teams' message size limit."""
    data = base64.b64encode(png).decode("ascii")
    return {"type": "message", "text": title, "summary": title,
            "attachments": [{"contentType": "image/png", "contentUrl": f"data:image/png;base64,{data}",
                             "name": "gare-digest.png"}]}
