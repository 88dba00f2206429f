"""The business parameters the core enforces, set once from config at start-up.

Why not read config.toml here: the core must not know where settings come from (a file, a
test, the simulator). `boutik.runtime.Runtime` calls `configure()` with values from the config
dataclass (`rules_from_config`).

The defaults are what tests and a bare import run with, and they are config.toml's values, not
a second source: `tests/unit/test_config.py` fails the moment the shipped config.toml and
`Rules()` disagree (`rules_from_config(load_config()) == Rules()`), so change both together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Rules:
    rate_per_km: int = 2000
    minimum_commission: int = 10000
    code_validity_days: int = 7
    pin_max_attempts: int = 5
    # Wrong PINs one person (courier, or seller delivering) may give across all their orders
    # within `courier_pin_window_s` before their PIN entry pauses for that long.
    courier_pin_max_failures: int = 8
    courier_pin_window_s: int = 3600
    max_active_jobs: int = 5
    return_window_days: int = 30
    gnf_per_point: int = 10000
    reports_to_deactivate: int = 10


_current = Rules()


def configure(rules: Rules) -> None:
    global _current
    _current = rules


def current() -> Rules:
    return _current
