"""/caisse: the seller's cash — her balance, what each courier holds for her (with the one-tap
"Reçu … de …"), a dispute when it was not received, and a statement CSV for a period.

Every tap goes back to the core (`commerce.ledger.actions`), which checks the seller's role,
that the courier holds this amount for *her*, and the remittance's state: a forged or stale
button is refused there and answered with the error's sentence.
"""

from __future__ import annotations

import csv
import datetime as dt

from bot.flow import Context, Result
from bot.messages import Choice, Choices, Document, InboundMessage, Text
from bot.seller.states import SellerState as S
from commerce import clock
from commerce.errors import InvalidInput
from commerce.ledger import actions as ledger
from commerce.users.models import User

STATEMENT_DAYS = (7, 30)


def _name(ctx: Context, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    return (user.name if user else "") or f"#{user_id}"


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%d/%m %H:%M") if value is not None else "—"


def cash_text_and_choices(ctx: Context) -> tuple[str, tuple[Choice, ...]]:
    pos = ledger.seller_position(ctx.session, seller_id=ctx.user.id)
    lines = [
        ctx.t(
            "seller.cash.head",
            received_gnf=pos.received,
            pending_gnf=pos.pending,
            disputed_gnf=pos.disputed,
        )
    ]
    choices: list[Choice] = []
    for row in pos.by_courier:
        name = _name(ctx, row.courier_id)
        declared = (
            ctx.t("seller.cash.declared", amount_gnf=row.declared.amount) if row.declared else ""
        )
        if row.disputed:  # her "Pas reçu" is with an admin: the row says so
            declared += ctx.t("seller.cash.disputed_row", amount_gnf=row.disputed)
        lines.append(
            ctx.t(
                "seller.cash.courier",
                name=name,
                cash_gnf=row.cash,
                since=_when(row.since),
                declared=declared,
            )
        )
        # What her tap confirms: his declaration, else all he holds that is not in dispute.
        amount = row.declared.amount if row.declared else row.cash - row.disputed
        if row.declared or amount:
            choices.append(
                Choice(
                    f"k:ok:{row.courier_id}:{amount}",
                    ctx.t("seller.cash.received", amount_gnf=amount, name=name),
                )
            )
        if row.declared:
            choices.append(
                Choice(f"k:no:{row.declared.id}", ctx.t("seller.cash.not_received", name=name))
            )
    if not pos.by_courier:
        lines.append(ctx.t("seller.cash.none"))
    for days in STATEMENT_DAYS:
        choices.append(Choice(f"k:csv:{days}", ctx.t("seller.cash.statement", days=days)))
    return "\n".join(lines), tuple(choices)


def cash(msg: InboundMessage, ctx: Context) -> Result:
    text, choices = cash_text_and_choices(ctx)
    return S.MENU, [Choices(text=text, choices=choices)]


def _ints(payload: str, prefix: str, n: int) -> list[int]:
    parts = payload.removeprefix(prefix).split(":")
    if len(parts) != n or not all(p.lstrip("-").isdigit() for p in parts):
        raise InvalidInput("bad button", payload=payload[:64])
    return [int(p) for p in parts]


def cash_received(msg: InboundMessage, ctx: Context) -> Result:
    courier_id, amount = _ints(msg.payload, "k:ok:", 2)
    rem = ledger.confirm_remittance(
        ctx.session, seller_id=ctx.user.id, courier_id=courier_id, amount=amount
    )
    text = ctx.t("seller.cash.confirmed", amount_gnf=rem.amount, name=_name(ctx, courier_id))
    return S.MENU, [Text(text)]


def cash_not_received(msg: InboundMessage, ctx: Context) -> Result:
    [remittance_id] = _ints(msg.payload, "k:no:", 1)
    rem = ledger.dispute_remittance(ctx.session, seller_id=ctx.user.id, remittance_id=remittance_id)
    text = ctx.t("seller.cash.disputed", amount_gnf=rem.amount, name=_name(ctx, rem.courier_id))
    return S.MENU, [Text(text)]


def cash_statement(msg: InboundMessage, ctx: Context) -> Result:
    [days] = _ints(msg.payload, "k:csv:", 1)
    if days not in STATEMENT_DAYS:
        raise InvalidInput("bad period", days=days)
    end = clock.now()
    rows = list(
        ledger.seller_statement(
            ctx.session, seller_id=ctx.user.id, start=end - dt.timedelta(days=days), end=end
        )
    )
    filename = f"boutik-caisse-{end:%Y%m%d-%H%M%S}.csv"
    relative = f"exports/{ctx.user.id}/{filename}"
    target = ctx.media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(rows)
    caption = ctx.t("seller.cash.statement_caption", days=days, count=len(rows) - 1)
    return S.MENU, [Document(media_path=relative, filename=filename, caption=caption)]
