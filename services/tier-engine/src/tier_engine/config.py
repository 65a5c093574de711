from keel.settings import ServiceSettings, Settings

SERVICE_NAME = "tier-engine"


def load_settings() -> Settings:
    return Settings.from_env(service=ServiceSettings(name=SERVICE_NAME))
