"""Slash commands through `gare serve`, against a bare Bolt app served the same way.

    .venv/bin/python benchmarks/bench_serve.py [--db URL] [--users 16] [--seconds 30] [--commands ...]

Everything runs on 127.0.0.1. Two servers are started as child processes, one after the other:
- a bare Bolt app: slack-bolt's AsyncApp whose only listener acks `/gare`, behind the same
  aiohttp server and the same Bolt adapter as Gare (signature check included);
- `gare serve` itself (the real CLI), its SLACK_API_URL pointing at a stand-in for Slack's Web
  API run by this script, which also receives the response_url posts that carry the answers.

The load is closed-loop, as people type: each of `--users` simulated users sends a slash command
signed as Slack signs it, waits for the HTTP acknowledgement, then (Gare only) for the answer to
reach the stand-in, and sends the next one. Measured per server, after a warm-up:
- acknowledgement latency (request sent -> HTTP 200) and, for Gare, answer-visible latency
  (request sent -> the response_url POST arrives at the stand-in), p50/p99/max;
- the rate: acknowledgements per second for the bare app, real answers per second for Gare
  (a "busy, try again" reply is counted apart, not as an answer); their ratio;
- the server's peak resident memory (VmHWM) and CPU time per request.

The commands are read from the database (its accounts, deals and directory), so the benchmark runs
on the demo data (loaded when the database has no account) and on a large seeded book alike.
Without --db, a fresh SQLite file with the demo data is used. `measure(...)` returns the figures
as a dict; the command line prints them (and writes them as JSON with --json FILE); `run(url,
results)` is the suite's entry point (benchmarks/README.md), appending them to results["figures"]."""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
FORM = "application/x-www-form-urlencoded"
ANSWER_TIMEOUT = 10.0   # seconds a simulated user waits for an answer before counting it missing
SLACK_LIMIT = 3.0       # Slack shows an error when a command is not acknowledged within 3 s
# What a team types most: lookups by name, their lists, their own position. `{account}` and
# `{deal}` are filled with names from the database, in turn.
DEFAULT_COMMANDS = ("fit {account}", "account {account}", 'deal "{deal}"', "accounts", "tiers", "deals frozen",
                    "fit {typo}", "whoami", "nudge")


# --- signing and the stand-in for Slack -------------------------------------------------------------

