"""Turning an outbox notification (kind + params) into a reply for its recipient.

The core writes "order_placed {order_id: 1042}"; what the seller then sees — text, buttons —
is decided here, at send time, in the recipient's language. Each role's package registers
renderers for the kinds it owns (bot/<role>/notifications.py); a kind without one becomes the
plain sentence `notify.<kind>` from the catalogs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.messages import Reply, Text
from commerce.messaging.notices import Notice
from commerce.users.models import User

Renderer = Callable[[Session, User, dict[str, Any], str], Reply]
_RENDERERS: dict[str, Renderer] = {}
MONEY_PARAMS = ("total", "commission", "amount", "bonus")


def renders(*kinds: Notice) -> Callable[[Renderer], Renderer]:
    """Register `fn(session, user, params, lang) -> Reply` for notification `kinds`."""

    def register(fn: Renderer) -> Renderer:
        for kind in map(Notice, kinds):  # a string that is no Notice fails at import
            if kind in _RENDERERS:
                raise ValueError(f"two renderers for notification {kind!r}")
            _RENDERERS[kind] = fn
        return fn

    return register


def default_text(kind: str, params: dict[str, Any], lang: str) -> Text:
    values = dict(params)
    for money in MONEY_PARAMS:
        if isinstance(values.get(money), int):
            values[f"{money}_gnf"] = values[money]
    return Text(i18n.t(lang, f"notify.{kind}", **values))


def render_notification(
    session: Session, user: User | None, kind: str, params: dict[str, Any], lang: str
) -> Reply:
    _load_role_renderers()
    fn = _RENDERERS.get(kind)
    if fn is None or user is None:
        return default_text(kind, params, lang)
    return fn(session, user, params, lang)


_loaded = False


def _load_role_renderers() -> None:
    """Import each role's renderers once (they register themselves with @renders)."""
    global _loaded
    if _loaded:
        return
    import importlib

    for role in ("buyer", "seller", "admin", "courier"):
        try:
            importlib.import_module(f"bot.{role}.notifications")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.{role}.notifications":
                raise
    _loaded = True
