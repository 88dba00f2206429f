"""Message catalogs: every sentence a user reads, in French (default) and English.

One TOML file per flow and language (bot/locales/fr/buyer.toml …), merged at load.

Why TOML files rather than strings in handlers: translators edit one file per language, a
missing key is caught by a test that compares the catalogs, and handlers stay free of wording.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from commerce.money import format_gnf

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
DEFAULT = "fr"


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalog(lang: str) -> dict[str, str]:
    """All of a language's files (bot/locales/<lang>/*.toml, one per flow) merged into one."""
    lang = lang if lang in LANGUAGES else DEFAULT
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.toml")):
        table: dict[str, str] = {}
        _flatten("", tomllib.loads(path.read_text(encoding="utf-8")), table)
        clash = set(table) & set(out)
        if clash:
            raise ValueError(f"{path.name}: keys defined twice: {sorted(clash)[:5]}")
        out.update(table)
    return out


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(lang: str, key: str, **params: Any) -> str:
    """The sentence `key` in `lang`, with `params` filled in; amounts given as `*_gnf` ints
    are formatted `250 000 GNF`. Falls back to French, then to the key itself."""
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or key
    values = _Params()
    for name, value in params.items():
        if name.endswith("_gnf") and isinstance(value, int):
            values[name] = format_gnf(value)
        else:
            values[name] = value
    return text.format_map(values)


def has(lang: str, key: str) -> bool:
    return key in catalog(lang)
