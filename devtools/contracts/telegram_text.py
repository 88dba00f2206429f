"""Text as Telegram counts it: after entities parsing.

Why: the description limits a message text to "1-4096 characters after entities parsing" (a
caption to 0-1024): `<b>` tags, MarkdownV2 markers and escapes and link targets do not count,
and a text of markup only is empty. The contract checker and the emulator measure the same way.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_MDV2_LINK = re.compile(r"\]\((?:\\.|[^)\\])*\)")
_MDV2_MARKERS = re.compile(r"\\(.)|[*_~|`\[]|^>", re.M | re.S)
_MD_LINK = re.compile(r"\]\([^)]*\)")


def visible_text(text: str, parse_mode: Any) -> str:
    """What is left of `text` once Telegram has parsed its entities (the length it limits).

    Meant for markup Telegram would parse (the emulator checks that first; on broken markup
    this is an estimate). MarkdownV2: markers and link targets go, an escaped character stays;
    legacy Markdown: its four markers and link targets go.
    """
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    if mode == "html":
        parser = _HtmlText()
        parser.feed(text)
        parser.close()
        return "".join(parser.parts)
    if mode == "markdownv2":
        return _MDV2_MARKERS.sub(lambda m: m[1] or "", _MDV2_LINK.sub("", text))
    if mode == "markdown":
        return re.sub(r"[*_`\[]", "", _MD_LINK.sub("", text))
    return text
