"""`boutik doctor`: check a deployment against its providers, one line per finding.

Why: Twilio, Meta and Telegram fail quietly when set up wrong (a webhook on an old address, a
rotated token, a number on another account): messages are refused or reach nobody, and the
first to notice is a customer. Doctor reads what each provider reports, compares it with the
config and says what to fix, in plain words, without printing a secret, a full phone number or
a signed link.

To add a check: write a function `(Runtime) -> list[Result]` and append it to CHECKS.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from boutik.doctor.meta import check_meta
from boutik.doctor.results import CALL_TIMEOUT_S, Check, Result, Status
from boutik.doctor.storage import check_database, check_redis
from boutik.doctor.telegram import check_telegram
from boutik.doctor.twilio import check_twilio
from boutik.doctor.web import check_public_url
from boutik.runtime import Runtime
from settings import log_redaction

__all__ = ["CALL_TIMEOUT_S", "CHECKS", "Check", "Result", "Status", "render", "run_checks"]

# In the order a person fixes things: the address, the storage, then each provider.
CHECKS: list[Check] = [
    check_public_url,
    check_database,
    check_redis,
    check_twilio,
    check_meta,
    check_telegram,
]


def run_checks(rt: Runtime, checks: Iterable[Check] = CHECKS) -> Iterator[Result]:
    """Each check's results as they come; a check that crashes is a problem line, not a
    traceback (its exception's type only: messages can carry URLs with credentials)."""
    for check in checks:
        try:
            yield from check(rt)
        except Exception as exc:
            yield Result.problem(
                check.__name__.removeprefix("check_").replace("_", " ").capitalize(),
                f"the check itself failed ({type(exc).__name__})",
                "report it with the logs of this run",
            )


def render(result: Result) -> str:
    """One line: status, subject, what was found and, for a problem, how to fix it — passed
    through the log redaction as a last guard against a secret or number slipping through."""
    line = f"{result.status.value:<8} {result.subject}: {result.text}"
    if result.fix:
        line += f". Fix: {result.fix}"
    return log_redaction.redact(line)
