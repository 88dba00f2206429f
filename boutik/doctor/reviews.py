"""What the template checks of both WhatsApp providers say the same way: which notice templates
were never synced or are gone from the provider, and which its review refused or still holds.

Why shared: the rule (a missing or unapproved notice sends buyers outside the 24 h window SMS)
and its wording are one; only the provider's name, where a template is deleted and the command
that reads the reviews back differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from boutik.doctor.results import Result
from commerce.messaging.templates import ApprovalStatus

REFUSED = (ApprovalStatus.REJECTED, ApprovalStatus.PAUSED, ApprovalStatus.DISABLED)


def names(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def presence(
    subject: str,
    total: int,
    missing: list[str],
    gone: list[str],
    *,
    provider: str,
    fix: str,
    otherwise: Result | None = None,
) -> Result:
    """A problem for a template never synced, then for one recorded but deleted at `provider`;
    else `otherwise` (a provider's own fault), else ok."""
    if missing:
        return Result.problem(
            subject, f"{len(missing)} of {total} never synced ({names(missing)})", fix
        )
    if gone:
        return Result.problem(
            subject, f"{len(gone)} recorded but deleted at {provider} ({names(gone)})", fix
        )
    return otherwise or Result.ok(subject, f"all {total} synced and present at {provider}")


@dataclass(frozen=True)
class Reviewer:
    """Who reviews the notice templates, in the words the lines use."""

    name: str  # "WhatsApp", "Meta": who approves or refuses
    waiting: str  # "still waiting for WhatsApp"
    delete_at: str  # where an operator deletes a refused template: "at Twilio"
    command: str  # the `boutik <command> templates status` that reads the reviews back


def approvals(
    subject: str, reviews: list[tuple[str, ApprovalStatus, str]], reviewer: Reviewer
) -> Result:
    """`reviews` (name, status, rejection reason) as one line: a problem if any is refused, a
    warning while any is still in review, else ok."""
    refused = [
        (name, f"{status.value}{': ' + reason if reason else ''}")
        for name, status, reason in reviews
        if status in REFUSED
    ]
    waiting = [
        name
        for name, status, _ in reviews
        if status not in REFUSED and status != ApprovalStatus.APPROVED
    ]
    if refused:
        name, why = refused[0]
        return Result.problem(
            subject,
            f"{len(refused)} refused by {reviewer.name} ({name}: {why})",
            f"reword the sentence in bot/locales, delete the template {reviewer.delete_at} and "
            "sync again; meanwhile those buyers get SMS outside the 24 h window",
        )
    if waiting:
        return Result.warn(
            subject,
            f"{len(waiting)} of {len(reviews)} {reviewer.waiting} ({names(waiting)}): until then "
            "buyers outside the 24 h window get SMS",
            f"wait for {reviewer.name}'s review, then `boutik {reviewer.command} templates status`",
        )
    return Result.ok(subject, f"all {len(reviews)} notices approved by {reviewer.name}")
