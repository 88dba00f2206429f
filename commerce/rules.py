"""The business parameters the core enforces, carried by the session they apply to.

Why not read config.toml here: the core must not know where settings come from (a file, a
test, the simulator). Why not a module global: two runtimes in one process (tests, the
simulator beside a test server) would overwrite each other's. The session factory carries them
(`commerce.db.make_session_factory(engine, rules=…)`, built by `boutik.runtime.Runtime` from the
config with `rules_from_config`); an action reads them with `rules.of(session)`, and a pure
function (pricing, a code's lock) is handed them by its caller.

The defaults are what tests and a bare import run with, and they are config.toml's values, not
a second source: `tests/unit/test_config.py` fails the moment the shipped config.toml and
`Rules()` disagree (`rules_from_config(load_config()) == Rules()`), so change both together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


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
    # Spending points at checkout ([loyalty] in config.toml): what one point is worth, the
    # most of an order's goods (after any code) points may pay, and the balance needed first.
    gnf_per_point_spent: int = 100
    max_share_of_order_pct: int = 20
    min_points_to_spend: int = 20
    reports_to_deactivate: int = 10
    # A courier holding more cash than this, or cash older than this, is told (and the admins):
    # once per crossing. 0 turns that alert off.
    max_cash_held_gnf: int = 3_000_000
    max_cash_age_hours: int = 48


DEFAULT = Rules()
_KEY = "boutik_rules"


def bind(factory: sessionmaker[Session], rules: Rules) -> None:
    """Every session this factory makes from now on enforces `rules`."""
    factory.kw.setdefault("info", {})[_KEY] = rules


def of(session: Session) -> Rules:
    """The rules this session's factory was given (config.toml's defaults when none were)."""
    found = session.info.get(_KEY)
    return found if isinstance(found, Rules) else DEFAULT
