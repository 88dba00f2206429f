"""Telegram: the bot token opens a bot, the webhook points at Boutik and delivers, and the
"/" menus are the ones `boutik telegram set-commands` registers.

What Telegram does not reveal is said so: the secret token given to setWebhook is never
returned by getWebhookInfo, so doctor checks only that the config has one and that the webhook
was set for the current URL (set-webhook sends both together).
"""

from __future__ import annotations

import time
from typing import Any

from boutik.doctor.results import CALL_TIMEOUT_S, Result, Status, public_url, shown_url
from boutik.doctor.routes import telegram_path
from boutik.runtime import Runtime
from channels_adapters.senders import SendError, TelegramSender

# Updates Telegram holds for the bot beyond which deliveries are falling behind.
PENDING_UPDATES_WARN = 100
# A delivery error older than this is history (Telegram keeps the last one): a warning only.
RECENT_ERROR_S = 24 * 3600
_SET_WEBHOOK = "run `boutik telegram set-webhook`"


def check_telegram(rt: Runtime) -> list[Result]:
    secrets = rt.config.secrets
    if not secrets.telegram_bot_token:
        return [
            Result.problem(
                "Telegram bot",
                "TELEGRAM_BOT_TOKEN is not set",
                "create the bot with @BotFather and put its token in TELEGRAM_BOT_TOKEN",
            )
        ]
    sender = TelegramSender(
        secrets.telegram_bot_token, rt.config.telegram.api_base_url, timeout=CALL_TIMEOUT_S
    )
    try:
        bot = _bot(sender)
        if bot.status is Status.PROBLEM:
            return [bot, Result.info("Telegram webhook", "not checked: the bot answers first")]
        return [bot, *_webhook(rt, sender), _commands(rt, sender)]
    finally:
        sender.close()


def _unreachable(subject: str, exc: SendError) -> Result:
    return Result.problem(
        subject,
        f"Telegram did not answer ({exc.code}: {exc.reason})",
        "check this machine's network and [telegram] api_base_url",
    )


def _bot(sender: TelegramSender) -> Result:
    subject = "Telegram bot"
    try:
        me = sender.get_me()
    except SendError as exc:
        if exc.code in ("401", "404"):
            return Result.problem(
                subject,
                "Telegram refused TELEGRAM_BOT_TOKEN",
                "copy the bot's current token from @BotFather (/mybots > API Token)",
            )
        return _unreachable(subject, exc)
    return Result.ok(subject, f"the token opens @{me.get('username', '?')}")


def _webhook(rt: Runtime, sender: TelegramSender) -> list[Result]:
    subject = "Telegram webhook"
    expected = public_url(rt, telegram_path())
    try:
        info = sender.get_webhook_info()
    except SendError as exc:
        return [_unreachable(subject, exc)]
    url = str(info.get("url") or "")
    results = [_webhook_url(subject, url, expected, info)]
    if rt.config.secrets.telegram_webhook_secret:
        results.append(
            Result.info(
                "Telegram secret token",
                "set in the config; Telegram never reveals the one it sends, so a mismatch shows "
                "only as refused deliveries (see the webhook's last error)",
            )
        )
    else:
        results.append(
            Result.problem(
                "Telegram secret token",
                "TELEGRAM_WEBHOOK_SECRET is not set: Boutik refuses every update",
                "set TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -), then run "
                "`boutik telegram set-webhook`",
            )
        )
    results += _deliveries(info)
    return results


def _webhook_url(subject: str, url: str, expected: str, info: dict[str, Any]) -> Result:
    if not url:
        return Result.problem(
            subject, "no webhook is set: updates wait at Telegram, none reach Boutik", _SET_WEBHOOK
        )
    if url != expected:
        return Result.problem(
            subject, f"it points at {shown_url(url)}, not {expected}", _SET_WEBHOOK
        )
    allowed = info.get("allowed_updates") or []
    missing = [kind for kind in ("message", "callback_query") if allowed and kind not in allowed]
    if missing:
        return Result.problem(
            subject,
            f"it does not deliver {', '.join(missing)} updates (allowed_updates)",
            _SET_WEBHOOK,
        )
    return Result.ok(subject, f"set to {expected}")


def _deliveries(info: dict[str, Any]) -> list[Result]:
    results = []
    pending = int(info.get("pending_update_count") or 0)
    if pending > PENDING_UPDATES_WARN:
        results.append(
            Result.warn(
                "Telegram backlog",
                f"{pending} updates wait to be delivered",
                "check that Boutik answers its webhook quickly (its logs, the last error)",
            )
        )
    message = str(info.get("last_error_message") or "")
    if message:
        when = int(info.get("last_error_date") or 0)
        age_s = max(0, int(time.time()) - when) if when else None
        if age_s is None:
            ago = "at an unknown time"
        elif age_s < 60:
            ago = "less than a minute ago"
        else:
            ago = f"{age_s // 60} min ago"
        fix = (
            "the secret token Telegram sends is not TELEGRAM_WEBHOOK_SECRET: " + _SET_WEBHOOK
            if "403" in message
            else "check that the public URL reaches `boutik serve` and answers 200"
        )
        text = f"the last delivery failed {ago}: {message[:200]}"
        if age_s is not None and age_s > RECENT_ERROR_S:
            results.append(Result.warn("Telegram deliveries", text, fix))
        else:
            results.append(Result.problem("Telegram deliveries", text, fix))
    return results


def expected_menus(rt: Runtime) -> dict[tuple[str, int | None], list[tuple[str, str]]]:
    """What `boutik telegram set-commands` registers: (language, admin chat or None) → menu."""
    from bot import command_menu

    menus: dict[tuple[str, int | None], list[tuple[str, str]]] = {}
    for lang in command_menu.LANGUAGES:
        menus[(lang, None)] = command_menu.seller_menu(lang)
        for admin_id in rt.config.telegram.admin_ids:
            menus[(lang, admin_id)] = command_menu.admin_menu(lang)
    return menus


def _commands(rt: Runtime, sender: TelegramSender) -> Result:
    subject = "Telegram command menu"
    differ = []
    menus = expected_menus(rt)
    try:
        for (lang, chat), expected in menus.items():
            if sender.get_my_commands(lang, chat) != expected:
                differ.append(f"{lang} (admin chat)" if chat is not None else lang)
    except SendError as exc:
        return _unreachable(subject, exc)
    admins = len(rt.config.telegram.admin_ids)
    if differ:
        return Result.problem(
            subject,
            f"differs from Boutik's for {', '.join(dict.fromkeys(differ))}",
            "run `boutik telegram set-commands`",
        )
    shown = ", ".join(sorted({lang for lang, _ in menus}))
    return Result.ok(subject, f"as Boutik sets it ({shown}; {admins} admin chat(s))")
