"""What the Teams shell needs from the environment. The Azure Bot registration gives the app id
and a client secret; secrets come only from the environment, never from the playbook."""
from __future__ import annotations

import os
from dataclasses import dataclass

# Microsoft's public cloud. The TEAMS_* variables below point them at a stand-in (tests, staging).
OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
EMULATOR_OPENID_METADATA_URL = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
TOKEN_ISSUER = "https://api.botframework.com"
LOGIN_URL = "https://login.microsoftonline.com"
OAUTH_SCOPE = "https://api.botframework.com"
APP_TYPES = ("MultiTenant", "SingleTenant")
TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str | None
    app_password: str | None = None
    tenant_id: str | None = None
    app_type: str = "MultiTenant"
    openid_metadata_url: str = OPENID_METADATA_URL
    emulator_openid_metadata_url: str = EMULATOR_OPENID_METADATA_URL
    token_issuer: str = TOKEN_ISSUER
    login_url: str = LOGIN_URL
    oauth_scope: str = OAUTH_SCOPE

    @property
    def authenticated(self) -> bool:
        """With an app id every request must carry a valid Bot Framework token; without one
        (local development only, GARE_TEAMS_DEV=1) nothing is checked."""
        return bool(self.app_id)

    @property
    def token_tenant(self) -> str:
        """Where the bot's own tokens come from: its tenant when single-tenant."""
        return self.tenant_id if self.app_type == "SingleTenant" and self.tenant_id else "botframework.com"

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "TeamsSettings | None":
        """None when Teams is not configured: no MicrosoftAppId, and no GARE_TEAMS_DEV=1 asking
        for an unauthenticated endpoint on a development machine."""
        env = os.environ if environ is None else environ
        app_id = (env.get("MicrosoftAppId") or "").strip() or None
        if app_id is None and (env.get("GARE_TEAMS_DEV") or "").strip().lower() not in TRUE:
            return None
        app_type = (env.get("MicrosoftAppType") or "MultiTenant").strip()
        metadata = env.get("TEAMS_OPENID_METADATA_URL") or None
        return cls(app_id=app_id, app_password=env.get("MicrosoftAppPassword") or None,
                   tenant_id=(env.get("MicrosoftAppTenantId") or "").strip().lower() or None,
                   app_type=next((t for t in APP_TYPES if t.lower() == app_type.lower()), app_type),
                   openid_metadata_url=metadata or OPENID_METADATA_URL,
                   emulator_openid_metadata_url=metadata or EMULATOR_OPENID_METADATA_URL,
                   token_issuer=env.get("TEAMS_TOKEN_ISSUER") or TOKEN_ISSUER,
                   login_url=(env.get("TEAMS_LOGIN_URL") or LOGIN_URL).rstrip("/"))

    def problem(self) -> str | None:
        """What keeps these settings from working, said before the server starts."""
        if not self.app_id:
            return None
        if self.app_type not in APP_TYPES:
            return "app_type"
        if not self.app_password:
            return "app_password"
        if self.app_type == "SingleTenant" and not self.tenant_id:
            return "app_tenant"
        return None

    def served_tenants(self, configured: tuple[str, ...]) -> tuple[str, ...]:
        """The playbook's [teams] tenants; a single-tenant app serves its own tenant by default."""
        if configured:
            return configured
        if self.app_type == "SingleTenant" and self.tenant_id:
            return (self.tenant_id,)
        return ()
