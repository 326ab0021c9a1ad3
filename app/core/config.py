"""Settings read from the environment (prefix ``COCREATE_``) and an optional ``.env`` file."""

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = BASE_DIR / "templates"
STATIC_DIR = BASE_DIR / "static"
MIGRATIONS_DIR = BASE_DIR / "migrations"
PACKAGE_DATA_DIR = Path(__file__).resolve().parents[1] / "data"

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105
DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"

HTMX_VERSION = "2.0.11"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
HTMX_SSE_VERSION = "2.2.4"
HTMX_SSE_SRI = "sha384-A986SAtodyH8eg8x8irJnYUk7i9inVQqYigD6qZ9evobksGNIXfeFvDwLSHcp31N"
HTMX_SSE_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx-ext-sse@{HTMX_SSE_VERSION}/dist/sse.min.js"
LEAFLET_VERSION = "1.9.4"


class ConfigurationError(RuntimeError):
    """The settings cannot run the app; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COCREATE_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    secret_key: str = ""
    # Where people reach the site, for the absolute URLs of calendar files and feeds: never taken from a
    # request, whose Host header anyone can write.
    base_url: str = ""
    database_url: str = ""
    # Connections each process keeps open to PostgreSQL, and how many more it may open at a peak. A
    # connection opened past the pool is closed again after its request, and a new one costs PostgreSQL
    # a process start: under a sustained peak (a room voting at once) that churn took a sixth of the
    # machine, so by default a request past the pool waits for a connection instead.
    database_pool_size: int = Field(default=30, gt=0)
    database_max_overflow: int = Field(default=0, ge=0)
    data_dir: Path = BASE_DIR / "var"
    assets: Literal["cdn", "local"] = "cdn"
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "&copy; OpenStreetMap contributors"
    # A Nominatim-compatible search URL for finding places by name (app/network/geocoder.py); empty:
    # no place search, and nothing leaves the server.
    geocoder_url: str = ""
    session_idle_minutes: int = Field(default=60 * 24 * 7, gt=0)
    session_max_age_days: int = Field(default=30, gt=0)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    trusted_proxies: str = ""
    # A line per request in the server's log; by default in development only.
    access_log: bool | None = None
    # Overrides of the default rate limits: action=per_user/per_address/seconds, comma separated.
    rate_limits: str = ""
    _limits: dict = PrivateAttr(default_factory=dict)
    _voting_key: str | None = PrivateAttr(default=None)

    @property
    def limits(self) -> dict:
        """The rate limit of each action (``app.core.ratelimit.Limit``)."""
        return self._limits

    @property
    def voting_key(self) -> str:
        """The deployment's voting key (``app.voting.keys``), read from the database at start-up: never
        the secret key, so rotating that one lets no one vote twice."""
        if self._voting_key is None:
            raise RuntimeError("the voting key is read from the database when the app starts")
        return self._voting_key

    def use_voting_key(self, key: str) -> None:
        self._voting_key = key

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.env == "production" and len(self.secret_key) < 32:
            raise ConfigurationError(
                "COCREATE_SECRET_KEY must be set to a random value of at least 32 characters when "
                'COCREATE_ENV=production. Make one with: python3 -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        if not self.secret_key:
            self.secret_key = DEVELOPMENT_SECRET_KEY
        self.base_url = self._checked_base_url()
        from app.core.ratelimit import parse_limits  # the models import the settings module

        try:
            self._limits = parse_limits(self.rate_limits)
        except ValueError as error:
            raise ConfigurationError(f"COCREATE_RATE_LIMITS: {error}") from None
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'cocreate.db'}"
        return self

    def _checked_base_url(self) -> str:
        if not self.base_url:
            if self.env == "production":
                raise ConfigurationError(
                    "COCREATE_BASE_URL must be set when COCREATE_ENV=production: the address people reach "
                    "the site at, for example https://cocreate.example.org"
                )
            return DEVELOPMENT_BASE_URL
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigurationError(
                "COCREATE_BASE_URL must be an http or https address with a host and nothing after the "
                "path, for example https://cocreate.example.org"
            )
        return self.base_url.rstrip("/")

    @cached_property
    def base_host(self) -> str:
        """The host (and port) of ``base_url``, for identifiers such as calendar UIDs."""
        return urlsplit(self.base_url).netloc

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def logs_each_request(self) -> bool:
        return (not self.is_production) if self.access_log is None else self.access_log

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def map_tile_origin(self) -> str:
        """The scheme and host of the tile server, for the CSP's img-src."""
        parts = urlsplit(self.map_tile_url.replace("{s}.", ""))
        host = parts.netloc
        if "{s}" in self.map_tile_url:
            host = "*." + host
        return f"{parts.scheme}://{host}" if parts.scheme else ""

    @property
    def session_cookie_name(self) -> str:
        return "__Host-cocreate_session" if self.is_production else "cocreate_session"

    @property
    def anon_cookie_name(self) -> str:
        return "__Host-cocreate_anon" if self.is_production else "cocreate_anon"
