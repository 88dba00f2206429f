"""The config loader: config.toml, then the BOUTIK_CONFIG overlay, then the environment;
secrets only from the environment and never shown; a wrong value stops start-up naming its key."""

from __future__ import annotations

import dataclasses
import re

import pytest

from boutik.runtime import rules_from_config
from commerce.rules import Rules
from settings.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, signing_key

SECRET = "s3cr3t-t0k3n-value"


@pytest.fixture
def overlay(tmp_path):
    """Write an overlay file and return the environment that points at it."""

    def write(text: str, **env: str) -> dict[str, str]:
        path = tmp_path / "overlay.toml"
        path.write_text(text, encoding="utf-8")
        return {"BOUTIK_CONFIG": str(path), **env}

    return write


def base_without(tmp_path, line_pattern: str):
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    new = re.sub(line_pattern, "", text, count=1, flags=re.M)
    assert new != text
    path = tmp_path / "base.toml"
    path.write_text(new, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid_and_matches_the_rules():
    cfg = load_config(environ={})
    assert cfg.database.url.startswith("sqlite:///")
    assert cfg.queue.redis_url == ""
    assert (cfg.delivery.rate_per_km, cfg.delivery.minimum) == (2000, 10000)
    assert cfg.delivery.code_validity_days == 7
    assert cfg.delivery.pin_max_attempts == 5
    assert cfg.delivery.max_active_jobs == 5
    assert cfg.returns.window_days == 30
    assert cfg.loyalty.gnf_per_point == 10000
    assert cfg.moderation.reports_to_deactivate == 10
    assert cfg.telegram.admin_ids == ()
    assert cfg.secrets.twilio_auth_token == ""
    # The rules the core enforces by default are those of the shipped config.
    assert rules_from_config(cfg) == Rules()


def test_an_overlay_with_three_keys_is_valid_and_keeps_the_rest(overlay):
    env = overlay(
        """
[delivery]
rate_per_km = 2500
minimum = 12000

[web]
port = 9000
"""
    )
    cfg = load_config(environ=env)
    assert (cfg.delivery.rate_per_km, cfg.delivery.minimum, cfg.web.port) == (2500, 12000, 9000)
    base = load_config(environ={})
    assert cfg.delivery.max_active_jobs == base.delivery.max_active_jobs
    assert cfg.web.host == base.web.host
    assert cfg.database == base.database
    r = rules_from_config(cfg)
    assert (r.rate_per_km, r.minimum_commission) == (2500, 12000)


def test_environment_overrides_database_and_redis_urls(overlay):
    env = overlay(
        '[database]\nurl = "sqlite:///elsewhere.db"\n',
        DATABASE_URL="postgresql+psycopg://boutik@db:5432/boutik",
        REDIS_URL="redis://cache:6379/0",
    )
    cfg = load_config(environ=env)
    assert cfg.database.url == "postgresql+psycopg://boutik@db:5432/boutik"
    assert cfg.queue.redis_url == "redis://cache:6379/0"


def test_an_empty_environment_variable_does_not_override():
    cfg = load_config(environ={"DATABASE_URL": "", "REDIS_URL": ""})
    assert cfg.database.url == load_config(environ={}).database.url


def test_environment_urls_are_checked_too():
    with pytest.raises(ConfigError, match=r"database\.url"):
        load_config(environ={"DATABASE_URL": "mysql://root@localhost/boutik"})
    with pytest.raises(ConfigError, match=r"queue\.redis_url"):
        load_config(environ={"REDIS_URL": "http://cache:6379"})


def test_secrets_come_from_the_environment():
    cfg = load_config(
        environ={
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": SECRET,
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_WEBHOOK_SECRET": "hook",
            "OPENAI_API_KEY": "sk-x",
        }
    )
    s = cfg.secrets
    assert (s.twilio_account_sid, s.twilio_auth_token) == ("AC123", SECRET)
    assert (s.telegram_bot_token, s.telegram_webhook_secret, s.openai_api_key) == (
        "123:abc",
        "hook",
        "sk-x",
    )


def test_the_meta_provider_reads_its_keys_and_its_secrets_only_from_the_environment(overlay):
    env = overlay(
        '[whatsapp]\nprovider = "meta"\n[meta]\nphone_number_id = "106540352242922"\n',
        META_WHATSAPP_TOKEN="EAAG-token",
        META_APP_SECRET="app-secret",
        META_VERIFY_TOKEN="verify-me",
    )
    cfg = load_config(environ=env)
    assert cfg.whatsapp.provider == "meta"
    assert (cfg.meta.phone_number_id, cfg.meta.graph_version) == ("106540352242922", "v23.0")
    assert (cfg.meta.api_base_url, cfg.meta.rate_per_s) == ("", 80.0)
    s = cfg.secrets
    assert (s.meta_whatsapp_token, s.meta_app_secret, s.meta_verify_token) == (
        "EAAG-token",
        "app-secret",
        "verify-me",
    )
    assert "EAAG-token" not in repr(cfg) and "app-secret" not in repr(cfg)
    assert load_config(environ={}).whatsapp.provider == "twilio"  # the shipped default
    with pytest.raises(ConfigError, match=r"meta\.meta_whatsapp_token: unknown key"):
        load_config(environ=overlay('[meta]\nmeta_whatsapp_token = "in-a-file"\n'))


def test_secrets_are_hidden_in_repr():
    cfg = load_config(environ={"TWILIO_AUTH_TOKEN": SECRET, "TELEGRAM_BOT_TOKEN": SECRET + "2"})
    for text in (repr(cfg), str(cfg), repr(cfg.secrets), f"{cfg}"):
        assert SECRET not in text
    assert cfg.secrets.twilio_auth_token == SECRET


@pytest.mark.parametrize(
    "text",
    [
        '[secrets]\ntwilio_auth_token = "in-a-file"\n',
        '[twilio]\ntwilio_auth_token = "in-a-file"\n',
    ],
)
def test_secrets_cannot_come_from_a_file(overlay, text):
    with pytest.raises(ConfigError) as exc:
        load_config(environ=overlay(text))
    assert "secrets" in str(exc.value) or "twilio.twilio_auth_token" in str(exc.value)
    assert "in-a-file" not in str(exc.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[delivery]\nrate_per_km = -1\n", "delivery.rate_per_km"),
        ('[delivery]\nrate_per_km = "2000"\n', "delivery.rate_per_km"),
        ("[delivery]\nrate_per_km = 2000.5\n", "delivery.rate_per_km"),
        ("[delivery]\nrate_per_km = true\n", "delivery.rate_per_km"),
        ("[delivery]\npin_max_attempts = 0\n", "delivery.pin_max_attempts"),
        ("[web]\nport = 70000\n", "web.port"),
        ('[web]\npublic_base_url = "ftp://x"\n', "web.public_base_url"),
        ('[web]\ntrust_forwarded = "yes"\n', "web.trust_forwarded"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ("[returns]\nwindow_days = -3\n", "returns.window_days"),
        ("[loyalty]\ngnf_per_point = 0\n", "loyalty.gnf_per_point"),
        ('[twilio]\nwhatsapp_from = "+224622123456"\n', "twilio.whatsapp_from"),
        ('[telegram]\nadmin_ids = [1, "two"]\n', "telegram.admin_ids[1]"),
        ("[telegram]\nadmin_ids = 5\n", "telegram.admin_ids"),
        ("[moderation]\nreports_to_deactivate = 0\n", "moderation.reports_to_deactivate"),
        ('[whatsapp]\nprovider = "360dialog"\n', "whatsapp.provider"),
        ('[meta]\ngraph_version = "23"\n', "meta.graph_version"),
        ('[meta]\napi_base_url = "graph.facebook.com"\n', "meta.api_base_url"),
        ("[meta]\nrate_per_s = 0\n", "meta.rate_per_s"),
        # The Cloud API cannot send without knowing which business number to send from.
        ('[whatsapp]\nprovider = "meta"\n', "meta.phone_number_id"),
    ],
)
def test_a_wrong_value_stops_with_an_error_naming_the_key(overlay, text, key):
    with pytest.raises(ConfigError) as exc:
        load_config(environ=overlay(text))
    assert str(exc.value).startswith(key + ":")


def test_floats_accept_whole_numbers_and_lists_become_tuples(overlay):
    cfg = load_config(
        environ=overlay("[delivery]\noffer_radius_km = 5\n[telegram]\nadmin_ids = [42, 7]\n")
    )
    assert cfg.delivery.offer_radius_km == 5.0 and isinstance(cfg.delivery.offer_radius_km, float)
    assert cfg.telegram.admin_ids == (42, 7)


def test_unknown_key_is_refused(overlay):
    with pytest.raises(ConfigError) as exc:
        load_config(environ=overlay("[delivery]\nrate_per_mile = 3000\n"))
    assert str(exc.value).startswith("delivery.rate_per_mile: unknown key")
    assert "rate_per_km" in str(exc.value)  # the message lists the known keys


def test_unknown_section_is_refused(overlay):
    with pytest.raises(ConfigError) as exc:
        load_config(environ=overlay("[payments]\nprovider = 'x'\n"))
    assert str(exc.value).startswith("payments: unknown section")


def test_a_key_outside_any_table_is_refused(overlay):
    with pytest.raises(ConfigError, match="port"):
        load_config(environ=overlay("port = 9000\n"))


def test_a_missing_key_is_named(tmp_path):
    path = base_without(tmp_path, r"^minimum = \d+\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    assert str(exc.value).startswith("delivery.minimum: missing")


def test_missing_or_broken_files(tmp_path, overlay):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="BOUTIK_CONFIG"):
        load_config(environ={"BOUTIK_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError, match="BOUTIK_CONFIG"):
        load_config(environ=overlay("[delivery\nrate_per_km = 1\n"))
    broken = tmp_path / "broken.toml"
    broken.write_text("[web\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, environ={})


def test_config_is_frozen_and_replace_makes_a_copy():
    cfg = load_config(environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.delivery.rate_per_km = 1  # type: ignore[misc]
    other = cfg.replace(delivery__rate_per_km=3000, returns__window_days=14)
    assert (other.delivery.rate_per_km, other.returns.window_days) == (3000, 14)
    assert other.delivery.minimum == cfg.delivery.minimum
    assert cfg.delivery.rate_per_km == 2000


def test_the_link_signing_key_comes_from_the_environment_through_the_config():
    """BOUTIK_SECRET_KEY travels in the config, so web and workers sign alike; unset, the
    machine's own key is used, the same on every call, and a link signed under one key fails
    under the other."""
    from channels_adapters.media import signed_media_url, verify

    set_key = signing_key(load_config(environ={"BOUTIK_SECRET_KEY": "k" * 40}))
    machine = signing_key(load_config(environ={}))
    assert set_key == b"k" * 40
    assert machine == signing_key(load_config(environ={})) and len(machine) >= 32
    assert machine != set_key
    url = signed_media_url("https://b.gn", "qr/7.png", key=set_key, ttl_s=60, now=1000.0)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    assert verify("qr/7.png", query["e"], query["s"], key=set_key, now=1001.0)
    assert not verify("qr/7.png", query["e"], query["s"], key=machine, now=1001.0)
    assert "kkkk" not in repr(load_config(environ={"BOUTIK_SECRET_KEY": "k" * 40}))


def test_each_runtime_enforces_its_own_rules_in_one_process(tmp_path) -> None:
    """Rules travel with the session factory, not a module global: two runtimes side by side
    (tests, the simulator beside a test server) keep their own."""
    from boutik.runtime import Runtime
    from commerce import rules

    url = f"sqlite:///{tmp_path}/r.db"
    base = load_config(environ={"DATABASE_URL": url})
    strict = Runtime(base.replace(delivery__minimum=25_000, delivery__pin_max_attempts=2))
    plain = Runtime(base)
    try:
        with strict.session_factory() as a, plain.session_factory() as b:
            assert (rules.of(a).minimum_commission, rules.of(a).pin_max_attempts) == (25_000, 2)
            assert rules.of(b) == rules_from_config(base) == rules.Rules()
    finally:
        strict.dispose()
        plain.dispose()
