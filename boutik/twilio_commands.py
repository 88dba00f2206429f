"""`boutik twilio templates sync|status`: the WhatsApp content templates, made and followed.

Why a command of its own: templates are made once per Twilio account (and again when the code
needs a new one), not at every start, and their WhatsApp approval takes Meta hours or days —
an operator runs `sync` after a deploy and `status` until the notices are approved.
"""

from __future__ import annotations

import click
from twilio.base.exceptions import TwilioException

from boutik.runtime import Runtime
from settings.config import ConfigError, get_config


def _runtime() -> Runtime:
    try:
        rt = Runtime(get_config())
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    s = rt.config.secrets
    if not s.twilio_account_sid or not s.twilio_auth_token:
        raise click.ClickException("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN first")
    return rt


@click.group(help="Twilio set-up.")
def twilio() -> None:
    pass


@twilio.group(help="WhatsApp content templates (Content API): menus by shape, buyer notices.")
def templates() -> None:
    pass


@templates.command("sync", help="Create the missing templates, submit the notices, record all.")
def templates_sync() -> None:
    from channels_adapters.twilio_template_sync import sync

    rt = _runtime()
    try:
        report = sync(rt.twilio_sender.client, rt.session_factory)
    except TwilioException as exc:
        raise click.ClickException(f"Twilio refused: {exc}") from exc
    finally:
        rt.dispose()
    click.echo(
        f"templates: {len(report.created)} created, {len(report.existing)} already there, "
        f"{len(report.submitted)} submitted for WhatsApp approval"
        + (f", {len(report.removed)} forgotten" if report.removed else "")
    )
    for name in report.created:
        click.echo(f"  created {name}")
    for name in report.outdated:
        click.echo(f"  outdated {name}: its text is not the catalog's; delete it and sync again")


@templates.command("status", help="Refresh every approval from Twilio and print the templates.")
def templates_status() -> None:
    from channels_adapters.twilio_template_sync import refresh_status

    rt = _runtime()
    try:
        rows = refresh_status(rt.twilio_sender.client, rt.session_factory)
    except TwilioException as exc:
        raise click.ClickException(f"Twilio refused: {exc}") from exc
    finally:
        rt.dispose()
    if not rows:
        click.echo("no templates recorded: run `boutik twilio templates sync` first")
        return
    for row in rows:
        reason = f"  ({row.rejection_reason})" if row.rejection_reason else ""
        click.echo(
            f"{row.friendly_name:<40} {row.content_sid}  {row.language}  "
            f"{row.approval.value}{reason}"
        )
