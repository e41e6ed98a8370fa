"""Soak: two `gare serve` processes on one PostgreSQL under a bounded mixed load for
GARE_SOAK_SECONDS (30 by default; CI keeps it at most 60). Four people type slash commands as
fast as their answers come back, each command sent to one process or the other, and one in ten
delivered to both (a retry): Alice and her manager Claire set two different custom fields of
one account, Bruno and Claire move one deal between stages, Chloé reads lists.

Afterwards: no error and no busy answer, exactly one answer per command, every value the last
one its writer set (no lost update), one open stage stay per deal, and as many audit records
as changes sent."""
from __future__ import annotations

import os
import threading
import time
import urllib.parse
from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.render import render
from fake_slack import http, sign, wait_for
from handlers.reply import Reply
from slack_harness import FORM
from store.database import session_scope
from store.models import Account, AuditRecord, Deal, StageVisit
from test_serve_processes import two_servers  # noqa: F401  (the fixture)

SECONDS = float(os.environ.get("GARE_SOAK_SECONDS", "30"))
STAGES = ["qualification", "solution", "proposal", "negotiation"]

pytestmark = pytest.mark.soak


@pytest.fixture
def postgres_only(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the soak runs two server processes on PostgreSQL, the deployment docs/deploy.md describes")


def test_two_processes_under_mixed_load_lose_nothing_and_answer_each_command_once(postgres_only, engine,
                                                                                  two_servers):  # noqa: F811
    urls, slack, _ = two_servers
    with session_scope(engine) as s:
        account = s.exec(select(Account).where(Account.owner == "alice").order_by(Account.id)).first()
        deal = s.exec(select(Deal).where(Deal.owner == "bruno", Deal.status == "open").order_by(Deal.id)).first()
        account_id, deal_id = account.id, deal.id
    # What an error, a busy pool or an unreachable database would answer, in either language.
    ERRORS = [render(Reply("error", {"error": e}, ok=False), language=lang).strip()[:40]
              for e in ("internal", "busy", "unavailable") for lang in ("en", "fr")]
    sent: Counter = Counter()
    both = [0]
    sets = Counter()
    last: dict[str, str] = {}
    failures: list[str] = []
    counter = iter(range(10**9))
    lock = threading.Lock()

    def command(user: str, text: str) -> dict:
        n = next(counter)
        key = f"soak{n}"
        form = urllib.parse.urlencode({
            "token": "x", "team_id": "T1", "channel_id": "C_SALES", "user_id": user, "command": "/gare",
            "text": text, "response_url": f"{slack.base_url}/respond/{key}", "trigger_id": f"trigger-soak-{n}",
            "api_app_id": "A1"})
        targets = [urls[n % 2]] + ([urls[(n + 1) % 2]] if n % 10 == 0 else [])  # one in ten to both
        for url in targets:
            status, body = http(url + "/slack/events", form, sign(form), FORM)
            if status != 200:
                failures.append(f"{text}: HTTP {status} {body[:200]}")
        answer = wait_for(lambda: [b for k, b in slack.responses if k == key], timeout=20, what=text)[0]
        if any(e in answer.get("text", "") for e in ERRORS):
            failures.append(f"{text}: {answer.get('text', '')[:200]}")
        with lock:
            sent[key] += 1
            both[0] += len(targets) > 1
        return answer

    deadline = time.monotonic() + SECONDS

    def setter(user: str, field: str):
        i = 0
        while time.monotonic() < deadline and not failures:
            # Each value differs from the one before it (and from the demo's): each one a change.
            value = f"{user}-{i}" if field == "churn_reason" else f"{i % 100 - 50}.5"
            command(user, f"account #{account_id} set {field}={value}")
            last[field] = value
            sets[field] += 1
            i += 1

    def mover(user: str, offset: int):
        i = offset
        while time.monotonic() < deadline and not failures:
            command(user, f"deal #{deal_id} stage {STAGES[i % len(STAGES)]}")
            i += 1

    def reader():
        while time.monotonic() < deadline and not failures:
            command("U_CHLOE", "deals frozen" if next(counter) % 2 else "accounts")

    threads = [threading.Thread(target=setter, args=("U_ALICE", "nps")),
               threading.Thread(target=setter, args=("U_CLAIRE", "churn_reason")),
               threading.Thread(target=mover, args=("U_BRUNO", 0)), threading.Thread(target=mover, args=("U_CLAIRE", 2)),
               threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    assert failures == [], failures[:5]
    time.sleep(1.0)  # a second answer to a command sent to both, were there one, would be here by now
    answers = Counter(k for k, _ in slack.responses if k.startswith("soak"))
    assert set(answers) == set(sent) and set(answers.values()) == {1}, answers.most_common(3)
    with session_scope(engine) as s:
        custom = s.get(Account, account_id).custom
        stage = s.get(Deal, deal_id).stage
        open_stays = s.exec(select(StageVisit).where(StageVisit.deal_id == deal_id, StageVisit.left_at.is_(None))).all()
        updates = s.exec(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.entity == "account", AuditRecord.action == "update", AuditRecord.entity_id == account_id)).one()
    assert float(custom["nps"]) == float(last["nps"]) and custom["churn_reason"] == last["churn_reason"]
    assert [v.stage for v in open_stays] == [stage]
    assert updates == sum(sets.values()) and sets["nps"] > 0 and sets["churn_reason"] > 0
    print(f"\nsoak {SECONDS:.0f} s: {len(sent)} commands answered once each ({both[0]} delivered to both "
          f"processes), {sum(sets.values())} custom-field changes all audited, none lost; deal at {stage} with "
          f"one open stay")
