"""Configuration: `config.toml` read once into a frozen dataclass.

Why this shape: every process (web, worker, CLI, tests) must agree on one typed view of the
settings, and a wrong value must stop start-up with a message naming the key, not surface as an
odd failure hours later. Secrets never come from a file: only from the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from secrets import token_hex
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"


class ConfigError(Exception):
    """A configuration key is missing, unknown or has the wrong type or value."""


def _positive(value: Any) -> bool:
    return value > 0


def _non_negative(value: Any) -> bool:
    return value >= 0


def _http_url_or_empty(value: str) -> bool:
    return value == "" or value.startswith(("http://", "https://"))


def _database_url(value: str) -> bool:
    return value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://"))


def _redis_url_or_empty(value: str) -> bool:
    return value == "" or value.startswith(("redis://", "rediss://", "unix://"))


def _check(
    predicate: typing.Callable[[Any], bool], expected: str, default: Any = dataclasses.MISSING
) -> Any:
    return field(default=default, metadata={"check": predicate, "expected": expected})


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    host: str
    port: int = _check(lambda p: 0 < p < 65536, "a TCP port between 1 and 65535")
    public_base_url: str = _check(
        lambda u: u.startswith(("http://", "https://")), "an http(s):// URL"
    )
    trust_forwarded: bool = False
    media_link_ttl_s: int = _check(_positive, "a positive number of seconds")


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    url: str = _check(_database_url, "a sqlite:// or postgresql+psycopg:// URL")
    sqlite_busy_timeout_ms: int = _check(_non_negative, "milliseconds, 0 or more")


@dataclass(frozen=True, kw_only=True)
class QueueConfig:
    redis_url: str = _check(_redis_url_or_empty, 'a redis:// URL, or "" to run jobs in-process')
    # A row left "sending" this long belonged to a worker that died: it is put back in line.
    stale_sending_s: int = 120
    # How often each worker (or the embedded server) looks for due and abandoned messages.
    sweep_every_s: float = 10.0


@dataclass(frozen=True, kw_only=True)
class TwilioConfig:
    whatsapp_from: str = _check(lambda s: s.startswith("whatsapp:+"), "'whatsapp:+<E.164>'")
    sms_from: str = _check(lambda s: s.startswith("+"), "an E.164 number such as +224…")
    api_base_url: str = _check(_http_url_or_empty, 'an http(s):// URL, or "" for Twilio')
    whatsapp_rate_per_s: float = _check(_positive, "messages per second, more than 0")
    sms_segments_per_s: float = _check(_positive, "segments per second, more than 0")
    # Overrides, on top of the templates `boutik twilio templates sync` records in the database:
    # approved WhatsApp templates (ContentSid "HX…") by notification kind, used outside the
    # 24 h window; and the dynamic menus used inside it, one per exact shape:
    # "quick_reply_1".."quick_reply_3", "list_picker_1".."list_picker_10" and their
    # "list_picker_N_described" twins (channels_adapters.render.menu_shape). The older
    # "quick_reply" / "list_picker" keys serve only 3-button / 10-described-row menus.
    content_templates: dict[str, str] = field(default_factory=dict)


WHATSAPP_PROVIDERS = ("twilio", "meta")


@dataclass(frozen=True, kw_only=True)
class WhatsAppConfig:
    """Which provider carries WhatsApp for this deployment: one per deployment.

    Why a choice and not both: a buyer's WhatsApp number talks to one business number, held
    either at Twilio or directly at Meta's Cloud API. Nothing above `channels_adapters/` and
    `workers/` looks at this: same flows, same outbox, same menus, same 24 h window rule.
    """

    provider: str = _check(lambda p: p in WHATSAPP_PROVIDERS, '"twilio" or "meta"', "twilio")


@dataclass(frozen=True, kw_only=True)
class MetaConfig:
    """The WhatsApp Cloud API (Meta's Graph API, no intermediary): `[whatsapp] provider = "meta"`.

    The access token, the app secret (webhook signatures) and the webhook verify token come
    from the environment only (META_WHATSAPP_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN).
    """

    phone_number_id: str = ""
    waba_id: str = ""
    graph_version: str = _check(
        lambda v: re.fullmatch(r"v\d+\.\d+", v) is not None,
        'a Graph API version such as "v23.0"',
        "v23.0",
    )
    api_base_url: str = _check(
        _http_url_or_empty, 'an http(s):// URL, or "" for graph.facebook.com', ""
    )
    # Messages per second per business phone number (Meta's default throughput: 80).
    rate_per_s: float = _check(_positive, "messages per second, more than 0", 80.0)


@dataclass(frozen=True, kw_only=True)
class TelegramConfig:
    api_base_url: str = _check(_http_url_or_empty, 'an http(s):// URL, or "" for Telegram')
    admin_ids: tuple[int, ...] = ()
    rate_per_s: float = _check(_positive, "messages per second, more than 0")
    rate_per_chat_per_s: float = _check(_positive, "messages per second, more than 0")


@dataclass(frozen=True, kw_only=True)
class DeliveryConfig:
    rate_per_km: int = _check(_non_negative, "GNF per km, 0 or more")
    minimum: int = _check(_non_negative, "GNF, 0 or more")
    offer_radius_km: float = _check(_positive, "km, more than 0")
    offer_radius_step_km: float = _check(_positive, "km, more than 0")
    offer_waves: int = _check(_positive, "a count, 1 or more")
    offer_timeout_s: int = _check(_positive, "seconds, more than 0")
    code_validity_days: int = _check(_positive, "days, 1 or more")
    pin_max_attempts: int = _check(_positive, "a count, 1 or more")
    courier_pin_max_failures: int = _check(_positive, "a count, 1 or more")
    courier_pin_window_s: int = _check(_positive, "seconds, more than 0")
    max_active_jobs: int = _check(_positive, "a count, 1 or more")


@dataclass(frozen=True, kw_only=True)
class ReturnsConfig:
    window_days: int = _check(_non_negative, "days, 0 or more")


@dataclass(frozen=True, kw_only=True)
class LoyaltyConfig:
    gnf_per_point: int = _check(_positive, "GNF per point, more than 0")
    # What a point is worth when spent at checkout, the most of an order points may pay and
    # the balance a buyer needs before she is offered to spend them.
    gnf_per_point_spent: int = _check(_positive, "GNF per point spent, more than 0", 100)
    max_share_of_order_pct: int = _check(
        lambda v: 0 < v <= 100, "a percentage between 1 and 100", 20
    )
    min_points_to_spend: int = _check(_positive, "a number of points, 1 or more", 20)


@dataclass(frozen=True, kw_only=True)
class ModerationConfig:
    reports_to_deactivate: int = _check(_positive, "a count, 1 or more")


@dataclass(frozen=True, kw_only=True)
class LedgerConfig:
    """Cash custody thresholds: beyond either, the courier and the admins are told once."""

    max_cash_held_gnf: int = _check(_non_negative, "GNF, 0 (no alert) or more", 3_000_000)
    max_cash_age_hours: int = _check(_non_negative, "hours, 0 (no alert) or more", 48)


@dataclass(frozen=True, kw_only=True)
class LlmConfig:
    base_url: str = _check(_http_url_or_empty, 'an http(s):// URL, or "" for offline mode')
    model: str = ""


@dataclass(frozen=True, kw_only=True)
class MediaConfig:
    dir: str


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """The browser simulator (`boutik serve --simulator`): development only, never production.

    When enabled, `serve` mounts the provider emulators in the same app, points the senders at
    them and uses per-process development secrets when none are set in the environment.
    """

    enabled: bool = False


@dataclass(frozen=True, kw_only=True)
class Secrets:
    """Only ever read from the environment; repr hides the values so logs never leak them."""

    twilio_account_sid: str = field(default="", repr=False)
    twilio_auth_token: str = field(default="", repr=False)
    telegram_bot_token: str = field(default="", repr=False)
    telegram_webhook_secret: str = field(default="", repr=False)
    openai_api_key: str = field(default="", repr=False)
    meta_whatsapp_token: str = field(default="", repr=False)
    meta_app_secret: str = field(default="", repr=False)
    meta_verify_token: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)  # signs media and QR links


@dataclass(frozen=True, kw_only=True)
class Config:
    web: WebConfig
    database: DatabaseConfig
    queue: QueueConfig
    twilio: TwilioConfig
    telegram: TelegramConfig
    delivery: DeliveryConfig
    returns: ReturnsConfig
    loyalty: LoyaltyConfig
    moderation: ModerationConfig
    llm: LlmConfig
    media: MediaConfig
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)
    meta: MetaConfig = field(default_factory=MetaConfig)
    secrets: Secrets = field(default_factory=Secrets)

    @property
    def media_dir(self) -> Path:
        path = Path(self.media.dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def replace(self, **sections: Any) -> Config:
        """A copy with whole sections or `section__key` values swapped (tests use this)."""
        changes: dict[str, Any] = {}
        for name, value in sections.items():
            if "__" in name:
                section, key = name.split("__", 1)
                base = changes.get(section, getattr(self, section))
                changes[section] = dataclasses.replace(base, **{key: value})
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes)


# Environment variable → (section, key). Secrets are handled separately.
ENV_OVERRIDES = {
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("queue", "redis_url"),
}
SECRET_ENV = {
    "TWILIO_ACCOUNT_SID": "twilio_account_sid",
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "TELEGRAM_BOT_TOKEN": "telegram_bot_token",
    "TELEGRAM_WEBHOOK_SECRET": "telegram_webhook_secret",
    "OPENAI_API_KEY": "openai_api_key",
    "META_WHATSAPP_TOKEN": "meta_whatsapp_token",
    "META_APP_SECRET": "meta_app_secret",
    "META_VERIFY_TOKEN": "meta_verify_token",
    "BOUTIK_SECRET_KEY": "secret_key",
}


def _merge(base: dict[str, Any], overlay: Mapping[str, Any], where: str) -> None:
    for section, values in overlay.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"{section}: expected a [{section}] table in {where}")
        base.setdefault(section, {}).update(values)


def _coerce(path: str, tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{path}: expected a string, got {value!r}")
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a table of keys and values, got {value!r}")
        return {
            _coerce(f"{path}", key_tp, k): _coerce(f"{path}.{k}", value_tp, v)
            for k, v in value.items()
        }
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return tuple(_coerce(f"{path}[{i}]", item_tp, v) for i, v in enumerate(value))
    if isinstance(tp, types.UnionType):  # pragma: no cover - no optional keys today
        raise ConfigError(f"{path}: unsupported type")
    raise ConfigError(f"{path}: unsupported type {tp!r}")


def _build_section(name: str, cls: type, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for fname, f in known.items():
        path = f"{name}.{fname}"
        if fname not in values:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ConfigError(f"{path}: missing (expected {f.metadata.get('expected', 'a value')})")
        value = _coerce(path, hints[fname], values[fname])
        check = f.metadata.get("check")
        if check is not None and not check(value):
            raise ConfigError(f"{path}: expected {f.metadata['expected']}, got {value!r}")
        kwargs[fname] = value
    return cls(**kwargs)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read config.toml, then the file named by BOUTIK_CONFIG, then the environment."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    base_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        _merge(raw, tomllib.loads(base_path.read_text(encoding="utf-8")), str(base_path))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {base_path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{base_path}: not valid TOML ({exc})") from exc
    overlay_path = env.get("BOUTIK_CONFIG")
    if overlay_path:
        try:
            overlay = tomllib.loads(Path(overlay_path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"BOUTIK_CONFIG: file {overlay_path} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"BOUTIK_CONFIG: {overlay_path} is not valid TOML ({exc})") from exc
        _merge(raw, overlay, overlay_path)
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            raw.setdefault(section, {})[key] = env[var]
    sections = {f.name: f for f in dataclasses.fields(Config) if f.name != "secrets"}
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section (known: {', '.join(sorted(sections))})")
    hints = typing.get_type_hints(Config)
    built = {name: _build_section(name, hints[name], raw.get(name, {})) for name in sections}
    secrets = Secrets(**{attr: env.get(var, "") for var, attr in SECRET_ENV.items()})
    if built["whatsapp"].provider == "meta" and not built["meta"].phone_number_id:
        raise ConfigError(
            "meta.phone_number_id: missing (expected the Cloud API phone-number id when "
            'whatsapp.provider = "meta")'
        )
    return Config(**built, secrets=secrets)


@cache
def get_config() -> Config:
    """The process-wide configuration, read once."""
    return load_config()


def signing_key(config: Config) -> bytes:
    """The key that signs media and QR links: BOUTIK_SECRET_KEY, else one kept per machine.

    Why a file as the fallback: the web app and the workers of one machine must agree (a
    worker signs the QR link the web app checks) even when no key was set, as on `make run`.
    Several machines behind one address need BOUTIK_SECRET_KEY set alike (README).
    """
    if config.secrets.secret_key:
        return config.secrets.secret_key.encode()
    return _machine_key(PROJECT_ROOT / "var" / "secret_key")


@cache
def _machine_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process of this machine won
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token_hex(32))
    return path.read_text().strip().encode()
