"""Every command Gare understands, declared once beside its handler: its command words (English
and French, in playbook/words.py), its syntax, the permission it needs, whether its reply may be
shared in a channel, the replies it can return, and its help examples. The grammar, dispatch,
`help`, the shells' "share" rule and the permission check are all derived from these
declarations, and `run` is the one place where a refusal or an unexpected failure becomes a
polite reply, for every shell.

Adding a command: declare it below, write its handler in handlers/<family>.py, its templates
in templates/{text,slack,teams}/, its help line in templates/text/_help.txt.j2, and the
catalog lines; tests/test_registry.py walks the declarations."""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from handlers import accounts, actions, checklist, deals, decisions, digest, fit, history, people, settings
from handlers import plans as plan_commands
from handlers.grammar import (
    QUESTION_PATTERNS, Syntax, Tail, assignments_tail, filters_tail, items_tail, match, owner_tail, snooze_tail,
    split_keyword, stage_tail, strip_quotes, text_tail,
)
from handlers.plans_syntax import (
    answer_tail, goal_tail, kpi_tail, number_tail, plans_tail, review_tail, rival_tail, stakeholder_tail, task_tail,
    whitespace_tail,
)
from handlers.reply import Context, Refusal, Reply, unavailable
from playbook.permissions import PERMISSIONS
from playbook.words import COMMAND_WORDS, KEYWORD_OF, KEYWORDS, command_family, first_word, fold
from store.database import STORAGE_FAILURES, failure_kind, unreachable

log = logging.getLogger("gare.handlers")


@dataclass(frozen=True)
class Command:
    name: str                       # also the name of its main reply template
    family: str                     # the command word it starts with (playbook/words.py)
    handler: Callable[..., Reply]
    syntax: tuple[Syntax, ...]      # the ways to write it after the command word, tried in order
    replies: tuple[str, ...]        # every template its handler can return (besides "error")
    permission: str = "read"        # playbook/permissions.py
    shareable: bool = False         # its reply only shows data: a chat may offer "Share in channel"
    topic: str = ""                 # the help topic it is listed under (default: its family)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> as typed

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"{self.name}: unknown permission {self.permission!r}")
        if not self.topic:
            object.__setattr__(self, "topic", self.family)
        # The syntax must produce exactly the handler's parameters: a wrong name fails here, at
        # import, not when a user types the command.
        wanted = [p for p in inspect.signature(self.handler).parameters if p != "ctx"]
        for syntax in self.syntax:
            given = syntax.params()
            missing = [p for p in given if p not in wanted]
            if missing:
                raise TypeError(f"{self.name}: {self.handler.__qualname__} takes no {missing}")


def _cmd(name: str, family: str, handler, *syntax: Syntax, replies: tuple[str, ...] = (), **kw) -> Command:
    return Command(name, family, handler, tuple(syntax), replies or (name,), **kw)


