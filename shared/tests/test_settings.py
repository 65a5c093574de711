import ssl

import pytest
from pydantic import SecretStr, ValidationError

from keel.settings import AuthSettings, KafkaSettings, PostgresSettings, ServiceSettings, Settings


def _settings(environment: str, secret: str) -> Settings:
    return Settings(
        service=ServiceSettings(name="svc", environment=environment),  # type: ignore[arg-type]
        database=PostgresSettings(url=SecretStr("postgresql+asyncpg://u@h/d")),
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9092"),
        auth=AuthSettings(jwt_secret=SecretStr(secret)),
    )


@pytest.mark.parametrize("secret", ["change-me", "short-but-real"])
def test_production_refuses_placeholder_or_short_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET"):
        _settings("production", secret)


def test_local_accepts_a_placeholder_secret() -> None:
    assert _settings("local", "change-me").auth.jwt_secret.get_secret_value() == "change-me"


def test_production_accepts_a_long_random_secret() -> None:
    assert _settings("production", "s" * 40).service.environment == "production"


def test_blocks_read_their_own_prefixes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app@db/ledger")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "false")
    monkeypatch.setenv("AUTH_JWT_SECRET", "x" * 40)
    monkeypatch.setenv("SERVICE_PORT", "8123")

    settings = Settings.from_env(service=ServiceSettings(name="credit-ledger"))

    assert settings.database.url.get_secret_value() == "postgresql+asyncpg://app@db/ledger"
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.kafka.enable_idempotence is False
    assert settings.service.name == "credit-ledger"
    assert settings.service.port == 8123


def test_missing_database_url_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="url"):
        PostgresSettings()


def test_topic_prefix_applies_to_topics_and_groups() -> None:
    kafka = KafkaSettings(bootstrap_servers="b:9092", topic_prefix="tenant-a.")
    assert kafka.topic("credit.events.v1") == "tenant-a.credit.events.v1"
    assert kafka.group("credit-ledger") == "tenant-a.credit-ledger"


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
def test_tls_protocols_carry_an_ssl_context_aiokafka_requires(protocol: str) -> None:
    kafka = KafkaSettings(bootstrap_servers="k:9093", security_protocol=protocol)  # type: ignore[arg-type]
    assert isinstance(kafka.connection_options()["ssl_context"], ssl.SSLContext)


def test_plaintext_carries_no_ssl_context() -> None:
    assert "ssl_context" not in KafkaSettings(bootstrap_servers="k:9092").connection_options()
