from keel.settings import ServiceSettings, Settings

SERVICE_NAME = "capacity"


def load_settings() -> Settings:
    return Settings.from_env(service=ServiceSettings(name=SERVICE_NAME))