NAME = "name"
COMMANDS: tuple[Command, ...] = (
    _cmd("help", "help", lambda ctx, topic=None: help_(ctx, topic),
         Syntax("rest", tail=text_tail("topic", "[COMMAND]", optional=True)), permission="anyone", examples={"en": ("help", "help deal"), "fr": ("aide", "aide affaire")}),
    _cmd("whoami", "whoami", people.whoami, Syntax("none"), permission="anyone",
         examples={"en": ("whoami", "who am I?"), "fr": ("qui suis-je ?",)}),
    _cmd("fit", "fit", fit.fit, Syntax("name", name="account", fixed={}), shareable=True,
         examples={"en": ("fit Acme", "is Acme a fit?"), "fr": ("adéquation Acme", "est-ce que Acme convient ?")}),
    _cmd("account_set", "account", accounts.account_set,
         Syntax("keyword", name="account", keyword="set", tail=assignments_tail("changes")),
         permission="change", topic="account",
         examples={"en": ("account Acme set margin_pct=18 exec_sponsor=yes", "account Acme set profile=expand"),
                   "fr": ("compte Acme modifier marge=18 sponsor=oui", "compte Acme modifier profil=étendre")}),
    _cmd("account_decide", "account", decisions.account_decide,
         Syntax("keyword", name="account", keyword="decide", first=True, tail=Tail(
             lambda t, c: _decision(t, c), ("decision", "reason"), "end|keep|raised [REASON]")),
         permission="change", topic="account", replies=("account_decision",),
         examples={"en": ("account Acme decide raised margins reviewed with their CFO",),
                   "fr": ("compte Acme décider fin marges intenables",)}),
    _cmd("account", "account", accounts.account, Syntax("name", name="account"), shareable=True,
         examples={"en": ("account Acme",), "fr": ("compte Acme",)}),
    _cmd("accounts", "accounts", accounts.accounts, Syntax("rest", tail=filters_tail(allow_profile=True, paged=True)),
         shareable=True,
         examples={"en": ("accounts expand tier=1 owner=@me",), "fr": ("comptes garder niveau=1 propriétaire=@moi",)}),
    _cmd("deal_stage", "deal", deals.deal_stage,
         Syntax("keyword", name="deal", keyword="stage", tail=stage_tail(), first=True),
         permission="change", replies=("deal_stage", "misfit_gate"),
         examples={"en": ("deal Acme Renewal stage proposal", "deal Acme Renewal stage proposal confirm CFO signed"),
                   "fr": ("affaire Acme Renewal étape proposition",)}),
    _cmd("deal_nurture", "deal", deals.deal_nurture,
         Syntax("keyword", name="deal", keyword="nurture", tail=text_tail("reason", "[REASON]", optional=True),
                first=True),
         permission="change",
         examples={"en": ("deal Acme Renewal nurture budget frozen until next year",),
                   "fr": ("affaire Acme Renewal maturation budget gelé jusqu'à l'an prochain",)}),
    _cmd("deal_snooze", "deal", deals.deal_snooze,
         Syntax("keyword", name="deal", keyword="snooze", tail=snooze_tail(), first=True),
         permission="change",
         examples={"en": ("deal Acme Renewal snooze 2027-01-15 budget signed in January",),
                   "fr": ("affaire Acme Renewal reporter 2027-01-15 budget signé en janvier",)}),
    _cmd("deal_set", "deal", deals.deal_set,
         Syntax("keyword", name="deal", keyword="set", tail=assignments_tail("changes")),
         permission="change",
         examples={"en": ("deal Acme Renewal set kind=renewal", "deal Acme Renewal set amount=48000 close_date=2027-03-31"),
                   "fr": ("affaire Acme Renewal modifier type=renouvellement",
                          "affaire Acme Renewal modifier montant=48000 clôture=2027-03-31")}),
    _cmd("deal", "deal", deals.deal, Syntax("name", name="deal"), shareable=True,
         examples={"en": ("deal Acme Renewal",), "fr": ("affaire Acme Renewal",)}),
    _cmd("deals_frozen", "deals", deals.deals_frozen, Syntax("lead", keyword="frozen", tail=owner_tail(paged=True)),
         shareable=True, examples={"en": ("deals frozen", "deals frozen alice"), "fr": ("affaires gelées",)}),
    _cmd("deals_skipped", "deals", deals.deals_skipped, Syntax("lead", keyword="skipped", tail=owner_tail(paged=True)),
         shareable=True, examples={"en": ("deals skipped", "deals skipped owner=alice"),
                                   "fr": ("affaires sautées",)}),
    _cmd("checklist_answer", "checklist", checklist.checklist_answer,
         Syntax("keyword", name=NAME, keyword="tick", tail=items_tail("yes")),
         Syntax("keyword", name=NAME, keyword="untick", tail=items_tail("no")),
         Syntax("assign", name=NAME, tail=assignments_tail("answers", "ITEM=yes|no …")),
         replies=("checklist",), permission="change", topic="checklist",
         examples={"en": ("checklist Acme Renewal tick budget", "checklist Acme Renewal no_exec_sponsor=no"),
                   "fr": ("grille Acme Renewal cocher budget",)}),
    _cmd("checklist", "checklist", checklist.checklist, Syntax("name", name=NAME),
         examples={"en": ("checklist Acme Renewal",), "fr": ("grille Acme Renewal",)}),
    _cmd("tiers", "tiers", accounts.tiers, Syntax("rest", tail=filters_tail(allow_profile=False)), shareable=True,
         examples={"en": ("tiers", "tiers owner=@me"), "fr": ("niveaux",)}),
    _cmd("stages", "stages", deals.stages, Syntax("none"), shareable=True,
         examples={"en": ("stages",), "fr": ("étapes",)}),
    _cmd("nudge", "nudge", digest.nudge, Syntax("rest", tail=owner_tail(widen=False)), permission="self",
         replies=("rep_nudge", "rep_nudge_empty"),
         examples={"en": ("nudge", "nudge alice"), "fr": ("relance",)}),
    _cmd("action_done", "done", actions.action_done,
         Syntax("last", name="account", tail=Tail(lambda t, c: {"number": t}, ("number",), "N")),
         permission="change", topic="done", examples={"en": ("done Acme 2",), "fr": ("fait Acme 2",)}),
    _cmd("settings", "settings", settings.settings,
         Syntax("rest", tail=assignments_tail("changes", "[day=DAY] [mute=CATEGORY] [unmute=CATEGORY] [platform=slack|teams]",
                                              optional=True)),
         permission="self",
         examples={"en": ("settings day=tuesday mute=skipped", "settings unmute=skipped day=default",
                          "settings platform=teams"),
                   "fr": ("réglages jour=mardi", "réglages plateforme=teams")}),
    # Account plans (seed 003): every plan command is listed under `help plan`.
    _cmd("plan_goal", "plan", plan_commands.plan_goal,
         Syntax("keyword", name="account", keyword="goal", tail=goal_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('plan Acme goal "5% more subscribers to the newsletter" by 30 June',),
                   "fr": ("plan Acme objectif « 5 % d'abonnés en plus à la newsletter » d'ici le 30 juin",)}),
    _cmd("plan_answer", "plan", plan_commands.plan_answer,
         Syntax("keyword", name="account", keyword="answer", tail=answer_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('plan Acme answer 2 "Legacy systems and a hiring freeze"',),
                   "fr": ("plan Acme réponse 2 « Des systèmes anciens et un gel des embauches »",)}),
    _cmd("plan_review", "plan", plan_commands.plan_review,
         Syntax("keyword", name="account", keyword="review", first=True), shareable=True, topic="plan",
         examples={"en": ("plan Acme review",), "fr": ("plan Acme revue",)}),
    _cmd("plan_review_save", "plan", plan_commands.plan_review_save,
         Syntax("keyword", name="account", keyword="review", tail=review_tail(), first=True),
         replies=("plan_review", "plan_saved"), permission="change", topic="plan",
         examples={"en": ('plan Acme review worked="the pilot won the CFO over" did_not="legal took three months"',
                          "plan Acme review close"),
                   "fr": ('plan Acme bilan réussi="le pilote a convaincu la DAF" à_améliorer="le juridique a pris '
                          'trois mois"', "plan Acme revue clore")}),
    _cmd("plan_export", "plan", plan_commands.plan_export,
         Syntax("keyword", name="account", keyword="export", first=True), topic="plan",
         examples={"en": ("plan Acme export",), "fr": ("plan Acme exporter",)}),
    _cmd("plan", "plan", plan_commands.plan, Syntax("name", name="account"), shareable=True, topic="plan",
         examples={"en": ("plan Acme",), "fr": ("plan Acme",)}),
    _cmd("plans", "plans", plan_commands.plans, Syntax("rest", tail=plans_tail()), shareable=True, topic="plan",
         examples={"en": ("plans", "plans alice page=2"), "fr": ("plans", "plans tous")}),
    _cmd("task_add", "task", plan_commands.task_add,
         Syntax("keyword", name="account", keyword="add", tail=task_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('task Acme add "Send the ROI study to the CFO" owner=alice due=2026-04-15',
                          'task Acme add "Security questionnaire" owner=client:Jeanne Roy due=30 April'),
                   "fr": ("tâche Acme ajouter « Envoyer l'étude de ROI à la DAF » responsable=alice échéance=15/04",)}),
    _cmd("task_done", "task", plan_commands.task_done,
         Syntax("numbered", name="account", keyword="task_done", tail=number_tail()),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ("task Acme 1 done",), "fr": ("tâche Acme 1 faite",)}),
    _cmd("kpi", "kpi", plan_commands.kpi, Syntax("rest", tail=kpi_tail()), replies=("plan_saved",),
         permission="change", topic="plan",
         examples={"en": ("kpi Acme churn 4.2", "kpi Acme churn target=3"),
                   "fr": ("indicateur Acme attrition 4,2 2026-03-01", "indicateur Acme attrition cible=3")}),
    _cmd("stakeholder_add", "stakeholder", plan_commands.stakeholder_add,
         Syntax("keyword", name="account", keyword="add", tail=stakeholder_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('stakeholder Acme add "Jeanne Roy" role=CFO department=Finance attitude=champion '
                          'needs="a clear ROI"',),
                   "fr": ('partie prenante Acme ajouter « Jeanne Roy » rôle=DAF service=Finance attitude=alliée '
                          'besoins="un ROI clair"',)}),
    _cmd("whitespace_add", "whitespace", plan_commands.whitespace_add,
         Syntax("keyword", name="account", keyword="add", tail=whitespace_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('whitespace Acme add Marketing "campaign analytics"',),
                   "fr": ("espace blanc Acme ajouter Marketing « analyse des campagnes »",)}),
    _cmd("rival_add", "rival", plan_commands.rival_add,
         Syntax("keyword", name="account", keyword="add", tail=rival_tail(), first=True),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ('rival Acme add Globex "cheaper, weaker support"',),
                   "fr": ("concurrent Acme ajouter Globex « moins cher, support plus faible »",)}),
    _cmd("forces", "forces", plan_commands.forces,
         Syntax("assign", name="account", tail=assignments_tail("ratings", "FORCE=1…5 …")),
         replies=("plan_saved",), permission="change", topic="plan",
         examples={"en": ("forces Acme buyer=4 entrants=2 substitutes=3 suppliers=1 rivalry=5",),
                   "fr": ("forces Acme acheteurs=4 entrants=2 substituts=3 fournisseurs=1 rivalité=5",)}),
    _cmd("history", "history", history.history, Syntax("rest", tail=text_tail("name", "NAME [page=N]")),
         shareable=True,
         examples={"en": ("history Acme", "history Acme Renewal page=2"), "fr": ("historique Acme",)}),
)
BY_NAME = {c.name: c for c in COMMANDS}


