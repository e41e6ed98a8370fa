"""`gare demo`: the demo dataset, so a newcomer can try every command before any CRM import."""
from __future__ import annotations

from dataclasses import asdict

from handlers.reply import Context, Reply
from store.database import session_scope
from store.demo import load_demo


def load_demo_data(ctx: Context) -> Reply:
    with session_scope(ctx.engine) as session:
        report = load_demo(session, ctx.playbook, today=ctx.today(), actor=ctx.actor)
    return Reply("demo_loaded", asdict(report))
