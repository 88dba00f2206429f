"""Message catalogs: every sentence a user reads, in French (default) and English.

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
    lang = lang if lang in LANGUAGES else DEFAULT
    raw = tomllib.loads((LOCALES_DIR / f"{lang}.toml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    _flatten("", raw, out)
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
