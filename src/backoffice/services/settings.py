"""The server's settings: from the environment (BACKOFFICE_...), a settings file, or the command line.

    BACKOFFICE_DATABASE=postgresql://ops@db/ops backoffice serve --port 8080
    backoffice serve --settings /etc/backoffice/server.env

Precedence, highest first: the command line, the environment, the settings file (dotenv
format, the same names), the defaults below.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from backoffice.errors import BadOption
from backoffice.services.oidc_settings import OidcSettings
from backoffice.store.connect import DEFAULT_DATABASE

# The widest replay window a webhook source may be given, in seconds: the API forgets a delivery
# two such windows after it came, whatever the window is set to now or later.
WEBHOOK_WINDOW_MOST_SECONDS = 3600

ENV_PREFIX = "BACKOFFICE_"
SETTINGS_FILE_VARIABLE = "BACKOFFICE_SETTINGS"
ONE_MIB = 1024 * 1024


class WebhookSource(BaseModel):
    """Another system that starts cases by signed webhook: the secret it signs with, and who it is."""

    secret: SecretStr = Field(min_length=16, description="The shared HMAC secret (at least 16 characters).")
    account: str = Field(min_length=1, description="The directory's service account the system acts as.")


class ApiSettings(OidcSettings):
    """What the HTTP server needs to run; every field is BACKOFFICE_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database: str = Field(DEFAULT_DATABASE, description="SQLite file path, or a PostgreSQL URL "
                                                        "(postgresql://user@host:5432/db).")
    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on.")
    max_body_bytes: int = Field(ONE_MIB, ge=1024, le=64 * ONE_MIB,
                                description="Largest request body accepted; larger ones get 413.")
    max_upload_bytes: int = Field(10 * ONE_MIB, ge=1024, le=512 * ONE_MIB,
                                  description="Largest evidence file accepted by an upload; larger ones get 413.")
    evidence_dir: str = Field("backoffice-evidence", description="Folder where uploaded evidence is kept, by sha256.")
    webhook_sources: dict[str, WebhookSource] = Field(
        default_factory=dict, description='Signed webhook senders, as JSON: {"erp": {"secret": "...", '
                                          '"account": "svc-erp"}}.')
    webhook_window_seconds: int = Field(300, ge=10, le=WEBHOOK_WINDOW_MOST_SECONDS,
                                        description="How far a webhook's timestamp may be from now.")
    intake_per_minute: int = Field(600, ge=1, le=1_000_000,
                                   description="Most cases one caller (or webhook source) starts a minute, per process.")
    page_limit: int = Field(100, ge=1, le=1000, description="Most items one page of a list returns.")
    request_threads: int = Field(8, ge=1, le=1000, description="Requests one server process works on at once (its "
                                                               "thread pool); the others wait their turn.")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$", description="Lowest level logged.")
    access_log: bool = Field(True, description="Log one JSON line per request.")
    session_hours: int = Field(12, ge=1, le=24 * 30,
                               description="How long a web sign-in lasts without being used, in hours.")
    secure_cookies: bool = Field(False, description="Send the web app's cookies over HTTPS only (set it behind "
                                                    "TLS).")
    sign_in_attempts: int = Field(5, ge=1, le=100, description="Wrong passwords in a row before a person's "
                                                               "sign-in is locked for sign_in_lock_minutes.")
    sign_in_lock_minutes: int = Field(15, ge=1, le=24 * 60, description="How long a locked sign-in stays locked.")


# Both interfaces are served from one process by one set of settings.
ServerSettings = ApiSettings


def load_settings(settings_file: str | None = None, **overrides: object) -> ApiSettings:
    """Return the settings from the file (if any), the environment and `overrides` (None values ignored)."""
    given = {name: value for name, value in overrides.items() if value is not None}
    if settings_file:
        if not Path(settings_file).is_file():
            raise BadOption("--settings", settings_file, "a readable settings file (BACKOFFICE_NAME=value lines)")
    try:
        if settings_file:
            return ApiSettings(_env_file=settings_file, **given)  # type: ignore[call-arg]
        return ApiSettings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + "_".join(map(str, first["loc"])).upper()
        raise BadOption(name, first.get("input"), first["msg"].lower()) from exc
