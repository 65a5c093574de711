"""Typed settings blocks, read from the environment once at start and injected from there on."""

from pathlib import Path
from typing import Literal, Self

from aiokafka.helpers import create_ssl_context
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "production"]

# Secrets that are fine on a laptop and must never reach a real deployment.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev", "local-development-secret"}
)
MIN_SECRET_LENGTH = 32


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore")

    name: str = "service"
    environment: Environment = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # uvicorn processes sharing the api's port. In Kubernetes 1 (the autoscaler adds pods, and
    # /metrics then speaks for the whole process); on one machine more may use more cores.
    api_processes: int = Field(default=1, ge=1)
    # The worker has no API; it serves /metrics on this port when set.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    log_level: str = "INFO"
    # Where the policy files are read from (a mounted ConfigMap); unset: the packaged files.
    policy_dir: Path | None = None


class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore")

    url: SecretStr = Field(description="postgresql+asyncpg://user:password@host:port/database")
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    # A round trip per checkout; it spares a failed request after the database restarts.
    pool_pre_ping: bool = True
    echo: bool = False


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str
    client_id: str = "partner-credit"
    # Apache Kafka: on. Tansu (the embedded broker) rejects aiokafka's InitProducerId, so off there;
    # correctness never relies on it because consumers deduplicate by event id.
    enable_idempotence: bool = True
    # Prepended to every topic and consumer group: lets tenants or tests share one cluster.
    topic_prefix: str = ""
    # Replicas of each topic `keel-topics` creates: 1 for a single broker, 3 in production.
    replication_factor: int = Field(default=1, ge=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # CA bundle for SSL and SASL_SSL; unset: the system's trusted CAs.
    ssl_cafile: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    max_request_size: int = 5 * 1024 * 1024
    linger_ms: int = 5
    request_timeout_ms: int = 30_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    consumer_max_records: int = 500
    consumer_poll_timeout_ms: int = 500

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def connection_options(self) -> dict[str, object]:
        """Options every aiokafka client (producer, consumer, admin) shares."""
        options: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return options


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    jwt_secret: SecretStr
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "partner-credit"
    jwt_audience: str = "partner-credit"
    leeway_seconds: int = Field(default=30, ge=0)


class Settings(BaseModel):
    """The blocks every service needs; a service subclasses it to add its own."""

    service: ServiceSettings
    database: PostgresSettings
    kafka: KafkaSettings
    auth: AuthSettings

    @classmethod
    def from_env(cls, **overrides: object) -> Self:
        """Build every block from the environment; explicit blocks in `overrides` win."""
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            if name in overrides:
                values[name] = overrides[name]
            elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
                values[name] = field.annotation()
        return cls.model_validate(values)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.service.environment == "production":
            secret = self.auth.jwt_secret.get_secret_value()
            if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "AUTH_JWT_SECRET is a placeholder or shorter than "
                    f"{MIN_SECRET_LENGTH} characters; refused outside local and test environments"
                )
        return self