def _decision(text: str, command: str) -> dict[str, Any]:
    word, _, reason = text.strip().partition(" ")
    if not word:
        raise Refusal("bad_syntax", command=command)
    return {"decision": word, "reason": strip_quotes(reason) or None}
SHAREABLE = frozenset(c.name for c in COMMANDS if c.shareable)
TOPICS = tuple(dict.fromkeys(c.topic for c in COMMANDS))
FAMILY_ORDER = tuple(dict.fromkeys(c.family for c in COMMANDS))


@dataclass(frozen=True)
class Invocation:
    """A parsed command: which one, and its arguments named as the handler's parameters."""
    command: Command
    args: dict[str, Any]

    @property
    def name(self) -> str:
        return self.command.name


# --- parsing -------------------------------------------------------------------------------------

def _family_commands(family: str) -> list[Command]:
    return [c for c in COMMANDS if c.family == family]


def parse(text: str) -> Invocation:
    """Text as typed in any shell -> the command and its arguments, or a Refusal saying what
    was wrong (bad_syntax names the command, so the reply can show its example)."""
    text = " ".join((text or "").split())
    if not text:
        return Invocation(BY_NAME["help"], {"topic": None})
    for pattern in QUESTION_PATTERNS:
        m = pattern.match(text)
        if m:
            name = m.groupdict().get("name")
            return Invocation(BY_NAME["fit"], {"account": strip_quotes(name) if name else None})
    phrase = PHRASES.get(fold(text).rstrip(" ?!."))
    if phrase is not None:  # a command written as a phrase ("qui suis-je ?")
        return Invocation(BY_NAME[phrase], {})
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    second, _, after = rest.partition(" ")
    if second and command_family(f"{head} {second}"):  # a command of two words: partie prenante
        head, rest = f"{head} {second}", after.strip()
    family = command_family(head)
    if family is None:
        raise Refusal("unknown_command", got=head)
    candidates = _family_commands(family)
    # Where the record's name ends: each keyword form reads it its own way (an action word's
    # first occurrence, or `set`'s last, so names may hold keywords); the shortest name wins.
    keyworded = [s for c in candidates for s in c.syntax if s.shape == "keyword"]
    split = None
    if keyworded and rest:
        firsts = tuple(dict.fromkeys(s.keyword for s in keyworded if s.first))
        lasts = tuple(dict.fromkeys(s.keyword for s in keyworded if not s.first))
        found = [x for x in (split_keyword(rest, firsts, first=True) if firsts else None,
                             split_keyword(rest, lasts, first=False) if lasts else None) if x]
        split = min(found, key=lambda x: len(x[0])) if found else None
    if family == "fit":
        rest = rest.rstrip("?").strip()
    for command in candidates:
        for syntax in command.syntax:
            args = match(syntax, rest, command.name, split)
            if args is not None:
                return Invocation(command, args)
    raise Refusal("bad_syntax", command=candidates[0].name, got=rest.split(" ")[0] if rest else None)


