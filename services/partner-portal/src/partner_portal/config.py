"""Settings: the standard blocks, plus where the four services answer and the portal's links."""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from keel.settings import ServiceSettings, Settings

SERVICE_NAME = "partner-portal"


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    # The four services' base URLs; the portal calls them with the caller's own token.
    ingest_url: str = "http://127.0.0.1:8001"
    ledger_url: str = "http://127.0.0.1:8002"
    tier_url: str = "http://127.0.0.1:8003"
    capacity_url: str = "http://127.0.0.1:8004"
    # Each page section's upstream call gives up after this; the section is then unavailable.
    upstream_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # The client actions "Company in CRM" and "Go to the client's account".
    crm_url_template: str = "https://crm.vendor.example/companies/{client_id}"
    account_url_template: str = "https://app.vendor.example/accounts/{client_id}"

    @field_validator("ingest_url", "ledger_url", "tier_url", "capacity_url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return url.rstrip("/")

    @field_validator("crm_url_template", "account_url_template")
    @classmethod
    def _names_the_client(cls, template: str) -> str:
        if "{client_id}" not in template:
            raise ValueError("must contain {client_id}")
        return template


class PortalServiceSettings(Settings):
    portal: PortalSettings


def load_settings() -> PortalServiceSettings:
    return PortalServiceSettings.from_env(service=ServiceSettings(name=SERVICE_NAME))