def signed_headers(body: str, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": FORM}


class StandIn:
    """Slack's Web API (users.info answers with the directory's e-mail addresses) and the
    receiver of response_url posts, whose arrival times are the answer-visible times."""

    def __init__(self, people: dict[str, str]):
        self.people = people  # Slack user id -> e-mail
        self.waiting: dict[str, asyncio.Future] = {}
        self.calls: dict[str, int] = {}
        self.stray = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/respond/{key}", self.respond)
        return app

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[method] = self.calls.get(method, 0) + 1
        form = dict(request.query) | dict(urllib.parse.parse_qsl((await request.read()).decode()))
        if method == "users.info":
            user = form.get("user", "")
            email = self.people.get(user)
            if email is None:
                return web.json_response({"ok": False, "error": "user_not_found"})
            return web.json_response({"ok": True, "user": {
                "id": user, "name": email.split("@")[0], "real_name": email.split("@")[0], "locale": "en-US",
                "profile": {"email": email, "real_name": email.split("@")[0]}}})
        return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": form.get("channel", "C1")})

    async def respond(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        future = self.waiting.pop(request.match_info["key"], None)
        if future is not None and not future.done():
            future.set_result((arrived, body))
        else:
            self.stray += 1
        return web.Response(text="ok")


# --- the servers ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_bare_bolt(port: int) -> None:
    """The reference: Bolt with one listener that only acks, on Gare's HTTP stack (aiohttp, the
    Bolt aiohttp adapter, an `authorize` that needs no call to Slack)."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    async def authorize(enterprise_id, team_id, user_id):
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=TOKEN)

    bolt = AsyncApp(signing_secret=SECRET, authorize=authorize, process_before_response=False, name="bare")

    @bolt.command("/gare")
    async def ack_only(ack):
        await ack()

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


class Server:
    """A server in a child process: started, waited for, measured (memory, CPU), stopped."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str]):
        self.port = port
        self.process = subprocess.Popen(argv, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server stopped: " + self.process.stderr.read().decode()[-2000:])
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the server did not start")

    def pids(self) -> list[int]:
        """The server and any child processes it started."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                children = []
            todo.extend(int(c) for c in children)
        return found

    def peak_rss_mb(self) -> list[float]:
        peaks = []
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
        return peaks

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
            except OSError:
                pass
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- what the simulated users type ---------------------------------------------------------------

def book(db_url: str, users: int) -> tuple[dict[str, str], list[str], list[str]]:
    """From the database: Slack ids for up to `users` people of the directory (id -> e-mail), and
    account and deal names to ask about. Loads the demo data into a database with no account."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from store.database import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM account LIMIT 1")).first():
                subprocess.run([sys.executable, "-m", "bot", "--db", db_url, "demo"], cwd=str(ROOT), check=True,
                               stdout=subprocess.DEVNULL)
        with engine.connect() as conn:
            people = conn.execute(text("SELECT owner, email FROM person WHERE active AND email IS NOT NULL "
                                       "AND role IN ('rep', 'manager') ORDER BY id LIMIT :n"), {"n": users}).all()
            accounts = [r[0] for r in conn.execute(text("SELECT name FROM account ORDER BY id LIMIT 50"))]
            deals = [r[0] for r in conn.execute(text("SELECT name FROM deal WHERE status = 'open' ORDER BY id "
                                                     "LIMIT 50"))]
    finally:
        engine.dispose()
    if not people:
        raise SystemExit("the database has no person with an e-mail address: import people or load the demo")
    ids = {f"UB{i:03d}{owner.upper()[:8]}": email for i, (owner, email) in enumerate(people)}
    return ids, accounts, deals


def command_texts(templates: tuple[str, ...], accounts: list[str], deals: list[str]):
    """An endless cycle of commands with names filled in turn."""
    names, deal_names = itertools.cycle(accounts or ["Acme"]), itertools.cycle(deals or ["Acme"])
    for template in itertools.cycle(templates):
        account = next(names)
        yield template.format(account=account, deal=next(deal_names), typo=account[:-2] + account[-1:])


# --- the load ------------------------------------------------------------------------------------

def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": _percentile(ms, 50), "p99_ms": _percentile(ms, 99),
            "max_ms": max(ms) if ms else None, "mean_ms": statistics.fmean(ms) if ms else None}


async def load(url: str, standin: StandIn | None, user_ids: list[str], texts, *, users: int, seconds: float,
               warmup: float, busy_text: str) -> dict:
    """`users` closed-loop users for warmup + seconds; only what starts after the warm-up counts."""
    counter = itertools.count()
    acks, answers, per_command = [], [], {}
    counts = {"sent": 0, "acked": 0, "answered": 0, "busy": 0, "missing": 0, "errors": 0, "over_3s": 0}
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + seconds

    async def user(n: int, session: ClientSession) -> None:
        user_id = user_ids[n % len(user_ids)]
        while time.perf_counter() < stop_at:
            key = f"k{next(counter)}"
            text = next(texts)
            form = urllib.parse.urlencode({
                "token": "x", "team_id": "T1", "team_domain": "bench", "channel_id": "C_BENCH",
                "user_id": user_id, "user_name": user_id, "command": "/gare", "text": text,
                "response_url": f"{standin_url}/respond/{key}" if standin else "http://127.0.0.1:9/respond/x",
                "trigger_id": f"{key}.{int(time.time())}", "api_app_id": "A1"})
            future = None
            if standin is not None:
                future = asyncio.get_running_loop().create_future()
                standin.waiting[key] = future
            sent = time.perf_counter()
            counted = sent >= measure_from
            try:
                async with session.post(url, data=form, headers=signed_headers(form)) as response:
                    await response.read()
                    ok = response.status == 200
            except Exception:
                ok = False
            acked = time.perf_counter()
            if counted:
                counts["sent"] += 1
            if not ok:
                if counted:
                    counts["errors"] += 1
                if standin is not None:
                    standin.waiting.pop(key, None)
                await asyncio.sleep(0.05)
                continue
            if counted:
                counts["acked"] += 1
                acks.append(acked - sent)
                counts["over_3s"] += acked - sent > SLACK_LIMIT
            if future is None:
                continue
            try:
                arrived, body = await asyncio.wait_for(future, ANSWER_TIMEOUT)
            except asyncio.TimeoutError:
                standin.waiting.pop(key, None)
                if counted:
                    counts["missing"] += 1
                continue
            if not counted:
                continue
            if busy_text in (body.get("text") or ""):
                counts["busy"] += 1
                continue
            counts["answered"] += 1
            answers.append(arrived - sent)
            counts["over_3s"] += arrived - sent > SLACK_LIMIT
            per_command.setdefault(text.split()[0] if "{" not in text else text, []).append(arrived - sent)

    standin_url = getattr(standin, "url", "")
    async with ClientSession(connector=TCPConnector(limit=users), timeout=ClientTimeout(total=30)) as session:
        await asyncio.gather(*(user(n, session) for n in range(users)))
    elapsed = time.perf_counter() - measure_from
    result = {"seconds": round(elapsed, 2), **counts, "ack": _summary(acks),
              "ack_rate": round(counts["acked"] / elapsed, 1)}
    if standin is not None:
        result["answer"] = _summary(answers)
        result["answer_rate"] = round(counts["answered"] / elapsed, 1)
        result["by_command"] = {k: _summary(v) for k, v in sorted(per_command.items())}
    return result


