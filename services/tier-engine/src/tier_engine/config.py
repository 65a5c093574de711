from pydantic_settings import BaseSettings, SettingsConfigDict

from keel.settings import ServiceSettings, Settings

SERVICE_NAME = "tier-engine"


class TierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIER_", extra="ignore")

    # T3 on schedule inside the worker. Off where something else runs `tier-engine rollup` once
    # the 15th is over (the Kubernetes CronJob), so one scheduler decides.
    scheduled_rollup: bool = True


class TierServiceSettings(Settings):
    tier: TierSettings


def load_settings() -> TierServiceSettings:
    return TierServiceSettings.from_env(service=ServiceSettings(name=SERVICE_NAME))
