"""The weekly jobs on their schedules (APScheduler, in the playbook's time zone): rep nudges
and manager digests. Runs as its own process (`gare scheduler`, the Procfile's clock) or inside
`gare serve`. Any number of them may run against one PostgreSQL: the send ledger lets each
message go out once."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.nudges import as_couriers, run_weekly

log = logging.getLogger("gare.scheduler")
RESUME_EVERY_MINUTES = 5  # how soon a dead run's unsent messages go out without anyone's help


def rep_trigger(playbook) -> CronTrigger:
    """Every day at the rep schedule's time: each rep's nudge goes out on their own day (the
    schedule's weekday unless they chose another with `settings day=...`)."""
    cron = CronTrigger.from_crontab(playbook.nudges.rep_cron, timezone=playbook.tz)
    fields = {f.name: str(f) for f in cron.fields}
    return CronTrigger(minute=fields["minute"], hour=fields["hour"], timezone=playbook.tz)


def manager_trigger(playbook) -> CronTrigger:
    return CronTrigger.from_crontab(playbook.nudges.manager_cron, timezone=playbook.tz)


def weekly_jobs(engine, playbook, make_courier, clock=lambda: datetime.now(timezone.utc)):
    """(name, trigger, function) for each job; the scheduler shells add them. Each run gets its
    own couriers (their own event loops), so two jobs in two threads never share one.
    `make_courier` returns a courier, or several (one per platform)."""
    from bot.delivery import chart_for

    def run(kind: str, **options):
        couriers = as_couriers(make_courier())
        try:
            summary = run_weekly(engine, playbook, kind=kind, clock=clock, couriers=couriers, **options)
        finally:
            for courier in couriers.values():
                courier.close()
        if summary.sent or summary.failed or summary.found_sent or not options.get("resume_only"):
            log.info("%s %s: sent %s, found already sent %s, failed %s", summary.kind, summary.period,
                     summary.sent, summary.found_sent, summary.failed)

    def reps():
        run("reps", due_today_only=True)

    def managers():
        run("managers", chart_maker=chart_for)

    def resume():
        # A run that died (killed, redeployed) left claims nobody settles: each message is looked
        # for in the recipient's chat, recorded when there, else sent. Nothing else is touched.
        run("reps", resume_only=True)
        run("managers", resume_only=True, chart_maker=chart_for)

    return [("rep_nudges", rep_trigger(playbook), reps), ("manager_digest", manager_trigger(playbook), managers),
            ("resume_weekly", IntervalTrigger(minutes=RESUME_EVERY_MINUTES, timezone=playbook.tz), resume)]


def add_weekly_jobs(scheduler, engine, playbook) -> bool:
    """False when no chat platform is configured to post on."""
    from bot.delivery import couriers_from_environment

    found = couriers_from_environment(engine, playbook)
    for courier in found.values():
        courier.close()
    if not found:
        return False
    make = lambda: couriers_from_environment(engine, playbook)  # noqa: E731
    for name, trigger, job in weekly_jobs(engine, playbook, make):
        # One run at a time per job; a missed run (process down) is caught up within the hour.
        scheduler.add_job(job, trigger, id=name, max_instances=1, coalesce=True, misfire_grace_time=3600)
    scheduler.add_job(lambda: reassess(engine, playbook), reassess_trigger(playbook), id="reassess",
                      max_instances=1, coalesce=True, misfire_grace_time=3600)
    return True


def reassess_trigger(playbook) -> CronTrigger:
    """Just after midnight: a stored assessment holds for one day (days since the last contact)."""
    return CronTrigger(hour=0, minute=5, timezone=playbook.tz)


def reassess(engine, playbook) -> int:
    """Stores the day's assessment of every account, so the first list read of the day is fast."""
    from handlers.records import refresh_assessments, refresh_skipped
    from handlers.reply import Context

    ctx = Context(engine=engine, playbook=playbook, actor="scheduler")
    count = refresh_assessments(ctx)
    log.info("reassess: %s accounts, %s deals", count, refresh_skipped(ctx))
    return count


def run_scheduler(app) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from handlers.reply import Reply

    scheduler = BlockingScheduler(timezone=app.playbook.tz)
    if not add_weekly_jobs(scheduler, app.engine, app.playbook):
        app.show(Reply("digest_no_platform", {}, ok=False))
        return 1
    app.show(Reply("scheduler_started", {"rep_cron": app.playbook.nudges.rep_cron,
                                         "manager_cron": app.playbook.nudges.manager_cron,
                                         "timezone": app.playbook.timezone}))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0
