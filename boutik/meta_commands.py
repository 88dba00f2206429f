"""`boutik meta templates sync|status`: the notice templates at Meta, made and followed.

Why a command of its own: templates are made once per WhatsApp Business Account (and again when
the catalog gains a notice), not at every start, and Meta reviews them on its own schedule (from
minutes to a day): an operator runs `sync` after a deploy and `status` until every notice is
approved. Until then, buyers outside the 24 h window get SMS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from boutik.runtime import Runtime
from channels_adapters.senders.result import SendError
from settings import log_redaction
from settings.config import ConfigError, get_config

T = TypeVar("T")


def _runtime() -> Runtime:
    try:
        rt = Runtime(get_config())
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    config = rt.config
    if not config.secrets.meta_whatsapp_token:
        raise click.ClickException("set META_WHATSAPP_TOKEN first")
    if not config.meta.phone_number_id or not config.meta.waba_id:
        raise click.ClickException(
            "set [meta] phone_number_id and waba_id first (Meta App Dashboard > WhatsApp > "
            "API Setup shows both)"
        )
    return rt


def _at_meta(call: Callable[[Runtime], T]) -> T:
    """`call` on a runtime set up for Meta, disposed after; Meta's refusal as the error."""
    rt = _runtime()
    try:
        return call(rt)
    except SendError as exc:
        refused = log_redaction.redact(f"Meta refused ({exc.code}): {exc.reason}")
        raise click.ClickException(refused) from exc
    finally:
        rt.dispose()


def _echo(line: str) -> None:
    click.echo(log_redaction.redact(line))  # Meta's reasons are free text: no number shown


@click.group(help="Meta WhatsApp Cloud API set-up.")
def meta() -> None:
    pass


@meta.group(help="WhatsApp message templates at Meta: the buyer notices sent outside 24 h.")
def templates() -> None:
    pass


@templates.command("sync", help="Create the missing notice templates at Meta, record all.")
def templates_sync() -> None:
    from channels_adapters.meta_template_sync import sync

    report = _at_meta(lambda rt: sync(rt.meta_sender, rt.session_factory))
    _echo(
        f"templates: {len(report.created)} created, {len(report.existing)} already there"
        + (f", {len(report.refused)} refused" if report.refused else "")
        + (f", {len(report.removed)} forgotten" if report.removed else "")
        + "; Meta reviews each before it can be sent (`boutik meta templates status`)"
    )
    for name in report.created:
        _echo(f"  created {name}")
    for name, reason in report.refused:
        _echo(f"  refused {name}: {reason}")
    for name in report.outdated:
        _echo(
            f"  outdated {name}: its text is not the catalog's; delete it in WhatsApp Manager "
            "and sync again"
        )
    if report.refused:
        raise click.ClickException(f"{len(report.refused)} template(s) refused by Meta")


@templates.command("status", help="Read every review status back from Meta and print them.")
def templates_status() -> None:
    from channels_adapters.meta_template_sync import status

    rows = _at_meta(lambda rt: status(rt.meta_sender, rt.session_factory))
    if not rows:
        click.echo("no templates recorded: run `boutik meta templates sync` first")
        return
    for row in rows:
        reason = f"  ({row.rejection_reason})" if row.rejection_reason else ""
        _echo(
            f"{row.friendly_name:<40} {row.content_sid:<18} {row.language}  "
            f"{row.approval.value}{reason}"
        )
