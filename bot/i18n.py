"""Message catalogs: every sentence a user reads, in French (default) and English.

One TOML file per flow and language (bot/locales/fr/buyer.toml …), merged at load.

Why TOML files rather than strings in handlers: translators edit one file per language, a
missing key is caught by a test that compares the catalogs, and handlers stay free of wording.
"""

from __future__ import annotations

import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

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


@lru_cache(maxsize=4096)
def decimal(lang: str, value: float | Decimal, places: int = 1) -> str:
    """5.0 → "5,0" in French, "5.0" in English (Babel's number formats), rounded one way
    everywhere: half up (1.25 → 1.3, 1.75 → 1.8), never Python's binary or half-even rounding.
    Memoised: a product list formats the same few prices on every turn, and Babel's formatter
    was 4 % of a turn's CPU (issue 20)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    step = Decimal(1).scaleb(-places)
    exact = Decimal(str(value)) if isinstance(value, float) else value
    rounded = exact.quantize(step, rounding=ROUND_HALF_UP)
    return format_decimal(rounded, format="0." + "0" * places if places else "0", locale=lang)


def _plural(lang: str, key: str, params: dict[str, Any]) -> str | None:
    """A catalog entry written as a table of plural forms (`added = { one = "…", other = "…" }`)
    picks its form by the `count` parameter, as the language's plural rules say (Babel's CLDR
    data: French says "one" for 0 and 1, English for 1 only)."""
    count = params.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        return None
    for table in (catalog(lang), catalog(DEFAULT)):
        form = Locale.parse(lang if table is catalog(lang) else DEFAULT).plural_form(count)
        found = table.get(f"{key}.{form}") or table.get(f"{key}.other")
        if found:
            return found
    return None


def t(lang: str, key: str, **params: Any) -> str:
    """The sentence `key` in `lang`, with `params` filled in; amounts given as `*_gnf` ints
    are formatted `250 000 GNF`, decimal numbers (floats) as the language writes them with one
    decimal ("5,0"); an entry with plural forms picks one by `count`. Falls back to French,
    then to the key itself."""
    lang = lang if lang in LANGUAGES else DEFAULT
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or _plural(lang, key, params) or key
    values = _Params()
    for name, value in params.items():
        if name.endswith("_gnf") and isinstance(value, int):
            values[name] = format_gnf(value)
        elif isinstance(value, float | Decimal):
            values[name] = decimal(lang, value)
        else:
            values[name] = value
    return text.format_map(values)


def has(lang: str, key: str) -> bool:
    found = catalog(lang)
    return key in found or f"{key}.other" in found  # a sentence, or its plural forms
