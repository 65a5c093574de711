from pydantic_settings import BaseSettings, SettingsConfigDict

from keel.settings import ServiceSettings, Settings

SERVICE_NAME = "activity-ingest"


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore")

    max_body_bytes: int = 5 * 1024 * 1024
    max_batch_events: int = 1000
    max_future_skew_s: int = 300


class IngestServiceSettings(Settings):
    ingest: IngestSettings


def load_settings() -> IngestServiceSettings:
    return IngestServiceSettings.from_env(service=ServiceSettings(name=SERVICE_NAME))
