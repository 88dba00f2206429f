"""Notification kinds are named (commerce.messaging.notices.Notice), and every one is rendered.

Why: a kind is written by the core and read by the bot. As plain strings, a renamed kind became a
row that no renderer knew, and the recipient got the catalog's missing-key text or nothing.
"""

from __future__ import annotations

import pytest

from bot import i18n
from bot.notifications import _RENDERERS, _load_role_renderers, renders
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from tests.support import Db


def test_every_notice_has_a_renderer_or_a_sentence_in_each_language():
    _load_role_renderers()
    unrendered = [
        (kind.value, lang)
        for kind in Notice
        # A REPLY carries its own rendered reply (workers.outbox.routing): nothing to look up.
        if kind not in _RENDERERS and kind != Notice.REPLY
        for lang in ("fr", "en")
        if not i18n.has(lang, f"notify.{kind}")
    ]
    assert unrendered == []


def test_every_renderer_is_for_a_notice():
    _load_role_renderers()
    assert set(_RENDERERS) <= set(Notice)


def test_a_renderer_for_a_kind_that_is_no_notice_fails_at_import():
    with pytest.raises(ValueError):
        renders("order_plaecd")(lambda *_: None)  # type: ignore[arg-type]


def test_notify_refuses_a_kind_that_is_no_notice(db: Db):
    with db.session() as s:
        with pytest.raises(ValueError):
            notify(s, user_id=1, kind="order_plaecd")  # type: ignore[arg-type]
        assert not s.new  # nothing was added to the session
