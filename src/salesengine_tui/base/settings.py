"""Settings: command-line flags over environment (SALESENGINE_*) over a TOML file over defaults.

The file is `config.toml` in the user's config folder, or the path in SALESENGINE_CONFIG_FILE
(tests point that at a fixed file). Nothing here touches the disk at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "salesengine"


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_file() -> Path:
    """The settings file read: SALESENGINE_CONFIG_FILE, else the user's config folder's."""
    return Path(os.environ.get("SALESENGINE_CONFIG_FILE") or default_config_file())


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


class Settings(BaseSettings):
    """Everything configurable. Secrets are SecretStr so they never print by accident."""

    model_config = SettingsConfigDict(env_prefix="SALESENGINE_", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="postgresql:// URL; none starts the embedded server"
    )
    user: str | None = Field(default=None, description="acting user's login (default: OS login)")
    data_dir: Path = Field(default_factory=default_data_dir)
    business_timezone: str = "America/Chicago"
    # Phone numbers typed without a country code are read in this country (ISO 3166 code),
    # and its numbers are shown in national format.
    phone_region: str = "US"

    # Boards repaint when another terminal moves a card (PostgreSQL LISTEN/NOTIFY).
    live_updates: bool = True
    # LISTEN needs a session of its own: a direct server URL when database_url is a pooler in
    # transaction mode (PgBouncer, Supabase's pooler). Unset: database_url.
    listen_url: SecretStr | None = None
    # The connection budget. An open app keeps `pool_size` query connections (plus its one
    # listener) and opens up to `pool_overflow` more while a screen loads parts side by side.
    pool_size: int = Field(default=1, ge=1)
    pool_overflow: int = Field(default=2, ge=0)
    # The jobs runner keeps `jobs_pool_size` (plus its listener) and one more per running job.
    jobs_pool_size: int = Field(default=2, ge=1)
    # How this runner is named in `salesengine-jobs status` (unset: the machine's host name).
    runner_name: str | None = None
    # Offered when a card moves to a Lost stage (free text is always allowed too).
    lost_reasons: list[str] = Field(
        default_factory=lambda: [
            "Price too high",
            "Went with a competitor",
            "Repaired instead of replacing",
            "No decision / went quiet",
            "Timing: not this season",
            "Financing declined",
        ]
    )

    email_provider: Literal["file", "sendgrid", "postmark"] = "file"
    email_from: str = "SalesEngine <sales@example.com>"
    outbox_dir: Path | None = None
    sendgrid_api_key: SecretStr | None = None
    sendgrid_base_url: str = "https://api.sendgrid.com"
    postmark_server_token: SecretStr | None = None
    postmark_base_url: str = "https://api.postmarkapp.com"
    postmark_stream: str = "outbound"  # one-to-one email (follow-ups)
    postmark_broadcast_stream: str = "broadcast"  # campaigns
    # The jobs runner: nurture once a night after this local time; the outbox every N seconds.
    nurture_at: str = "02:00"
    outbox_every_seconds: int = Field(default=5, ge=1)
    # A claimed outbox row whose sender has not reported back after this long goes back to
    # the queue (the sender died); keep it well above a provider's slowest answer.
    outbox_lease_seconds: int = Field(default=600, ge=1)
    # The longest wait a provider's Retry-After can impose on queued email (one hour).
    outbox_retry_after_max_seconds: int = Field(default=3600, ge=0)
    company_postal_address: str | None = None
    # The public address of the outreach service's /unsubscribe (behind your TLS proxy),
    # e.g. https://mail.example.com/unsubscribe: each link adds the customer's signed token.
    unsubscribe_url: str | None = None
    # The outreach loop (`salesengine-jobs serve`). The key signs unsubscribe links and reply
    # addresses (HMAC-SHA256); the previous key is still accepted after a rotation.
    signing_key: SecretStr | None = None
    signing_key_previous: SecretStr | None = None
    # Unsubscribe links work this long after the email was sent (CAN-SPAM: 30 days at least).
    unsubscribe_valid_days: int = Field(default=400, ge=60)
    # Replies go to reply+<token>@<reply_domain> (Postmark's inbound address or the domain
    # SendGrid's Inbound Parse receives for); unset: replies go to email_from.
    reply_domain: str | None = None
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(default=8025, ge=0, le=65535)
    # HTTP basic auth the providers' webhook URLs carry (https://user:password@host/...).
    webhook_username: str | None = None
    webhook_password: SecretStr | None = None
    # SendGrid's Event Webhook verification key (Mail Settings > Signed Event Webhook): the
    # base64 public key SendGrid shows.
    sendgrid_webhook_public_key: str | None = None
    # A signed SendGrid batch older than this is refused (a replay of a captured request).
    webhook_max_age_seconds: int = Field(default=600, ge=1)
    # Request bodies larger than this are refused (413); inbound mail with attachments is the
    # largest a provider sends.
    webhook_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # The runner pulls the providers' suppressions this often (sites without a public URL).
    suppressions_every_minutes: int = Field(default=60, ge=1)
    # `salesengine leads import` refuses a file larger than this (it is read as a stream).
    leads_import_max_mb: int = Field(default=50, ge=1)
    # [keymap] "board.move_next" = "ctrl+l": binding id -> keys (see base/keymap). Kept as
    # read: a bad entry is reported with its line and left out, never a failed start.
    keymap: dict[str, Any] = Field(default_factory=dict)

    @field_validator("nurture_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        from datetime import time

        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a time of day (use HH:MM, e.g. 02:00)") from exc
        return value

    @field_validator("phone_region")
    @classmethod
    def _country_code(cls, value: str) -> str:
        if not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise ValueError(f"{value!r} is not a country code (use two letters, e.g. US)")
        return value.upper()

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use a name like 'America/Chicago')"
            ) from exc
        return value

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file()
        # init (the CLI flags) > environment > TOML file > defaults
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))


def load_settings(**flags: Any) -> Settings:
    """Build settings; flags left as None do not override the lower layers. A settings file
    that cannot be read as TOML is a UserError naming the file (and the line)."""
    import tomllib

    from .errors import UserError

    try:
        return Settings(**{key: value for key, value in flags.items() if value is not None})
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"settings file {config_file()}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"settings file {config_file()}: not TOML (not UTF-8 text)") from None
    except OSError as exc:
        raise UserError(f"settings file {config_file()}: {exc.strerror or exc}") from None
