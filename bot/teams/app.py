"""The Bot Framework side of the Teams shell, and the one module of Gare that imports the Bot
Framework SDK (botbuilder-core 4.17 with its aiohttp integration, botframework-connector, and
msrest beneath them). Microsoft archived that SDK; its successor is the Microsoft 365 Agents SDK
(microsoft-agents-*). Moving there means rewriting this module alone: the rest of bot/teams works
on plain activity JSON through `Turn` and `TeamsBot` below.

What is used, and why:
- `CloudAdapter` with `ConfigurationBotFrameworkAuthentication`: the SDK's request
  authentication (Bot Framework JWTs: issuer, signature, expiry, audience = our app id,
  `serviceurl` claim = the activity's serviceUrl, key endorsed for the channel) and its turn
  pipeline, connector clients and `continue_conversation` for proactive messages.
- `TeamsInfo`'s member lookup (the UPN and e-mail of a member, and whether they are a guest) and
  the connector's paged roster of a team (`get_teams_conversation_paged_members`), called on the
  turn's conversation directly: TeamsInfo's own wrappers read channelData, which a proactive
  turn does not have.

Three traps of 4.17 are worked around here rather than patched in site-packages:
1. A malformed bearer token makes the adapter raise (a 500): authentication is run first, on its
   own, and any failure of it is a 401.
2. Token validation fetches Microsoft's OpenID metadata with `requests` inside the event loop:
   the SDK's metadata cache (`JwtTokenExtractor.metadataCache`) is given our fetcher, which uses
   aiohttp, for the URLs we validate against.
3. The bot's own token comes from MSAL, also a blocking call in the event loop, made afresh for
   every connector client: the credentials factory below fetches it with aiohttp (OAuth 2 client
   credentials, as the Bot Connector documents) and keeps it until shortly before it expires.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ConversationReference
from botframework.connector.auth import (
    AuthenticationConstants, JwtTokenExtractor, MicrosoftAppCredentials, ServiceClientCredentialsFactory,
)
from jwt.algorithms import RSAAlgorithm
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.teams.retry import ConnectorError, retry_after
from bot.teams.settings import TeamsSettings

log = logging.getLogger("gare.teams")

CHANNEL = "msteams"
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
KEYS_FRESH_FOR = 24 * 3600       # Microsoft rotates its signing keys slowly; refetch daily
UNKNOWN_KEY_REFETCH = 300        # an unknown key id refetches at most every 5 minutes
TOKEN_MARGIN = 300               # the bot's token is renewed 5 minutes before it expires


class NotAuthorized(Exception):
    """The request is not from the Bot Framework channel for one of our tenants: answered 401."""


# --- inbound: the signing keys, fetched without blocking ------------------------------------------

class _SigningKey:
    """What the SDK's token extractor reads from its metadata cache for one key id."""

    def __init__(self, public_key, endorsements: list[str]):
        self.public_key, self.endorsements = public_key, endorsements


class _OpenIdKeys:
    """Stands in for the SDK's `_OpenIdMetadata` in `JwtTokenExtractor.metadataCache`: the same
    `get(key_id)`, but the metadata document and its JWKS are fetched with aiohttp. No lock: two
    concurrent refreshes only fetch twice, and the SDK's cache is shared by every event loop."""

    def __init__(self, url: str):
        self.url = url
        self.keys: list[dict] = []
        self.fetched_at: float | None = None

    async def _refresh(self) -> None:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            async with session.get(self.url) as response:
                response.raise_for_status()
                jwks_uri = (await response.json(content_type=None))["jwks_uri"]
            async with session.get(jwks_uri) as response:
                response.raise_for_status()
                self.keys = list((await response.json(content_type=None)).get("keys") or [])
        self.fetched_at = time.monotonic()

    def _find(self, key_id: str | None) -> _SigningKey | None:
        for key in self.keys:
            if key.get("kid") == key_id:
                return _SigningKey(RSAAlgorithm.from_jwk(json.dumps(key)), list(key.get("endorsements") or []))
        return None

    async def get(self, key_id: str | None) -> _SigningKey:
        now = time.monotonic()
        try:
            if self.fetched_at is None or now - self.fetched_at > KEYS_FRESH_FOR:
                await self._refresh()
            key = self._find(key_id)
            if key is None and now - (self.fetched_at or 0) > UNKNOWN_KEY_REFETCH:
                await self._refresh()
                key = self._find(key_id)
        except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as exc:
            log.error("could not fetch the Bot Framework signing keys from %s: %s", self.url, exc)
            raise PermissionError("signing keys unavailable") from None
        if key is None:
            raise PermissionError("unknown signing key")
        return key


