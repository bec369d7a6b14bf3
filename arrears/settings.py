"""One settings model for every entry point (CLI, worker, starter, tests).

Values come from the environment (and an optional `.env`). Temporal and PostgreSQL are
*embedded* unless an address is configured: `TEMPORAL_ADDRESS` / `DATABASE_URL` unset means
"`arrears up` runs them for you on the ports below", so a worker started without any
configuration finds the stack that `arrears up` started.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Final, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from arrears.errors import UsageError
from domain.events import Channel

#: Search attributes the case workflow sets. Registered by `arrears up` (and by the
#: compose stack's setup) so queries such as `ArrearsStage = "legal"` work.
SEARCH_ATTRIBUTES: dict[str, str] = {
    "ArrearsStage": "Keyword",
    "ArrearsBucket": "Keyword",
    "ArrearsDpd": "Int",
    "ArrearsAgency": "Keyword",
    "ArrearsOutcome": "Keyword",
    "ArrearsAttention": "Keyword",  # set while a case waits for a person (a store conflict)
    "ArrearsArm": "Keyword",  # champion / challenger: set when the importer starts the case
}

#: Each contact channel may have its own HTTP gateway (`ARREARS_CONTACT_<CHANNEL>_URL`).
CONTACT_CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
#: Shortest shared secret a gateway's requests are signed with (HMAC-SHA256: 256 bits).
MIN_CONTACT_SECRET: Final = 32
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})

EMBEDDED_DB_NAME = "arrears"
EMBEDDED_DB_USER = "postgres"


class Settings(BaseSettings):
    """Runtime configuration. See README "Configuration" for the table of variables."""

    model_config = SettingsConfigDict(
        env_prefix="ARREARS_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        # `VAR=` means unset, as compose's `${VAR:-}` pass-through of an unset variable.
        env_ignore_empty=True,
    )

    home: Path = Field(
        default=Path(".arrears"),
        description="Data directory of the embedded stack (Temporal state, PostgreSQL data).",
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "ARREARS_TEMPORAL_ADDRESS"),
        description="host:port of a Temporal frontend; unset: the embedded dev server.",
    )
    temporal_namespace: str = Field(
        default="default",
        validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "ARREARS_TEMPORAL_NAMESPACE"),
    )
    # A secured cluster or Temporal Cloud. The unprefixed names are the `temporal` CLI's own,
    # so one environment configures both; they apply to TEMPORAL_ADDRESS only (the
    # embedded dev server speaks plain gRPC). See README "Running against a cluster".
    temporal_tls: bool | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS", "ARREARS_TEMPORAL_TLS"),
        description="TLS to Temporal; unset: on when a TLS file or an API key is set.",
    )
    temporal_tls_ca: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "ARREARS_TEMPORAL_TLS_CA"
        ),
        description="PEM file of the CA that signed the server's certificate; unset: system roots.",
    )
    temporal_tls_cert: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_CLIENT_CERT_PATH", "ARREARS_TEMPORAL_TLS_CERT"),
        description="PEM client certificate for mTLS (with the key).",
    )
    temporal_tls_key: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_CLIENT_KEY_PATH", "ARREARS_TEMPORAL_TLS_KEY"),
        description="PEM private key of the client certificate.",
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TEMPORAL_TLS_SERVER_NAME", "ARREARS_TEMPORAL_TLS_SERVER_NAME"
        ),
        description="Name the server's certificate is checked against (and SNI), if not the host.",
    )
    temporal_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_API_KEY", "ARREARS_TEMPORAL_API_KEY"),
        description="API key (Temporal Cloud); sent as a bearer token, never logged.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "ARREARS_DATABASE_URL"),
        description="postgresql:// URL; unset: the embedded PostgreSQL.",
    )
    task_queue: str = "arrears"
    worker_concurrency: int = Field(
        default=100, ge=1, description="Max concurrent activities and workflow tasks per worker."
    )
    policy: str = Field(
        default="cn-card",
        description="Policy profile: a shipped name (cn-card, us-reg-f) or a TOML file path.",
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    ui_port: int = Field(default=8233, ge=1, le=65535)
    pg_port: int = Field(default=55432, ge=1, le=65535)
    console_host: str = Field(default="127.0.0.1", description="Address the console listens on.")
    console_port: int = Field(default=8080, ge=1, le=65535, description="The console's port.")
    # Worker metrics (README "Metrics"): unset port means no Prometheus endpoint at all.
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Port of a worker's Prometheus /metrics."
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address /metrics listens on (0.0.0.0 in a container)."
    )
    metrics_interval_seconds: float = Field(
        default=15.0, gt=0, description="How often a worker re-reads the gauges from PostgreSQL."
    )
    temporal_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long Temporal keeps a closed run's history; the archive keeps it after.",
    )
    archive_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the archive sweep copies closed runs."
    )

    # Contact providers (README "Contact providers"): a channel with a URL sends its attempts
    # to that HTTP gateway, signed with the channel's secret; without one it is simulated.
    contact_sms_url: str | None = Field(default=None, description="SMS gateway; unset: simulated.")
    contact_call_url: str | None = Field(default=None, description="Dialer; unset: simulated.")
    contact_letter_url: str | None = Field(
        default=None, description="Mail house; unset: simulated."
    )
    contact_visit_url: str | None = Field(default=None, description="Field team; unset: simulated.")
    contact_sms_secret: SecretStr | None = None
    contact_call_secret: SecretStr | None = None
    contact_letter_secret: SecretStr | None = None
    contact_visit_secret: SecretStr | None = None
    contact_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=25,
        description="How long a gateway may take to answer (under the activity's 30 s).",
    )

    @model_validator(mode="after")
    def _contact_gateways_complete(self) -> Self:
        """A gateway URL is https (http only to this machine: personal data never travels
        in clear over a network) and comes with a secret long enough to sign with."""
        for channel in CONTACT_CHANNELS:
            url = getattr(self, f"contact_{channel}_url")
            secret = getattr(self, f"contact_{channel}_secret")
            name = f"ARREARS_CONTACT_{channel.upper()}"
            if url is None:
                continue
            parts = urlsplit(url)
            if not parts.hostname or not (
                parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
            ):
                raise ValueError(f"{name}_URL must be an https:// URL (http:// only to localhost)")
            if secret is None or len(secret.get_secret_value()) < MIN_CONTACT_SECRET:
                raise ValueError(
                    f"{name}_SECRET must be set, at least {MIN_CONTACT_SECRET} characters,"
                    f" when {name}_URL is"
                )
        return self

    def contact_gateway(self, channel: Channel) -> tuple[str, SecretStr] | None:
        """The channel's HTTP gateway (URL and signing secret), or None: simulated."""
        url = getattr(self, f"contact_{channel}_url")
        secret = getattr(self, f"contact_{channel}_secret")
        return (url, secret) if url is not None and secret is not None else None

    @model_validator(mode="after")
    def _sweeps_well_within_retention(self) -> Self:
        """A closed run must be archived long before Temporal deletes it: at least a hundred
        sweeps fit in the retention, so a sweep that fails a few times loses nothing."""
        if self.archive_interval_seconds * 100 > self.temporal_retention_days * 86400:
            raise ValueError(
                f"ARREARS_ARCHIVE_INTERVAL_SECONDS ({self.archive_interval_seconds:g}) must be"
                " at most a hundredth of ARREARS_TEMPORAL_RETENTION_DAYS"
                f" ({self.temporal_retention_days} days)"
            )
        return self

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def embedded_postgres(self) -> bool:
        return self.database_url is None

    @cached_property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @cached_property
    def db_url(self) -> str:
        return (
            self.database_url
            or f"postgresql://{EMBEDDED_DB_USER}@127.0.0.1:{self.pg_port}/{EMBEDDED_DB_NAME}"
        )

    @property
    def ui_url(self) -> str | None:
        return f"http://localhost:{self.ui_port}" if self.embedded_temporal else None


def settings_problem(err: ValidationError) -> str:
    """One line for the first bad setting, named as it is set (the environment variable)."""
    first = err.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:
        return f"bad configuration: {message}"
    name = str(first["loc"][0])
    field = Settings.model_fields.get(name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        name = alias.choices[0]
    else:
        name = f"ARREARS_{name}".upper()
    return f"bad configuration: {name}: {message}"


def load_settings() -> Settings:
    """The settings from the environment; a bad value is one line naming the variable
    (exit code 2), never the value, which may be a secret."""
    try:
        return Settings()
    except ValidationError as err:
        raise UsageError(settings_problem(err)) from None