def busy_reply_text() -> str:
    sys.path.insert(0, str(ROOT))
    from bot.render import render
    from handlers.reply import Reply

    return render(Reply("error", {"error": "busy"}, ok=False), language="en").strip().splitlines()[0][:40]


async def _run(db: str, users: int, seconds: float, warmup: float, bare: bool,
               commands: tuple[str, ...], config: str | None) -> dict:
    people, accounts, deals = book(db, users)
    texts = command_texts(commands, accounts, deals)
    standin = StandIn(people)
    runner = web.AppRunner(standin.app(), access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    standin.url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT", "GARE_TEAMS"))}
    env.update(SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=standin.url + "/api/",
               GARE_LOG_LEVEL=os.environ.get("GARE_LOG_LEVEL", "WARNING"), PYTHONUNBUFFERED="1")
    result: dict = {"db": db.split("@")[-1], "users": users, "seconds": seconds,
                    "commands": list(commands), "accounts_sampled": len(accounts)}
    busy = busy_reply_text()
    ids = list(people)
    try:
        if bare:
            port = free_port()
            server = Server([sys.executable, __file__, "--bare-bolt-server", str(port)], port, env)
            try:
                await server.ready()
                cpu0 = server.cpu_seconds()
                result["bare_bolt"] = await load(server.url, None, ids, texts, users=users, seconds=seconds,
                                                 warmup=warmup, busy_text=busy)
                result["bare_bolt"]["cpu_ms_per_request"] = round(
                    (server.cpu_seconds() - cpu0) * 1000 / max(1, result["bare_bolt"]["sent"]), 2)
                result["bare_bolt"]["peak_rss_mb"] = [round(m, 1) for m in server.peak_rss_mb()]
            finally:
                server.stop()
        port = free_port()
        argv = [sys.executable, "-m", "bot", "--db", db] + (["--config", config] if config else []) + [
            "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(argv, port, env)
        try:
            await server.ready()
            cpu0 = server.cpu_seconds()
            gare = await load(server.url, standin, ids, texts, users=users, seconds=seconds, warmup=warmup,
                              busy_text=busy)
            gare["cpu_ms_per_answer"] = round((server.cpu_seconds() - cpu0) * 1000 / max(1, gare["answered"]), 2)
            peaks = server.peak_rss_mb()
            gare["peak_rss_mb"] = [round(m, 1) for m in peaks]
            result["gare"] = gare
        finally:
            server.stop()
        result["web_api_calls"] = dict(standin.calls)
    finally:
        await runner.cleanup()
    if bare and result["bare_bolt"]["ack_rate"]:
        result["ratio"] = round(result["gare"]["answer_rate"] / result["bare_bolt"]["ack_rate"], 3)
    return result


def measure(db: str | None = None, *, users: int = 16, seconds: float = 30.0, warmup: float = 5.0,
            bare: bool = True, commands: tuple[str, ...] | list[str] = DEFAULT_COMMANDS,
            config: str | None = None) -> dict:
    """The benchmark, as a dict of figures. Without `db`, a fresh SQLite file with the demo data."""
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(db or f"sqlite:///{tmp}/gare.db", users, seconds, warmup, bare,
                                tuple(commands), config))


def run(engine_url: str, results: dict) -> None:
    """The suite's entry point (benchmarks/README.md): issue 10's targets 3 and 4 for gare serve."""
    users, seconds = 16, 30.0
    found = measure(engine_url, users=users, seconds=seconds, config=results.get("config"))
    gare, bare = found["gare"], found["bare_bolt"]
    command = f"python benchmarks/bench_serve.py --db URL --users {users} --seconds {seconds:g}"
    note = f"{users} closed-loop users on loopback, {seconds:g} s after a 5 s warm-up, commands: " + \
        "; ".join(found["commands"])

    def figure(name, value, unit, target=None, met=None):
        results["figures"].append({"benchmark": "serve", "name": name, "value": value, "unit": unit,
                                   "target": target, "met": met, "command": command, "note": note})
    figure("bare Bolt, acknowledgements", bare["ack_rate"], "/s")
    figure("gare serve, answers", gare["answer_rate"], "/s")
    figure("answers / bare Bolt acknowledgements", found.get("ratio"), "x", ">= 0.8",
           None if found.get("ratio") is None else found["ratio"] >= 0.8)
    p99 = gare["answer"]["p99_ms"]
    figure("answer visible, p99", p99, "ms", "< 1 s", None if p99 is None else p99 < 1000)
    figure("acknowledgement, p99", gare["ack"]["p99_ms"], "ms")
    figure("answers or acks over 3 s", gare["over_3s"] + gare["missing"], "", "0",
           gare["over_3s"] + gare["missing"] == 0)
    figure("busy replies", gare["busy"], "")
    peak = max(gare["peak_rss_mb"] or [0])
    figure("gare serve peak RSS", peak, "MB", "<= 300 MB", peak <= 300)


def report(result: dict) -> str:
    def fmt(x):
        return "-" if x is None else f"{x:.0f}" if x >= 10 else f"{x:.1f}"
    lines = [f"database {result['db']}, {result['users']} users, {result['seconds']} s measured, "
             "one gare serve process"]
    if "bare_bolt" in result:
        b = result["bare_bolt"]
        lines.append(f"bare Bolt  ack {b['ack_rate']:7.1f}/s   ack p50 {fmt(b['ack']['p50_ms'])} ms  "
                     f"p99 {fmt(b['ack']['p99_ms'])} ms   cpu {b['cpu_ms_per_request']} ms/request")
    g = result["gare"]
    lines.append(f"gare serve answered {g['answer_rate']:7.1f}/s   ack p99 {fmt(g['ack']['p99_ms'])} ms   "
                 f"answer p50 {fmt(g['answer']['p50_ms'])} ms  p99 {fmt(g['answer']['p99_ms'])} ms  "
                 f"max {fmt(g['answer']['max_ms'])} ms")
    lines.append(f"           busy {g['busy']}  missing {g['missing']}  errors {g['errors']}  over 3 s {g['over_3s']}"
                 f"   cpu {g['cpu_ms_per_answer']} ms/answer   peak RSS {g['peak_rss_mb']} MB")
    for command, s in g.get("by_command", {}).items():
        lines.append(f"           {command:10} n {s['n']:5}  p50 {fmt(s['p50_ms'])} ms  p99 {fmt(s['p99_ms'])} ms")
    if "ratio" in result:
        lines.append(f"ratio (gare answers / bare Bolt acks): {result['ratio']:.2f}")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-bolt-server":
        serve_bare_bolt(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file with the demo data)")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Bolt reference")
    parser.add_argument("--commands", help="';'-separated commands; {account}, {deal}, {typo} are filled in")
    parser.add_argument("--config", help="the playbook gare serve uses (default: its own lookup)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    commands = tuple(c.strip() for c in args.commands.split(";")) if args.commands else DEFAULT_COMMANDS
    result = measure(args.db, users=args.users, seconds=args.seconds, warmup=args.warmup,
                     bare=not args.no_bare, commands=commands, config=args.config)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