def _use_async_key_fetch(*urls: str) -> None:
    for url in urls:
        if not isinstance(JwtTokenExtractor.metadataCache.get(url), _OpenIdKeys):
            JwtTokenExtractor.metadataCache[url] = _OpenIdKeys(url)


# --- outbound: the bot's own token, fetched without blocking ------------------------------------------

class _BotCredentials(MicrosoftAppCredentials):
    """The bot's token for the Bot Connector. The SDK asks for it synchronously while sending
    (msrest's credentials policy): by then it is already here, fetched by `refresh`."""

    def __init__(self, settings: TeamsSettings, oauth_scope: str):
        super().__init__(settings.app_id, settings.app_password, settings.token_tenant, oauth_scope)
        self.settings = settings
        self.token: str | None = None
        self.expires_at = 0.0

    def fresh(self) -> bool:
        return self.token is not None and time.monotonic() < self.expires_at - TOKEN_MARGIN

    async def refresh(self) -> None:
        if self.fresh():
            return
        scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else self.oauth_scope + "/.default"
        url = f"{self.settings.login_url}/{self.settings.token_tenant}/oauth2/v2.0/token"
        form = {"grant_type": "client_credentials", "client_id": self.settings.app_id,
                "client_secret": self.settings.app_password or "", "scope": scope}
        try:
            async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
                async with session.post(url, data=form) as response:
                    answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise ConnectorError(0, "token_endpoint_unreachable") from exc
        if "access_token" not in (answer or {}):
            log.error("no Bot Framework token for app %s: %s", self.settings.app_id, (answer or {}).get("error"))
            raise ConnectorError(401, "bot_token_refused")
        self.token = answer["access_token"]
        self.expires_at = time.monotonic() + float(answer.get("expires_in") or 3600)

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self.token is None:
            raise PermissionError("the bot's token was not fetched before sending")
        return self.token


class _CredentialsFactory(ServiceClientCredentialsFactory):
    """App id and password from the environment; one cached token per OAuth scope."""

    def __init__(self, settings: TeamsSettings):
        self.settings = settings
        self._by_scope: dict[str, _BotCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.settings.app_id) and app_id == self.settings.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.settings.app_id

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> MicrosoftAppCredentials:
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("credentials asked for another app id")
        scope = oauth_scope or self.settings.oauth_scope
        credentials = self._by_scope.get(scope)
        if credentials is None:
            credentials = self._by_scope[scope] = _BotCredentials(self.settings, scope)
        await credentials.refresh()
        return credentials


class _Configuration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads. Every endpoint is set,
    so the SDK takes its parameterized path: the same code with Microsoft's URLs in production
    and a local stand-in's in tests."""

    def __init__(self, settings: TeamsSettings):
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TENANTID = settings.tenant_id
        self.APP_TYPE = settings.app_type
        self.VALIDATE_AUTHORITY = True
        self.TO_CHANNEL_FROM_BOT_LOGIN_URL = f"{settings.login_url}/{settings.token_tenant}"
        self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = settings.oauth_scope
        self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.token_issuer
        self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
        self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = settings.emulator_openid_metadata_url
        self.CALLER_ID = "urn:botframework:azure"


# --- turns ----------------------------------------------------------------------------------------

