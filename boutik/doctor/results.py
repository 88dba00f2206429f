"""What a doctor check answers: one line each, ok / problem (with its fix) / warning / info.

Why a value per finding rather than prints: the command renders them, the tests read them, and
a new check only has to return its own list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from boutik.runtime import Runtime

# Every call to a provider, the database or Redis gives up after this long: a doctor that
# hangs on a dead service is no help.
CALL_TIMEOUT_S = 5.0


class Status(StrEnum):
    OK = "ok"
    PROBLEM = "PROBLEM"  # something is wrong: the command exits non-zero
    WARN = "warn"  # worth a look, not wrong on its own
    INFO = "info"  # what could not be checked, and why; or a mode worth knowing


@dataclass(frozen=True)
class Result:
    status: Status
    subject: str
    text: str
    fix: str = ""

    @classmethod
    def ok(cls, subject: str, text: str) -> Result:
        return cls(Status.OK, subject, text)

    @classmethod
    def problem(cls, subject: str, text: str, fix: str) -> Result:
        return cls(Status.PROBLEM, subject, text, fix)

    @classmethod
    def warn(cls, subject: str, text: str, fix: str = "") -> Result:
        return cls(Status.WARN, subject, text, fix)

    @classmethod
    def info(cls, subject: str, text: str) -> Result:
        return cls(Status.INFO, subject, text)


# A check reads the deployment's configuration (through its Runtime) and returns its lines.
Check = Callable[[Runtime], list[Result]]


def public_url(rt: Runtime, path: str) -> str:
    """The URL a provider must call for `path`: [web] public_base_url + path."""
    return rt.config.web.public_base_url.rstrip("/") + path


def shown_url(url: str) -> str:
    """A URL safe to print: no credentials, no query (a signed link's signature lives there)."""
    if not url:
        return "(none)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{query}" if parts.scheme else "(not a URL)"
