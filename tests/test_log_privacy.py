"""No secret, token or personal data in the logs, at any level: Gare redacts every log record as
it is made (bot/logs.py), whoever logs it (Gare, Bolt, the Slack SDK, the Bot Framework, aiohttp)."""
from __future__ import annotations

import logging

from fake_slack import BOT_TOKEN, SIGNING_SECRET, USERS
from fake_teams import APP_PASSWORD, MEMBERS

E_MAILS = sorted({u["profile"]["email"] for u in USERS.values() if u["profile"].get("email")}
                 | {m["email"] for m in MEMBERS.values() if m.get("email")})


def _leaks(caplog, secrets) -> list[str]:
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    return [s for s in secrets if s in text]


def test_a_slack_command_with_debug_logging_leaks_no_secret_nor_e_mail(rig, caplog):
    caplog.set_level(logging.DEBUG)
    rig.wait_response(rig.command("whoami", user="U_NOBODY"))  # looked up: users.info, with the e-mail
    rig.wait_response(rig.command("accounts"))
    logging.getLogger("gare.test").debug("token %s, secret=%s, Authorization: Bearer abc.def-ghi, db "
                                         "postgresql://gare:s3cr3t-pw@db.example.com/gare", BOT_TOKEN, SIGNING_SECRET)
    assert len(caplog.records) > 10  # the platform's own debug logs were on
    assert _leaks(caplog, [BOT_TOKEN, SIGNING_SECRET, "s3cr3t-pw", "abc.def-ghi", *E_MAILS]) == []


def test_a_teams_message_with_debug_logging_leaks_no_secret_nor_e_mail(teams, caplog):
    caplog.set_level(logging.DEBUG)
    teams.say("whoami", user="zed")
    teams.say("accounts")
    bearer = teams.fake.token_for(teams.service_url)
    # What the Bot Framework's HTTP logger writes when turned on: the request's headers and body.
    logging.getLogger("msrest.http_logger").debug("Request headers: %r body: %s",
                                                  {"Authorization": f"Bearer {bearer}"},
                                                  '{"client_secret": "%s", "upn": "zed@example.com"}' % APP_PASSWORD)
    assert len(caplog.records) > 5
    assert _leaks(caplog, [APP_PASSWORD, bearer, *E_MAILS]) == []


def test_what_the_redaction_leaves_readable():
    from bot.logs import redact

    line = redact("user U_ALICE (alice@example.com) token=xoxp-1-abc db=postgresql+psycopg://gare:pw1234@db:5432/gare "
                  "app xapp-1-A0-123 Authorization: Bearer eyJ0eXAi.eyJpc3Mi.sig")
    assert line == ("user U_ALICE ([e-mail]) token=[redacted] db=postgresql+psycopg://gare:[redacted]@db:5432/gare "
                    "app [redacted] Authorization: Bearer [redacted]")