def _connector_error(exc: Exception) -> ConnectorError:
    """The connector's failure as plain data: HTTP status, error code, Retry-After."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, HttpOperationError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None) or 0
        headers = getattr(response, "headers", None) or {}
        error = getattr(getattr(exc, "error", None), "error", None)
        code = getattr(error, "code", None)
        return ConnectorError(int(status), code, retry_after(headers.get("Retry-After")))
    if isinstance(exc, (ClientRequestError, aiohttp.ClientError, ConnectionError, asyncio.TimeoutError)):
        return ConnectorError(0, "connector_unreachable")
    raise exc


def _plain(model) -> dict:
    """An SDK model as the JSON the channel sent (camelCase, extra properties kept)."""
    data = model.serialize()
    extra = getattr(model, "additional_properties", None) or {}
    return {**extra, **data}


class Turn:
    """One activity from Teams, or a proactive turn, as the shell sees it: the activity as JSON
    and what can be done in reply. Every call to the Bot Connector raises ConnectorError."""

    def __init__(self, context: TurnContext, activity: dict):
        self._context = context
        self.activity = activity

    @property
    def _connector(self):
        connector = self._context.turn_state[self._context.adapter.BOT_CONNECTOR_CLIENT_KEY]
        # One retry policy, ours (bot/teams/retry.py): msrest would retry 5xx on its own, blindly.
        policy = getattr(getattr(connector.config, "retry_policy", None), "policy", None)
        if policy is not None:
            policy.status_forcelist = set()
        return connector

    def reference(self) -> dict:
        """Where this conversation is, to write to it later (no activity: not a reply)."""
        reference = TurnContext.get_conversation_reference(self._context.activity)
        reference.activity_id = None
        return reference.serialize()

    def _outgoing(self, message: dict, conversation_id: str | None = None) -> Activity:
        activity = Activity().deserialize(dict(message, type=message.get("type") or "message"))
        reference = TurnContext.get_conversation_reference(self._context.activity)
        activity.channel_id, activity.service_url = reference.channel_id, reference.service_url
        activity.conversation = reference.conversation
        if conversation_id:
            activity.conversation = type(reference.conversation)(id=conversation_id,
                                                                 tenant_id=reference.conversation.tenant_id)
        activity.from_property, activity.recipient = reference.bot, reference.user
        return activity

    async def _call(self, coroutine_factory) -> Any:
        try:
            return await coroutine_factory()
        except Exception as exc:  # noqa: BLE001 - every connector failure becomes a ConnectorError
            raise _connector_error(exc) from None

    async def reply(self, message: dict) -> str | None:
        """A reply to the activity (in a channel: in its thread)."""
        activity = self._outgoing(message)
        conversation, to = self._context.activity.conversation.id, self._context.activity.id
        if not to:
            return await self.send(message)
        activity.reply_to_id = to
        answer = await self._call(lambda: self._connector.conversations.reply_to_activity(conversation, to, activity))
        return getattr(answer, "id", None)

    async def send(self, message: dict, conversation_id: str | None = None) -> str | None:
        """A new message in the conversation (or in `conversation_id`, e.g. a channel's root)."""
        activity = self._outgoing(message, conversation_id)
        conversation = activity.conversation.id
        answer = await self._call(lambda: self._connector.conversations.send_to_conversation(conversation, activity))
        return getattr(answer, "id", None)

    async def update(self, activity_id: str, message: dict, conversation_id: str | None = None) -> None:
        """Replace a message the bot posted (a checklist ticked elsewhere)."""
        activity = self._outgoing(message, conversation_id)
        activity.id = activity_id
        conversation = activity.conversation.id
        await self._call(lambda: self._connector.conversations.update_activity(conversation, activity_id, activity))

    async def member(self, user_id: str) -> dict | None:
        """The member of this conversation (TeamsInfo.get_member): UPN, e-mail, role."""
        conversation = self._context.activity.conversation.id
        try:
            member = await self._call(lambda: TeamsInfo._get_member(self._connector, conversation, user_id))
        except ConnectorError as exc:
            if exc.status == 404:
                return None
            raise
        return _plain(member)

    async def paged_members(self, continuation_token: str | None, page_size: int) -> tuple[list[dict], str | None]:
        """One page of the conversation's (the team's) roster, and the token of the next."""
        conversation = self._context.activity.conversation.id
        page = await self._call(lambda: self._connector.conversations.get_teams_conversation_paged_members(
            conversation, page_size, continuation_token))
        return [_plain(m) for m in (page.members or [])], page.continuation_token or None

    async def respond(self, body: dict, status: int = 200) -> None:
        """The answer to an invoke (Action.Execute): a card or a message, in the HTTP response."""
        await self._context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                   value=InvokeResponse(status=status, body=body)))