# Commands written as a phrase rather than a word (folded, without the question mark).
PHRASES: dict[str, str] = {"who am i": "whoami", "qui suis-je": "whoami", "qui suis je": "whoami"}


# --- running -------------------------------------------------------------------------------------

def _check(ctx: Context, command: Command) -> None:
    """The role a command needs, before its handler runs; records are checked by the handler."""
    verb = "read" if command.permission in ("read",) else command.permission
    if verb == "change":
        verb = "self"  # a change needs a linked person here; whose record it is, the handler checks
    ctx.require(verb)


def invoke(ctx: Context, name: str, /, **args: Any) -> Reply:
    """Calls one declared command with its arguments: what buttons and forms use, so that a click
    is checked exactly like the typed command. Refusals and failures become polite replies."""
    command = BY_NAME[name]
    return guarded(ctx, lambda: _checked(ctx, command, args), repr(name))


def _checked(ctx: Context, command: Command, args: dict[str, Any]) -> Reply:
    _check(ctx, command)
    return command.handler(ctx, **args)


def guarded(ctx: Context, call: Callable[[], Reply], what: str = "") -> Reply:
    """The one polite catch: a refusal becomes its error reply (with the command's example when
    the syntax was wrong); any other failure is logged with its trace and answered without it."""
    try:
        return call()
    except Refusal as refusal:
        return refused(ctx, refusal)
    except Exception as exc:  # never a stack trace in a chat
        kind = failure_kind(exc)
        if kind in STORAGE_FAILURES and kind != "db_unreachable":
            # Read-only, full or missing: the admin must act, trying again will not help.
            log.error("command failed: %s: %s: %s", what, kind, str(getattr(exc, "orig", None) or exc).splitlines()[0])
            log.debug("command failed: %s", what, exc_info=True)
            return Reply("error", {"error": "storage", "kind": kind}, ok=False)
        if kind == "db_unreachable" or unreachable(exc):  # down or restarting: it passes
            log.warning("command not run, the database is unreachable: %s (%s)", what, exc.__class__.__name__)
            return unavailable()
        log.exception("command failed: %s", what)
        return Reply("error", {"error": "internal"}, ok=False)


