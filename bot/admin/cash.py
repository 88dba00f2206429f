"""The admins' side of the cash ledger: settling a disputed hand-over, and corrections.

- A dispute (its alert, and each open one under /chiffres) carries "Reçu" / "Non reçu"
  (`ld:ok:<remittance>`, `ld:no:<remittance>`); the tap asks for a reason, then
  `commerce.ledger.actions.resolve_dispute` settles it. A dispute settled meanwhile (another
  admin, a double tap) is answered "déjà traitée" from the core's RemittanceState.
- `/correction`: whose account (phone or name), which account (`lc:a:<index>` into the list
  shown), the amount with its sign, the reason, then "Confirmer" (`lc:ok`) — one new balanced
  entry against the platform account (`commerce.ledger.actions.correct`), keyed once per
  dialogue so a double tap records it once.

The core checks the admin role on every read and write here; the payloads carry ids only.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from bot.admin.states import AdminState as S
from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from commerce import backoffice
from commerce.catalog.models import Shop
from commerce.errors import InvalidInput
from commerce.ledger import actions as ledger
from commerce.ledger.errors import AlreadyRecorded
from commerce.ledger.models import AccountKind, Remittance
from commerce.users.models import User

MAX_CORRECTION = 100_000_000  # GNF: a typo's extra zeros are refused, not recorded
CORR = "correction"  # ctx.data: the correction being prepared


def _name(ctx: Context, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    return (user.name if user else "") or f"#{user_id}"


def _shop(ctx: Context, seller_id: int) -> str:
    shop = ctx.session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    return shop.name if shop else f"#{seller_id}"


# --- disputes -------------------------------------------------------------------------------


def dispute_choices(ctx: Context, disputes: list[Remittance]) -> tuple[Choice, ...]:
    """ "Reçu n°12" / "Non reçu n°12" for each open dispute."""
    out: list[Choice] = []
    for d in disputes:
        out.append(Choice(f"ld:ok:{d.id}", ctx.t("admin.dispute.received", id=d.id)))
        out.append(Choice(f"ld:no:{d.id}", ctx.t("admin.dispute.not_received", id=d.id)))
    return tuple(out)


def dispute_ask(msg: InboundMessage, ctx: Context) -> Result:
    remittance_id = payload_id(msg)
    received = msg.payload.startswith("ld:ok:")
    open_ = {d.id: d for d in ledger.open_disputes(ctx.session, admin_id=ctx.user.id)}
    d = open_.get(remittance_id)
    if d is None:  # settled meanwhile, or no such dispute
        return S.MENU, [Text(ctx.t("error.remittance_state"))]
    ctx.data["dispute"] = [d.id, received]
    text = ctx.t(
        "admin.dispute.ask_reason_received" if received else "admin.dispute.ask_reason_not",
        id=d.id,
        courier=_name(ctx, d.courier_id),
        shop=_shop(ctx, d.seller_id),
        amount_gnf=d.amount,
    )
    return S.DISPUTE_REASON, [Text(text)]


def dispute_reason(msg: InboundMessage, ctx: Context) -> Result:
    pending = ctx.data.pop("dispute", None)
    if not isinstance(pending, list) or len(pending) != 2:
        return S.MENU, [Text(ctx.t("admin.dispute.expired"))]
    remittance_id, received = int(pending[0]), bool(pending[1])
    rem = ledger.resolve_dispute(
        ctx.session,
        admin_id=ctx.user.id,
        remittance_id=remittance_id,
        received=received,
        reason=msg.text.strip()[: ledger.MAX_REASON],
    )
    key = "admin.dispute.settled_received" if received else "admin.dispute.settled_not"
    return S.MENU, [
        Text(
            ctx.t(
                key,
                id=rem.id,
                courier=_name(ctx, rem.courier_id),
                shop=_shop(ctx, rem.seller_id),
                amount_gnf=rem.amount,
            )
        )
    ]


# --- corrections ----------------------------------------------------------------------------


def correction(msg: InboundMessage, ctx: Context) -> Result:
    backoffice.find_users(ctx.session, admin_id=ctx.user.id, query="")  # checks the role
    ctx.data[CORR] = {"key": uuid.uuid4().hex}
    return S.CORR_WHO, [Text(ctx.t("admin.correction.ask_who"))]


def _corr(ctx: Context) -> dict[str, Any]:
    value = ctx.data.get(CORR)
    return dict(value) if isinstance(value, dict) else {}


def _expired(ctx: Context) -> Result:
    ctx.data.pop(CORR, None)
    return S.MENU, [Text(ctx.t("admin.correction.expired"))]


def correction_who(msg: InboundMessage, ctx: Context) -> Result:
    found = backoffice.find_users(ctx.session, admin_id=ctx.user.id, query=msg.text)
    if not found:
        return S.CORR_WHO, [Text(ctx.t("admin.users.none"))]
    if len(found) > 1:
        choices = tuple(
            Choice(f"lc:u:{u.id}", f"{u.name or '—'} · {u.phone or u.telegram_id or ''}"[:40])
            for u in found
        )
        return S.CORR_WHO, [Choices(text=ctx.t("admin.users.found", n=len(found)), choices=choices)]
    return _accounts(ctx, found[0].id)


def correction_user(msg: InboundMessage, ctx: Context) -> Result:
    """ "lc:u:<user>": the person picked among several matches."""
    if not _corr(ctx):
        return _expired(ctx)
    return _accounts(ctx, payload_id(msg))


def _account_label(ctx: Context, a: ledger.Account) -> str:
    if a.kind == AccountKind.COURIER_CASH:
        return ctx.t(
            "admin.correction.account_courier_cash",
            order_id=a.order_id,
            shop=_shop(ctx, a.party_id or 0)[:20],
            balance_gnf=a.balance,
        )
    return ctx.t(f"admin.correction.account_{a.kind.value}", balance_gnf=a.balance)


def _accounts(ctx: Context, user_id: int) -> Result:
    accounts = ledger.accounts_of(ctx.session, admin_id=ctx.user.id, user_id=user_id)
    if not accounts:
        ctx.data.pop(CORR, None)
        return S.MENU, [Text(ctx.t("admin.correction.no_account", name=_name(ctx, user_id)))]
    ctx.data[CORR] = {
        **_corr(ctx),
        "user": user_id,
        "accounts": [[a.kind.value, a.owner_id, a.party_id, a.order_id] for a in accounts],
    }
    choices = tuple(
        Choice(f"lc:a:{i}", _account_label(ctx, a)[:60]) for i, a in enumerate(accounts)
    )
    text = ctx.t("admin.correction.pick_account", name=_name(ctx, user_id))
    return S.CORR_ACCOUNT, [Choices(text=text, choices=choices)]


def correction_account(msg: InboundMessage, ctx: Context) -> Result:
    corr = _corr(ctx)
    accounts = corr.get("accounts") or []
    parts = msg.payload.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise InvalidInput("bad button", payload=msg.payload[:64])
    index = int(parts[2])
    if not accounts or index >= len(accounts):
        return _expired(ctx)
    ctx.data[CORR] = {**corr, "account": accounts[index]}
    return S.CORR_AMOUNT, [Text(ctx.t("admin.correction.ask_amount"))]


_AMOUNT = re.compile(r"^([+-])\s*(\d[\d\s.\u202f]*)\s*(gnf)?$", re.IGNORECASE)


def parse_signed_amount(text: str) -> int | None:
    """ "+50 000", "-10000 GNF" → ±GNF; the sign is required (which way is the point)."""
    m = _AMOUNT.match(text.strip())
    if m is None:
        return None
    digits = re.sub(r"\D", "", m.group(2))
    value = int(digits) if digits else 0
    if value <= 0 or value > MAX_CORRECTION:
        return None
    return value if m.group(1) == "+" else -value


def correction_amount(msg: InboundMessage, ctx: Context) -> Result:
    corr = _corr(ctx)
    if not corr.get("account"):
        return _expired(ctx)
    amount = parse_signed_amount(msg.text)
    if amount is None:
        return S.CORR_AMOUNT, [Text(ctx.t("admin.correction.ask_amount"))]
    ctx.data[CORR] = {**corr, "amount": amount}
    return S.CORR_REASON, [Text(ctx.t("admin.correction.ask_reason"))]


def correction_reason(msg: InboundMessage, ctx: Context) -> Result:
    corr = _corr(ctx)
    if not corr.get("account") or not corr.get("amount"):
        return _expired(ctx)
    reason = " ".join(msg.text.split())[: ledger.MAX_REASON]
    ctx.data[CORR] = {**corr, "reason": reason}
    kind, owner, party, order = corr["account"]
    label = (
        _account_label(ctx, ledger.Account(AccountKind(kind), int(owner), party, order, balance=0))
        .split(":")[0]
        .strip()
    )
    text = ctx.t(
        "admin.correction.summary",
        name=_name(ctx, int(owner)),
        account=label,
        amount=f"{corr['amount']:+,}".replace(",", " ") + " GNF",
        reason=reason,
    )
    choices = (
        Choice("lc:ok", ctx.t("admin.correction.confirm")),
        Choice("lc:no", ctx.t("admin.correction.cancel")),
    )
    return S.CORR_CONFIRM, [Choices(text=text, choices=choices)]


def correction_confirm(msg: InboundMessage, ctx: Context) -> Result:
    corr = ctx.data.pop(CORR, None)
    if msg.payload == "lc:no":
        return S.MENU, [Text(ctx.t("admin.correction.cancelled"))]
    if not isinstance(corr, dict) or not all(corr.get(k) for k in ("account", "amount", "reason")):
        return S.MENU, [Text(ctx.t("admin.correction.expired"))]
    kind, owner, party, order = corr["account"]
    amount = int(corr["amount"])
    lines = [
        ledger.Line(AccountKind(kind), amount, int(owner), party, order),
        ledger.Line(AccountKind.PLATFORM, -amount),
    ]
    try:
        entry = ledger.correct(
            ctx.session,
            admin_id=ctx.user.id,
            lines=lines,
            reason=str(corr["reason"]),
            order_id=order,
            key=str(corr["key"]),
        )
    except AlreadyRecorded:
        return S.MENU, [Text(ctx.t("error.already_recorded"))]
    replies: list[Reply] = [
        Text(ctx.t("admin.correction.done", id=entry.id, name=_name(ctx, int(owner))))
    ]
    return S.MENU, replies
