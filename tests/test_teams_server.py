"""POST /api/messages as the Bot Framework channel and an attacker see it. Tokens are signed here
with a test key that the stand-in serves as the Bot Framework's OpenID metadata: a valid one is
accepted; missing, malformed, expired, wrongly signed, for another app, from another issuer, for
another tenant's conversation or another channel are all 401 (never 500) and change nothing."""
from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.server import make_web_app
from bot.teams import TeamsSettings
from fake_slack import Loop, http
from fake_teams import APP_ID, OTHER_TENANT, SigningKey
from store.database import session_scope
from store.models import TeamsConversation
from teams_harness import TeamsRig


def _row_counts(engine):
    with session_scope(engine) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def test_a_valid_token_is_accepted_and_the_reply_goes_to_the_activity(teams):
    activity = teams.activity(text="stages")
    assert teams.post(activity)[0] == 201
    [reply] = teams.fake.of("reply")
    assert (reply.conversation, reply.activity_id) == ("a:personal-alice", activity["id"])
    assert reply.body["replyToId"] == activity["id"]
    # The bot's own token, from the (stand-in) token endpoint, on every call to the connector.
    assert reply.headers["Authorization"].startswith("Bearer bot-token-")
    [token] = teams.fake.of("token")
    assert token.body["client_id"] == APP_ID and token.body["scope"] == "https://api.botframework.com/.default"


@pytest.mark.parametrize("case", ["missing", "not bearer", "malformed", "garbage jwt", "expired", "wrong signature",
                                  "unknown key", "wrong audience", "wrong issuer", "other service url",
                                  "other tenant", "other channel", "no tenant"])
def test_every_unauthenticated_request_gets_401_and_changes_nothing(teams, case):
    before = _row_counts(teams.engine)
    activity = teams.activity(text='account "Northwind Logistics" set margin_pct=1')
    url = teams.service_url
    token = {
        "missing": None,
        "not bearer": "Basic " + teams.fake.token_for(url),
        "malformed": "Bearer not-a-token",
        "garbage jwt": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln",
        "expired": "Bearer " + teams.fake.token_for(url, expires_in=-600),
        "wrong signature": "Bearer " + teams.fake.token_for(url, key=SigningKey()),
        "unknown key": "Bearer " + teams.fake.token_for(url, key=SigningKey("other-kid"), kid="other-kid"),
        "wrong audience": "Bearer " + teams.fake.token_for(url, audience="00000000-0000-4000-8000-000000000000"),
        "wrong issuer": "Bearer " + teams.fake.token_for(url, issuer="https://evil.example/issuer"),
        "other service url": "Bearer " + teams.fake.token_for("https://evil.example/"),
    }.get(case, "valid")
    if case == "other tenant":
        activity = teams.activity(text="stages", tenant=OTHER_TENANT)
    elif case == "other channel":
        activity["channelId"] = "webchat"
    elif case == "no tenant":
        activity["conversation"].pop("tenantId")
        activity["channelData"].pop("tenant")
    status, body = teams.post(activity, token=token)
    assert status == 401, (case, status, body)
    assert "Traceback" not in body
    time.sleep(0.05)
    assert teams.fake.posted() == [] and teams.fake.of("member") == []
    assert _row_counts(teams.engine) == before


def test_bad_requests_are_refused_without_a_trace(teams):
    assert teams.post("{not json", token="valid")[0] == 400
    assert teams.post(json.dumps({"text": "no type"}))[0] == 400
    assert teams.post(json.dumps(teams.activity(text="stages")), content_type="text/plain")[0] == 415
    assert teams.fake.posted() == []


def test_key_fetch_does_not_block_the_event_loop(teams):
    """The first request fetches the signing keys (slowly here); meanwhile the same server
    answers its health check at once: the fetch is not a blocking call in the event loop."""
    teams.fake.keys_delay = 1.0
    results = {}
    worker = threading.Thread(target=lambda: results.update(first=teams.post(teams.activity(text="stages"))))
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert teams.healthz()[0] == 200
    assert time.monotonic() - started < 0.5
    worker.join(10)
    assert results["first"][0] == 201 and teams.fake.key_fetches == 1
    assert teams.post(teams.activity(text="stages"))[0] == 201
    assert teams.fake.key_fetches == 1  # the keys are kept