def refused(ctx: Context, refusal: Refusal) -> Reply:
    reply = refusal.reply()
    if refusal.code == "bad_syntax":
        reply.data["example"] = example(refusal.params.get("command", ""), ctx.language)
    return reply


def dispatch(ctx: Context, invocation: Invocation) -> Reply:
    """Runs a parsed command (permission first); refusals propagate to the caller."""
    _check(ctx, invocation.command)
    return invocation.command.handler(ctx, **invocation.args)


def run(ctx: Context, text: str) -> Reply:
    """Text in, Reply out: the entry point of every shell. Never raises."""
    return guarded(ctx, lambda: dispatch(ctx, parse(text)), repr(text))


run_command = run


# --- help ------------------------------------------------------------------------------------------

def usage(command: Command, language: str) -> list[list[str]]:
    """How help shows a command: [["word", "affaire"], ["param", "NAME"], ["word", "étape"], ...]."""
    out = [["word", first_word(COMMAND_WORDS, command.family, language)]] if command.family in COMMAND_WORDS \
        else [["word", command.family]]
    syntax = command.syntax[0]
    if syntax.shape == "lead":
        out.append(["word", first_word(KEYWORDS, syntax.keyword, language)])
    if syntax.name:
        out.append(["param", "ACCOUNT" if syntax.name == "account" else "DEAL" if syntax.name == "deal" else "NAME"])
    if syntax.shape == "keyword":
        out.append(["word", first_word(KEYWORDS, syntax.keyword, language)])
    if syntax.shape == "numbered":  # NAME N KEYWORD
        return out + [["param", syntax.tail.usage], ["word", first_word(KEYWORDS, syntax.keyword, language)]]
    if syntax.tail is not None:
        out.append(["param", syntax.tail.usage])
    return out


