"""Admin handlers: the moderation queue, reports, users, CSV exports, platform figures, and
locked delivery codes (reissue) with paused PIN entry (lift).

Only admins reach this flow (bot/router.py), and every action and query below checks the admin
role again in the core. Callback data carry ids only; a stale one (an item another admin has
already decided) gets the core's refusal as a sentence, never a crash.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.admin.cash import dispute_choices
from bot.admin.states import AdminState as S
from bot.buyer.qr import write_qr
from bot.flow import Context, Result, payload_id
from bot.messages import (
    Choice,
    Choices,
    Document,
    Image,
    InboundKind,
    InboundMessage,
    Reply,
    Text,
)
from commerce import backoffice, clock
from commerce.catalog.models import Product, Shop
from commerce.delivery import actions as delivery
from commerce.delivery import lockouts
from commerce.delivery.models import Courier
from commerce.errors import InvalidInput, PermissionDenied
from commerce.exports import ExportKind, count, export_filename, write_csv
from commerce.ledger import actions as ledger
from commerce.messaging import events
from commerce.moderation import actions as mod
from commerce.moderation.actions import open_reports_against
from commerce.stats import platform_figures
from commerce.users import actions as users
from commerce.users.models import User

LARGE_EXPORT = 1000  # rows: above this, a progress message goes first
KINDS = {"s": "shop", "p": "product", "c": "courier"}
EXPORT_KINDS = list(ExportKind)  # event arguments are ints: the kind travels as its index


_id = payload_id  # the id at an index of a button payload


def _label(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def admin_menu(ctx: Context, text: str = "") -> Choices:
    return Choices(
        text=text or ctx.t("admin.menu.title"),
        choices=(
            Choice("a:mod", ctx.t("admin.menu.moderation")),
            Choice("a:rep", ctx.t("admin.menu.reports")),
            Choice("a:users", ctx.t("admin.menu.users")),
            Choice("a:export", ctx.t("admin.menu.export")),
            Choice("a:fig", ctx.t("admin.menu.figures")),
            Choice("a:codes", ctx.t("admin.menu.codes")),
        ),
    )


def entry(msg: InboundMessage, ctx: Context) -> Result:
    """The menu; a first message that is already a command or a button is routed instead."""
    is_start = msg.kind == InboundKind.COMMAND and msg.text.split()[0].split("@")[0] in (
        "/start", "/menu", "/annuler", "/cancel"
    )  # fmt: skip
    if not is_start and msg.kind in (InboundKind.COMMAND, InboundKind.BUTTON):
        from bot.admin.flow import FLOW  # the table imports this module

        handler = FLOW.route(S.MENU, msg, ctx)
        if handler is not None and handler is not entry:
            return handler(msg, ctx)
    for pending in ("mod", "add_courier", "dispute", "correction"):  # /annuler leaves any dialogue
        ctx.data.pop(pending, None)
    return S.MENU, [admin_menu(ctx)]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return S.MENU, [Text(ctx.t("admin.help"))]


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    return S.MENU, [Text(ctx.t("admin.unknown")), admin_menu(ctx)]


# --- moderation -------------------------------------------------------------------------------


def _shop_card(ctx: Context, shop: Shop) -> list[Reply]:
    owner = ctx.session.get(User, shop.owner_id)
    text = ctx.t(
        "admin.mod.shop",
        id=shop.id,
        name=shop.name,
        owner=(owner.name if owner else "") or "—",
        phone=(owner.phone if owner else "") or "—",
        prefecture=shop.prefecture,
        quartier=shop.quartier or "—",
        landmark=shop.landmark or "—",
        status=ctx.t(f"admin.shop_status.{shop.status.value}"),
    )
    return [Choices(text=text[:3500], choices=_decision("s", shop.id, ctx))]


def _product_card(ctx: Context, product: Product) -> list[Reply]:
    text = ctx.t(
        "admin.mod.product",
        id=product.id,
        name=product.name,
        shop=product.shop.name,
        category=product.category.name_en if ctx.lang == "en" else product.category.name_fr,
        brand=product.brand or "—",
        colour=product.colour or "—",
        price_gnf=product.price,
        stock=product.stock,
        description=(product.description or "—")[:1500],
        status=ctx.t(f"admin.product_status.{product.status.value}"),
    )
    replies: list[Reply] = []
    if product.photos:
        replies.append(Image(media_path=product.photos[0].path, caption=_label(product.name, 1000)))
    else:
        text += "\n" + ctx.t("admin.mod.no_photo")
    replies.append(Choices(text=text[:3500], choices=_decision("p", product.id, ctx)))
    return replies


def _courier_card(ctx: Context, courier: Courier) -> list[Reply]:
    user = ctx.session.get(User, courier.user_id)
    text = ctx.t(
        "admin.mod.courier",
        id=courier.id,
        name=(user.name if user else "") or "—",
        phone=(user.phone if user else "") or "—",
        prefecture=courier.prefecture,
        quartier=courier.quartier or "—",
        vehicle=courier.vehicle.value,
    )
    return [Choices(text=text[:3500], choices=_decision("c", courier.id, ctx))]


def _decision(kind: str, item_id: int, ctx: Context) -> tuple[Choice, ...]:
    return (
        Choice(f"m{kind}:a:{item_id}", ctx.t("admin.mod.approve")),
        Choice(f"m{kind}:r:{item_id}", ctx.t("admin.mod.refuse")),
        Choice(f"m:skip:{kind}:{item_id}", ctx.t("admin.mod.skip")),
    )


def _card(ctx: Context, kind: str, item_id: int) -> list[Reply]:
    if kind == "shop":
        shop = ctx.session.get(Shop, item_id)
        return _shop_card(ctx, shop) if shop else [Text(ctx.t("error.not_found"))]
    if kind == "product":
        product = ctx.session.get(Product, item_id)
        return _product_card(ctx, product) if product else [Text(ctx.t("error.not_found"))]
    courier = ctx.session.get(Courier, item_id)
    return _courier_card(ctx, courier) if courier else [Text(ctx.t("error.not_found"))]


def _skipped(ctx: Context) -> frozenset[tuple[str, int]]:
    return frozenset((k, int(i)) for k, i in ctx.data.get("skip", []))


def next_card(ctx: Context, before: list[Reply] | None = None) -> Result:
    item, waiting = backoffice.moderation_queue(
        ctx.session, admin_id=ctx.user.id, skip=_skipped(ctx)
    )
    replies = list(before or [])
    if item is None:
        ctx.data.pop("skip", None)
        replies.append(Text(ctx.t("admin.mod.empty", count=waiting)))
        return S.MENU, replies
    replies.append(Text(ctx.t("admin.mod.waiting", waiting=waiting)))
    return S.MENU, replies + _card(ctx, item.kind, item.id)


def moderation(msg: InboundMessage, ctx: Context) -> Result:
    ctx.data.pop("skip", None)
    return next_card(ctx)


def view_item(msg: InboundMessage, ctx: Context) -> Result:
    """ "mv:p:12": one item's card, from a notification's button."""
    kind = KINDS.get(msg.payload.split(":")[1] if msg.payload.count(":") == 2 else "")
    if kind is None:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    backoffice.moderation_queue(ctx.session, admin_id=ctx.user.id)  # checks the role
    return S.MENU, _card(ctx, kind, _id(msg))


def skip(msg: InboundMessage, ctx: Context) -> Result:
    parts = msg.payload.split(":")
    if len(parts) == 4 and parts[2] in KINDS:
        # A new list, not an append: nested values changed in place would not be saved.
        ctx.data["skip"] = [*ctx.data.get("skip", []), [KINDS[parts[2]], _id(msg)]][-200:]
    return next_card(ctx)


def _decide(ctx: Context, kind: str, item_id: int, approve: bool, reason: str = "") -> str:
    if kind == "s":
        shop = mod.decide_shop(
            ctx.session, admin_id=ctx.user.id, shop_id=item_id, approve=approve, reason=reason
        )
        name = shop.name
    elif kind == "p":
        product = mod.decide_product(
            ctx.session, admin_id=ctx.user.id, product_id=item_id, approve=approve, reason=reason
        )
        name = product.name
    else:
        courier = delivery.decide_courier(
            ctx.session, admin_id=ctx.user.id, courier_id=item_id, approve=approve, reason=reason
        )
        user = ctx.session.get(User, courier.user_id)
        name = (user.name if user else "") or f"#{courier.id}"
    key = "admin.mod.approved" if approve else "admin.mod.refused"
    return ctx.t(key, name=name)


def approve(msg: InboundMessage, ctx: Context) -> Result:
    kind = msg.payload[1:2]
    if kind not in KINDS:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    done = _decide(ctx, kind, _id(msg), approve=True)
    return next_card(ctx, [Text(done)])


def refuse_ask(msg: InboundMessage, ctx: Context) -> Result:
    kind = msg.payload[1:2]
    if kind not in KINDS:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    backoffice.moderation_queue(ctx.session, admin_id=ctx.user.id)  # checks the role
    ctx.data["mod"] = [kind, _id(msg)]
    return S.MOD_REASON, [Text(ctx.t("admin.mod.reason"))]


def refuse_reason(msg: InboundMessage, ctx: Context) -> Result:
    pending = ctx.data.get("mod")
    if not isinstance(pending, list) or len(pending) != 2:
        return S.MENU, [admin_menu(ctx)]
    kind, item_id = pending
    done = _decide(ctx, kind, int(item_id), approve=False, reason=msg.text.strip()[:500])
    ctx.data.pop("mod", None)
    return next_card(ctx, [Text(done)])


# --- reports ----------------------------------------------------------------------------------


def reports(msg: InboundMessage, ctx: Context) -> Result:
    shown, total = backoffice.open_reports(ctx.session, admin_id=ctx.user.id)
    if not shown:
        return S.MENU, [Text(ctx.t("admin.reports.none"))]
    choices = []
    for rep in shown:
        target = ctx.session.get(User, rep.target_user_id)
        label = ctx.t("admin.reports.row", id=rep.id, target=(target.name if target else "") or "—")
        choices.append(Choice(f"rp:v:{rep.id}", _label(label)))
    return S.MENU, [
        Choices(
            text=ctx.t("admin.reports.header", shown=len(shown), total=total),
            choices=tuple(choices),
        )
    ]


def report_view(msg: InboundMessage, ctx: Context) -> Result:
    rep = backoffice.report_for_admin(ctx.session, admin_id=ctx.user.id, report_id=_id(msg))
    target = ctx.session.get(User, rep.target_user_id)
    reporter = ctx.session.get(User, rep.reporter_id)
    product = ctx.session.get(Product, rep.product_id) if rep.product_id else None
    text = ctx.t(
        "admin.reports.card",
        id=rep.id,
        status=ctx.t(f"admin.report_status.{rep.status.value}"),
        target=(target.name if target else "") or "—",
        target_id=rep.target_user_id,
        reporter=(reporter.name if reporter else "") or "—",
        product=product.name if product else "—",
        reason=rep.reason[:1500],
        open=open_reports_against(ctx.session, rep.target_user_id),
    )
    choices = (
        Choice(f"rp:ok:{rep.id}", ctx.t("admin.reports.resolve")),
        Choice(f"rp:no:{rep.id}", ctx.t("admin.reports.dismiss")),
        Choice(f"u:v:{rep.target_user_id}", ctx.t("admin.reports.account")),
    )
    return S.MENU, [Choices(text=text[:3500], choices=choices)]


def report_close(msg: InboundMessage, ctx: Context) -> Result:
    dismiss = msg.payload.startswith("rp:no:")
    rep = mod.resolve_report(ctx.session, admin_id=ctx.user.id, report_id=_id(msg), dismiss=dismiss)
    key = "admin.reports.dismissed" if dismiss else "admin.reports.resolved"
    return S.MENU, [Text(ctx.t(key, id=rep.id))]


# --- users ------------------------------------------------------------------------------------


def users_ask(msg: InboundMessage, ctx: Context) -> Result:
    words = msg.text.split(maxsplit=1) if msg.text.startswith("/") else []
    if len(words) == 2:  # "/utilisateurs 622 12 34 56"
        return _search(ctx, words[1])
    backoffice.find_users(ctx.session, admin_id=ctx.user.id, query="")  # checks the role
    return S.USER_QUERY, [Text(ctx.t("admin.users.ask"))]


def users_query(msg: InboundMessage, ctx: Context) -> Result:
    return _search(ctx, msg.text)


def _search(ctx: Context, query: str) -> Result:
    found = backoffice.find_users(ctx.session, admin_id=ctx.user.id, query=query)
    if not found:
        return S.USER_QUERY, [Text(ctx.t("admin.users.none"))]
    if len(found) == 1:
        return S.MENU, [_user_card(ctx, found[0])]
    return S.MENU, [
        Choices(
            text=ctx.t("admin.users.found", n=len(found)),
            choices=tuple(
                Choice(f"u:v:{u.id}", _label(f"{u.name or '—'} · {u.phone or u.telegram_id or ''}"))
                for u in found
            ),
        )
    ]


def _user_card(ctx: Context, user: User) -> Reply:
    text = ctx.t(
        "admin.users.card",
        id=user.id,
        name=user.name or "—",
        phone=user.phone or "—",
        roles=", ".join(sorted(r.role.value for r in user.roles)) or "—",
        state=ctx.t("admin.users.active" if user.is_active else "admin.users.inactive"),
        reports=open_reports_against(ctx.session, user.id),
    )
    toggle = (
        Choice(f"u:off:{user.id}", ctx.t("admin.users.deactivate"))
        if user.is_active
        else Choice(f"u:on:{user.id}", ctx.t("admin.users.activate"))
    )
    return Choices(text=text, choices=(toggle,))


def user_view(msg: InboundMessage, ctx: Context) -> Result:
    user = backoffice.user_for_admin(ctx.session, admin_id=ctx.user.id, user_id=_id(msg))
    return S.MENU, [_user_card(ctx, user)]


def user_set_active(msg: InboundMessage, ctx: Context) -> Result:
    active = msg.payload.startswith("u:on:")
    user_id = _id(msg)
    if user_id == ctx.user.id and not active:
        raise PermissionDenied("an admin cannot deactivate themselves")
    user = users.set_user_active(ctx.session, admin_id=ctx.user.id, user_id=user_id, active=active)
    key = "admin.users.activated" if active else "admin.users.deactivated"
    return S.MENU, [Text(ctx.t(key, name=user.name or f"#{user.id}"))]


# --- exports and figures ----------------------------------------------------------------------


def export_menu(msg: InboundMessage, ctx: Context) -> Result:
    words = msg.text.split() if msg.text.startswith("/") else []
    if len(words) == 2 and words[1].lower() in {k.value for k in ExportKind}:
        return _export(ctx, ExportKind(words[1].lower()))
    count(ctx.session, admin_id=ctx.user.id, kind=ExportKind.USERS)  # checks the role
    return S.MENU, [
        Choices(
            text=ctx.t("admin.export.pick"),
            choices=tuple(
                Choice(f"x:{k.value}", ctx.t(f"admin.export.{k.value}")) for k in ExportKind
            ),
        )
    ]


def export_kind(msg: InboundMessage, ctx: Context) -> Result:
    try:
        kind = ExportKind(msg.payload.removeprefix("x:"))
    except ValueError:
        raise InvalidInput("bad button", payload=msg.payload[:64]) from None
    return _export(ctx, kind)


def _export(ctx: Context, kind: ExportKind) -> Result:
    total = count(ctx.session, admin_id=ctx.user.id, kind=kind)
    if total > LARGE_EXPORT:
        # Built by a worker after this turn commits; the admin hears now that it is coming.
        events.record(ctx.session, "export_requested", ctx.user.id, EXPORT_KINDS.index(kind))
        return S.MENU, [Text(ctx.t("admin.export.progress", n=total))]
    filename, relative = export_filename(kind, ctx.user.id)
    write_csv(ctx.session, admin_id=ctx.user.id, kind=kind, target=ctx.media_dir / relative)
    caption = ctx.t("admin.export.caption", kind=ctx.t(f"admin.export.{kind.value}"), count=total)
    return S.MENU, [Document(media_path=relative, filename=filename, caption=caption)]


def figures(msg: InboundMessage, ctx: Context) -> Result:
    f = platform_figures(ctx.session, admin_id=ctx.user.id)
    text = ctx.t(
        "admin.figures",
        gmv_gnf=f.gmv,
        orders=f.orders,
        orders_30d=f.orders_30d,
        delivered=f.delivered,
        returns=f.returns,
        return_rate=f"{f.return_rate * 100:.1f}",
        sellers=f.active_sellers,
        couriers=f.active_couriers,
        available=f.available_couriers,
        users=f.users,
    )
    full = text + "\n\n" + cash_figures(ctx)
    disputes = ledger.open_disputes(ctx.session, admin_id=ctx.user.id)[:10]
    if disputes:  # "Reçu n°12" / "Non reçu n°12" under the list of open disputes
        return S.MENU, [Choices(text=full[:3500], choices=dispute_choices(ctx, disputes))]
    return S.MENU, [Text(full)]


def cash_figures(ctx: Context) -> str:
    """The ledger's reconciliation: cash with couriers, the oldest not handed over, disputes."""
    r = ledger.reconciliation(ctx.session, admin_id=ctx.user.id)
    oldest = (
        ctx.t("admin.oldest_age", hours=int((clock.now() - r.oldest_since).total_seconds() // 3600))
        if r.oldest_since
        else ctx.t("admin.oldest_none")
    )
    lines = [
        ctx.t(
            "admin.figures_cash",
            held_gnf=r.held_by_couriers,
            count=r.couriers_holding,
            owed_gnf=r.owed_to_sellers,
            oldest=oldest,
            disputes=r.open_disputes,
            disputed_gnf=r.disputed_amount,
        )
    ]
    for d in ledger.open_disputes(ctx.session, admin_id=ctx.user.id)[:10]:
        courier = ctx.session.get(User, d.courier_id)
        shop = ctx.session.scalar(select(Shop).where(Shop.owner_id == d.seller_id))
        lines.append(
            ctx.t(
                "admin.figures_dispute",
                id=d.id,
                courier=(courier.name if courier else "") or f"#{d.courier_id}",
                shop=shop.name if shop else f"#{d.seller_id}",
                amount_gnf=d.amount,
                declared=_when(d.declared_at),
            )
        )
    return "\n".join(lines)


# --- locked delivery codes and paused PIN entry ----------------------------------------------


def _when(value: dt.datetime | None) -> str:
    """Conakry time is UTC all year: "02/12 14:05"."""
    return value.strftime("%d/%m %H:%M") if value is not None else "—"


def locked_codes(msg: InboundMessage, ctx: Context) -> Result:
    """The locked codes (no PIN, token or phone) with a reissue button each, and the pauses."""
    shown, total = lockouts.locked_codes(ctx.session, admin_id=ctx.user.id)
    paused = lockouts.paused_people(ctx.session, admin_id=ctx.user.id)
    if not shown and not paused:
        return S.MENU, [Text(ctx.t("admin.codes.none"))]
    nobody = ctx.t("admin.codes.nobody")
    lines: list[str] = []
    choices: list[Choice] = []
    if shown:
        lines.append(ctx.t("admin.codes.header", shown=len(shown), total=total))
        for code in shown:
            lines.append(
                ctx.t(
                    "admin.codes.row",
                    order_id=code.order_id,
                    shop=_label(code.shop, 30),
                    courier=_label(code.courier, 30) or nobody,
                    locked=_when(code.locked_at),
                    tries=code.failed_attempts,
                )
            )
            choices.append(
                Choice(f"dc:u:{code.order_id}", ctx.t("admin.codes.unlock", order_id=code.order_id))
            )
    if paused:
        lines.append(ctx.t("admin.codes.paused_header"))
        for person in paused:
            name = _label(person.name, 30) or f"#{person.user_id}"
            lines.append(
                ctx.t(
                    "admin.codes.paused_row",
                    name=name,
                    failures=person.failures,
                    until=_when(person.until),
                )
            )
            choices.append(
                Choice(f"pp:l:{person.user_id}", _label(ctx.t("admin.codes.lift", name=name)))
            )
    return S.MENU, [Choices(text="\n".join(lines)[:3500], choices=tuple(choices))]


def code_unlock(msg: InboundMessage, ctx: Context) -> Result:
    """ "dc:u:1042": a fresh token and PIN; the buyer's new QR is drawn here, as at checkout."""
    code = lockouts.reissue_code(ctx.session, admin_id=ctx.user.id, order_id=_id(msg))
    write_qr(
        ctx.media_dir,
        order_id=code.order_id,
        token=code.token,
        public_base_url=ctx.public_base_url,
    )
    return S.MENU, [Text(ctx.t("admin.codes.unlocked", order_id=code.order_id))]


def pause_lift(msg: InboundMessage, ctx: Context) -> Result:
    person = lockouts.lift_pin_pause(ctx.session, admin_id=ctx.user.id, user_id=_id(msg))
    return S.MENU, [Text(ctx.t("admin.codes.lifted", name=person.name or f"#{person.id}"))]