Handler = Callable[[Turn], Awaitable[None]]


class TeamsBot:
    """The Bot Framework endpoint (POST /api/messages) and proactive turns."""

    def __init__(self, settings: TeamsSettings, handler: Handler | None = None,
                 tenants: Callable[[], tuple[str, ...]] = tuple):
        self.settings, self.handler, self.tenants = settings, handler, tenants
        _use_async_key_fetch(settings.openid_metadata_url, settings.emulator_openid_metadata_url)
        self.authentication = ConfigurationBotFrameworkAuthentication(
            _Configuration(settings), credentials_factory=_CredentialsFactory(settings))
        self.adapter = CloudAdapter(self.authentication)
        self.adapter.on_turn_error = self._on_turn_error

    @staticmethod
    async def _on_turn_error(context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", error, exc_info=(type(error), error, error.__traceback__))

    async def _authenticate(self, activity: Activity, body: dict, header: str | None):
        """The SDK's token checks, then ours: the Teams channel, one of the served tenants."""
        if self.settings.authenticated and not header:
            raise NotAuthorized("no bearer token")
        try:
            result = await self.authentication.authenticate_request(activity, header)
        except Exception as exc:  # noqa: BLE001 - malformed, expired, forged: all the same 401
            raise NotAuthorized(f"{type(exc).__name__}: {exc}") from None
        tenant = ((body.get("conversation") or {}).get("tenantId")
                  or ((body.get("channelData") or {}).get("tenant") or {}).get("id") or "").lower()
        served = self.tenants()
        if self.settings.authenticated:
            if body.get("channelId") != CHANNEL:
                raise NotAuthorized(f"channel {body.get('channelId')!r}")
            if tenant not in served:
                raise NotAuthorized(f"tenant {tenant or '(none)'} is not served")
        elif tenant and served and tenant not in served:
            raise NotAuthorized(f"tenant {tenant} is not served")
        return result

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages: 401 for anything not authenticated, whatever is wrong with it."""
        header = request.headers.get("Authorization")
        if self.settings.authenticated and not header:
            return web.Response(status=401)
        if request.content_type != "application/json":
            return web.Response(status=415)
        try:
            body = json.loads(await request.text())
            if not isinstance(body, dict) or not body.get("type"):
                raise ValueError("not an activity")
            activity = Activity().deserialize(body)
        except ValueError:
            return web.Response(status=400)
        try:
            result = await self._authenticate(activity, body, header)
        except NotAuthorized as refusal:
            log.info("Teams request refused (401): %s", refusal)
            return web.Response(status=401)
        try:
            invoke = await self.adapter.process_activity(result, activity, lambda context: self._turn(context, body))
        except Exception:  # noqa: BLE001 - logged; never a trace in the answer
            log.exception("Teams activity %s failed", body.get("type"))
            return web.Response(status=500)
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status or 200)
        return web.Response(status=201)

    async def _turn(self, context: TurnContext, body: dict) -> None:
        if self.handler is not None:
            await self.handler(Turn(context, body))

    async def continue_conversation(self, reference: dict, handler: Handler) -> None:
        """A proactive turn in a stored conversation (weekly messages, checklist updates, rosters)."""
        ref = ConversationReference().deserialize(reference)
        failed: list[BaseException] = []

        async def run(context: TurnContext) -> None:
            try:
                await handler(Turn(context, _plain(context.activity)))
            except Exception as exc:  # noqa: BLE001 - raised to the caller below, not to on_turn_error
                failed.append(exc)
        try:
            await self.adapter.continue_conversation(ref, run, bot_app_id=self.settings.app_id)
        except Exception as exc:  # noqa: BLE001 - the connector factory's failures, as ConnectorError
            raise _connector_error(exc) from None
        if failed:
            raise failed[0]