def test_without_an_app_id_requests_are_accepted_for_local_development(engine, playbook):
    rig = TeamsRig(engine, playbook, authenticated=False)
    try:
        assert rig.post(rig.activity(text="stages"), token=None)[0] == 201
        assert rig.fake.of("token") == []  # nothing to sign in with
        assert "Authorization" not in rig.fake.posted()[0].headers
        # Configured tenants are still the only ones served.
        assert rig.post(rig.activity(text="stages", tenant=OTHER_TENANT), token=None)[0] == 401
    finally:
        rig.close()


def test_conversation_references_are_stored_once_per_person_and_channel(teams):
    teams.install("claire")
    teams.say("stages")
    teams.say("stages")
    teams.say("stages", where="channel")
    teams.say("tiers", where="channel")
    with session_scope(teams.engine) as s:
        rows = s.exec(select(TeamsConversation).order_by(TeamsConversation.id)).all()
    assert [(r.kind, r.conversation_id) for r in rows] == [
        ("personal", "a:personal-claire"), ("personal", "a:personal-alice"), ("channel", "19:sales@thread.tacv2")]
    alice = rows[1]
    assert alice.aad_object_id and alice.reference["conversation"]["id"] == "a:personal-alice"
    assert alice.reference["serviceUrl"] == teams.service_url and "activityId" not in alice.reference
    assert rows[2].team_id == "19:team-west@thread.tacv2"


def test_settings_from_the_environment():
    assert TeamsSettings.from_env({}) is None
    dev = TeamsSettings.from_env({"GARE_TEAMS_DEV": "1"})
    assert dev is not None and not dev.authenticated and dev.problem() is None
    full = TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s",
                                   "MicrosoftAppType": "singletenant", "MicrosoftAppTenantId": "T-1"})
    assert full.authenticated and full.app_type == "SingleTenant" and full.token_tenant == "t-1"
    assert full.served_tenants(()) == ("t-1",) and full.served_tenants(("x",)) == ("x",)
    assert TeamsSettings.from_env({"MicrosoftAppId": APP_ID}).problem() == "app_password"
    assert TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s",
                                   "MicrosoftAppType": "SingleTenant"}).problem() == "app_tenant"
    assert TeamsSettings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s",
                                   "MicrosoftAppType": "UserAssignedMSI"}).problem() == "app_type"


def test_api_messages_is_served_only_when_teams_is_configured(engine):
    loop = Loop()
    try:
        base = loop.serve(make_web_app(engine))
        assert http(base + "/api/messages", "{}", method="POST")[0] == 404
    finally:
        loop.close()


def test_gare_serve_says_how_teams_is_served(tmp_path, db_url, monkeypatch):
    """The start message: Teams on with its app and tenants, or a loud warning without auth."""
    from pathlib import Path

    from bot.cli import App, _parser
    from bot.render import render
    from bot.server import _teams_shell
    from handlers.reply import Reply

    config = tmp_path / "config.toml"
    text = (Path(__file__).resolve().parent.parent / "config.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("[teams.west]", '[teams]\ntenants = ["72F988BF-86f1-41af-91ab-2d7cd011db47"]\n\n'
                                   "[teams.west]", 1), encoding="utf-8")
    app = App(_parser().parse_args(["--config", str(config), "--db", db_url, "serve"]))

    def started(data):
        return render(Reply("serve_started", {"host": "h", "port": 1, "slack": False, "api_url": None,
                                              "socket_mode": False, "teams": data}))
    try:
        assert _teams_shell(app) == (None, {"on": False})
        monkeypatch.setenv("MicrosoftAppId", APP_ID)
        assert _teams_shell(app)[1]["problem"] == "app_password"
        monkeypatch.setenv("MicrosoftAppPassword", "s")
        shell, data = _teams_shell(app)
        assert shell is not None and data["tenants"] == ["72f988bf-86f1-41af-91ab-2d7cd011db47"]
        assert "/api/messages" in started(data) and "72f988bf" in started(data)
        monkeypatch.delenv("MicrosoftAppId")
        monkeypatch.setenv("GARE_TEAMS_DEV", "1")
        assert "TEAMS WITHOUT AUTHENTICATION" in started(_teams_shell(app)[1])
    finally:
        app.engine.dispose()
