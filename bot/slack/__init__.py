"""The Slack shell: slash commands, Block Kit cards, buttons and modals, qualification
checklists in deal threads and the App Home, all on the core grammar and handlers. No business
rule lives here: this package turns Slack payloads into handler calls and replies into Block Kit."""
from bot.slack.client import SlackSettings, make_web_client, message_for, post_reply
from bot.slack.app import SlackShell

__all__ = ["SlackSettings", "SlackShell", "make_web_client", "message_for", "post_reply"]