def topic_of(word: str | None) -> str | None:
    """A help topic from any word the grammar accepts: command words, keywords, topic names."""
    if not word:
        return None
    if fold(word).rstrip(" ?!.") in PHRASES:
        return BY_NAME[PHRASES[fold(word).rstrip(" ?!.")]].topic
    key = fold(word.split(" ")[0])
    family = command_family(" ".join(fold(word).split()[:2])) or command_family(key)
    if family is not None:
        return next(c.topic for c in COMMANDS if c.family == family)
    keyword = KEYWORD_OF.get(key)
    if keyword is not None:
        owner = next((c for c in COMMANDS for s in c.syntax
                      if s.keyword == keyword or (s.tail is not None and keyword in s.tail.keywords)), None)
        if owner is not None:
            return owner.topic
    return key if key in TOPICS else None


def help_(ctx: Context, topic: str | None = None) -> Reply:
    chosen = topic_of(topic)
    language = ctx.language
    # Within a command word, the plain form first ("deal DEAL" before "deal DEAL stage STAGE").
    shown = sorted((c for c in COMMANDS if chosen is None or c.topic == chosen),
                   key=lambda c: (FAMILY_ORDER.index(c.family), c.syntax[0].shape not in ("name", "none", "rest")))
    commands = [{"name": c.name, "topic": c.topic, "usage": usage(c, language),
                 "examples": list(c.examples.get(language) or c.examples.get("en") or ())} for c in shown]
    return Reply("help", {"topic": chosen, "asked": topic if chosen is None else None, "commands": commands,
                          "topics": list(TOPICS), "platform": ctx.platform,
                          "profiles": [p.id for p in ctx.playbook.profiles]})


def example(name: str, language: str) -> str | None:
    """The first example of a command (for a bad_syntax reply)."""
    command = BY_NAME.get(name)
    if command is None:
        return None
    found = command.examples.get(language) or command.examples.get("en") or ()
    return found[0] if found else None
