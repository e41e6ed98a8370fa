"""The Microsoft Teams shell: the same commands, cards, checklists, nudges and digests as in
Slack, as Adaptive Cards, on the Bot Framework. Every botbuilder import lives in app.py, so that
moving to Microsoft's successor SDK (microsoft-agents-*) touches that module alone; the other
modules here work on plain activity JSON and never import the SDK.

  settings.py   the environment: app id, password, tenant, app type (and test stand-ins)
  app.py        the Bot Framework side: authentication, the adapter, turns, proactive sends
  shell.py      what each activity means: registry calls, cards, forms, checklists
  people.py     who a Teams user is (AAD object id, UPN or e-mail, never a display name)
  cards.py      replies as Adaptive Cards (templates/teams) in message activities
  retry.py      pacing and retries towards the Bot Connector (429, 412, 502, 504)
  delivery.py   the weekly nudges and digests through stored conversation references
  sync.py       `gare people sync teams`: the rosters of the teams Gare is installed in
  package.py    `gare teams package`: the app package (manifest.json and icons) as a zip"""
from bot.teams.settings import TeamsSettings

__all__ = ["TeamsSettings"]
