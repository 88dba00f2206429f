"""The Telegram "/" menus Boutik registers: sellers' everywhere, admins' in their own chats.

Why one home: `boutik telegram set-commands` writes these menus and `boutik doctor` reads them
back to say whether Telegram still shows them; two copies would drift. Names are per language
(a French seller types /nouveau); descriptions come from the catalogs
(bot/locales/*/seller.toml [seller.commands], admin.toml [admin.commands]).
"""

from __future__ import annotations

from bot import i18n

SELLER_COMMANDS = {
    "fr": (
        *("start", "nouveau", "produits", "promo", "codepromo", "mescodes", "commandes"),
        *("caisse", "stats", "aide"),
    ),
    "en": (
        *("start", "new", "products", "promo", "promocode", "mycodes", "orders"),
        *("cash", "stats", "help"),
    ),
}
_SELLER_KEYS = (
    *("start", "new", "products", "promo", "promo_code", "my_codes", "orders"),
    *("cash", "stats", "help"),
)
ADMIN_COMMANDS = {
    "fr": (
        *("moderation", "signalements", "utilisateurs", "export", "chiffres", "codes"),
        *("livreur", "correction", "aide"),
    ),
    "en": (
        *("moderation", "reports", "users", "export", "figures", "codes"),
        *("courier", "correction", "help"),
    ),
}
_ADMIN_KEYS = (
    *("moderation", "reports", "users", "export", "figures", "codes"),
    *("courier", "correction", "help"),
)

LANGUAGES = tuple(SELLER_COMMANDS)


def seller_menu(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs of the menu every chat shows in `lang`."""
    return [
        (name, i18n.t(lang, f"seller.commands.{key}"))
        for name, key in zip(SELLER_COMMANDS[lang], _SELLER_KEYS, strict=True)
    ]


def admin_menu(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs shown instead in each admin's own chat."""
    return [
        (name, i18n.t(lang, f"admin.commands.{key}"))
        for name, key in zip(ADMIN_COMMANDS[lang], _ADMIN_KEYS, strict=True)
    ]
