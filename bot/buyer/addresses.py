"""A new delivery address at checkout: region, prefecture, quartier, landmark, or a location pin.

Why apart from `bot.buyer.checkout`: choosing a place in Guinea's geography is a dialog of its
own (menus of regions, prefectures and paged quartiers, a typed place name, a GPS pin); it ends
by saving the address and handing back to the checkout summary.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.buyer.checkout import address_menu, draft_of, edit, save_draft, start, summary
from bot.buyer.common import arg, choices
from bot.buyer.detour import aside_then
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import AskLocation, Choice, InboundMessage, Reply, Text
from commerce import geo
from commerce.errors import AddressInvalid
from commerce.orders import queries
from commerce.orders.models import DeliveryMode
from commerce.text import fold
from commerce.users import actions as users

QUARTIERS_PAGE = 8
# Guinea's bounding box, with a margin: a pin outside it is a mistake, not an address.
LAT_RANGE, LNG_RANGE = (7.0, 12.9), (-15.3, -7.5)

# --- a new address: region → prefecture → quartier → landmark --------------------------------


def new_address(msg: InboundMessage, ctx: Context, note: str = "") -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    ctx.data["na"] = {}
    rows = [Choice(f"reg:{i}", r.name) for i, r in enumerate(geo.guinea().regions)]
    text = ctx.t("buyer.co.region")
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices(text, rows, button=ctx.t("buyer.co.region_button")))
    return BuyerState.REGION, replies


def _prefecture_menu(ctx: Context, ri: int) -> Result:
    region = geo.guinea().regions[ri]
    ctx.data["na"] = {"r": ri}
    rows = [Choice(f"pref:{ri}:{pi}", p.name) for pi, p in enumerate(region.prefectures)]
    key = "buyer.co.commune" if region.name == "Conakry" else "buyer.co.prefecture"
    return BuyerState.PREFECTURE, [choices(ctx.t(key, region=region.name), rows)]


def _quartier_menu(ctx: Context, ri: int, pi: int, page: int = 0) -> Result:
    pref = geo.guinea().regions[ri].prefectures[pi]
    ctx.data["na"] = {"r": ri, "p": pi, "page": page}
    start_at = page * QUARTIERS_PAGE
    shown = pref.quartiers[start_at : start_at + QUARTIERS_PAGE]
    rows = [Choice(f"qtr:{ri}:{pi}:{start_at + qi}", q.name) for qi, q in enumerate(shown)]
    if start_at + QUARTIERS_PAGE < len(pref.quartiers):
        rows.append(Choice("qtr:more", ctx.t("buyer.list.more")))
    rows.append(Choice("qtr:other", ctx.t("buyer.co.other_quartier")))
    return BuyerState.QUARTIER, [
        choices(
            ctx.t("buyer.co.quartier", prefecture=pref.name),
            rows,
            button=ctx.t("buyer.co.quartier_button"),
        )
    ]


def _index(msg: InboundMessage, i: int, size: int) -> int | None:
    value = arg(msg, i)
    return value if value is not None and value < size else None


def pick_region(msg: InboundMessage, ctx: Context) -> Result:
    ri = _index(msg, 1, len(geo.guinea().regions))
    if ri is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    return _prefecture_menu(ctx, ri)


def pick_prefecture(msg: InboundMessage, ctx: Context) -> Result:
    regions = geo.guinea().regions
    ri = _index(msg, 1, len(regions))
    pi = _index(msg, 2, len(regions[ri].prefectures)) if ri is not None else None
    if ri is None or pi is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    return _quartier_menu(ctx, ri, pi)


def pick_quartier(msg: InboundMessage, ctx: Context) -> Result:
    na = dict(ctx.data.get("na") or {})
    if msg.payload == "qtr:more" and "p" in na:
        return _quartier_menu(ctx, na["r"], na["p"], int(na.get("page", 0)) + 1)
    if msg.payload == "qtr:other" and "p" in na:
        pref = geo.guinea().regions[na["r"]].prefectures[na["p"]]
        ctx.data["na"] = {**na, "typing": True}
        return BuyerState.QUARTIER, [Text(ctx.t("buyer.co.type_quartier", prefecture=pref.name))]
    regions = geo.guinea().regions
    ri = _index(msg, 1, len(regions))
    pi = _index(msg, 2, len(regions[ri].prefectures)) if ri is not None else None
    prefs = regions[ri].prefectures if ri is not None else ()
    qi = _index(msg, 3, len(prefs[pi].quartiers)) if pi is not None else None
    if ri is None or pi is None or qi is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    region = regions[ri]
    pref = region.prefectures[pi]
    return _ask_landmark(ctx, region.name, pref.name, pref.quartiers[qi].name)


# "chez moi" and its kin at the address step: her usual saved address.
HOME_WORDS = frozenset(
    {"chez moi", "a la maison", "maison", "ma maison", "mon domicile", "domicile",
     "mon adresse", "chez nous", "home", "at home", "my home", "my house", "my address"}
)  # fmt: skip


def typed_where(msg: InboundMessage, ctx: Context) -> Result:
    """Words at the address step (the global commands have had their turn): her saved
    address's own label ("Maison") picks it, "chez moi" is her usual address, a place in
    Guinea starts a new address there; anything else is a search or a support question, and
    the step is asked again with her saved addresses still offered."""
    if not ctx.data.get("co"):
        return start(msg, ctx)
    said = fold(msg.text)
    saved = queries.saved_addresses(ctx.session, user_id=ctx.user.id)
    # The words her address's row shows (its label, else its quartier), else a label inside
    # a sentence ("à la maison svp").
    named = [a for a in saved if said and fold(a.label or a.quartier or a.prefecture) == said]
    named = named or [
        a for a in saved if len(fold(a.label)) >= 3 and f" {fold(a.label)} " in f" {said} "
    ]
    home = queries.usual_address(ctx.session, user_id=ctx.user.id) if said in HOME_WORDS else None
    chosen = named[0] if named else home
    if chosen is not None:
        co = draft_of(ctx)
        co.update(mode=DeliveryMode.HOME.value, addr=chosen.id)
        save_draft(ctx, co)
        return summary(ctx)
    found = _place(ctx, msg.text.strip(), {}) if said else None
    if found is not None:
        return found
    return aside_then(msg, ctx, address_menu(ctx))


def typed_place(msg: InboundMessage, ctx: Context) -> Result:
    """A place typed instead of tapped, at any step of the address: the best match wins. Words
    that name no place are a search or a support question, and the step is asked again with
    its choices (a pin still awaited, the region, commune or quartier menu)."""
    na = dict(ctx.data.get("na") or {})
    found = _place(ctx, msg.text.strip(), na)
    if found is not None:
        return found
    if ctx.conv.state == BuyerState.PIN:
        return aside_then(msg, ctx, ask_pin(msg, ctx))
    if "p" in na:
        return aside_then(msg, ctx, _quartier_menu(ctx, na["r"], na["p"], int(na.get("page", 0))))
    if "r" in na:
        return aside_then(msg, ctx, _prefecture_menu(ctx, na["r"]))
    return aside_then(msg, ctx, new_address(msg, ctx))


def _place(ctx: Context, text: str, na: dict[str, Any]) -> Result | None:
    """The step a typed place leads to (`na`: the new address so far), None if no place."""
    g = geo.guinea()
    if "p" in na:  # at the quartier step: a listed quartier; once "Autre quartier" is tapped,
        # her own words (the step then takes free text)
        region = g.regions[na["r"]]
        pref = region.prefectures[na["p"]]
        found = pref.quartier(text)
        if found is None and not fold(text):
            return _quartier_menu(ctx, na["r"], na["p"])
        if found is not None or na.get("typing"):
            return _ask_landmark(ctx, region.name, pref.name, found.name if found else text[:80])
    for ri, region in enumerate(g.regions):
        if "r" in na and ri != na["r"]:
            continue
        for pi, pref in enumerate(region.prefectures):
            if fold(pref.name) == fold(text):
                return _quartier_menu(ctx, ri, pi)
    if "r" not in na:
        for ri, region in enumerate(g.regions):
            if fold(region.name) == fold(text):
                return _prefecture_menu(ctx, ri)
    found_q = next(((pref, q) for pref, q in g.all_quartiers() if fold(q.name) == fold(text)), None)
    if found_q is not None:
        pref, q = found_q
        return _ask_landmark(ctx, g.region_of(pref).name, pref.name, q.name)
    return None


def _ask_landmark(
    ctx: Context,
    region: str,
    prefecture: str,
    quartier: str,
    *,
    lat: float | None = None,
    lng: float | None = None,
) -> Result:
    ctx.data["na"] = {"region": region, "pref": prefecture, "q": quartier, "lat": lat, "lng": lng}
    place = f"{quartier}, {prefecture}" if quartier else prefecture
    text = ctx.t("buyer.co.landmark", place=place)
    if lat is not None:
        return BuyerState.LANDMARK, [choices(text, [Choice("lm:skip", ctx.t("buyer.co.skip"))])]
    return BuyerState.LANDMARK, [Text(text)]


def got_landmark(msg: InboundMessage, ctx: Context) -> Result:
    na = dict(ctx.data.get("na") or {})
    if "pref" not in na:
        return new_address(msg, ctx)
    skipping = msg.payload == "lm:skip" or fold(msg.text) in ("passer", "skip")
    landmark = "" if skipping else " ".join(msg.text.split())
    if not skipping and len(landmark) < 3:
        return BuyerState.LANDMARK, [Text(ctx.t("buyer.co.landmark_short"))]
    if skipping and na.get("lat") is None:
        return BuyerState.LANDMARK, [Text(ctx.t("buyer.co.landmark_short"))]
    return _save_address(ctx, na, landmark)


def _save_address(ctx: Context, na: dict[str, Any], landmark: str) -> Result:
    try:
        address = users.add_address(
            ctx.session,
            user_id=ctx.user.id,
            region=na["region"],
            prefecture=na["pref"],
            quartier=na.get("q") or "",
            landmark=landmark[:300],
            lat=na.get("lat"),
            lng=na.get("lng"),
        )
    except AddressInvalid:
        return new_address(ctx.inbound, ctx, ctx.t("error.address_invalid"))
    ctx.data.pop("na", None)
    co = draft_of(ctx)
    if not co:
        return start(ctx.inbound, ctx)
    co.update(mode=DeliveryMode.HOME.value, addr=address.id)
    save_draft(ctx, co)
    return summary(ctx)


# --- "retour": one step back ----------------------------------------------------------------


def back(msg: InboundMessage, ctx: Context) -> Result:
    """ "retour" inside the checkout: the step before this one, never out of the checkout
    unless this is its first step (then where she came from: the product or the cart)."""
    co = draft_of(ctx)
    if not co:
        from bot.buyer.handlers import show_menu

        return show_menu(msg, ctx)
    state = ctx.conv.state
    na = dict(ctx.data.get("na") or {})
    if state == BuyerState.SUMMARY:
        return summary(ctx) if co.get("step") == "edit" else address_menu(ctx)
    if state in (BuyerState.PAYMENT, BuyerState.PAYER):
        return edit(msg, ctx)
    if state in (BuyerState.REGION, BuyerState.PIN):
        return address_menu(ctx)
    if state == BuyerState.PREFECTURE:
        return new_address(msg, ctx)
    if state == BuyerState.QUARTIER and "p" in na:
        if na.get("typing"):
            return _quartier_menu(ctx, na["r"], na["p"])
        return _prefecture_menu(ctx, na["r"])
    if state == BuyerState.LANDMARK and na.get("lat") is None and "pref" in na:
        g = geo.guinea()
        for ri, region in enumerate(g.regions):
            for pi, pref in enumerate(region.prefectures):
                if (region.name, pref.name) == (na.get("region"), na["pref"]):
                    return _quartier_menu(ctx, ri, pi)
    if state == BuyerState.ADDRESS:
        if co.get("mode"):
            return summary(ctx)  # she came here from the summary
        return _leave_checkout(msg, ctx, co)
    return address_menu(ctx)


def _leave_checkout(msg: InboundMessage, ctx: Context, co: dict[str, Any]) -> Result:
    """Back from the checkout's first step: the product card "Acheter" was tapped on, or the
    cart "Commander" was."""
    ctx.data.pop("co", None)
    ctx.data.pop("na", None)
    only = co.get("only") or []
    if len(only) == 1:
        from bot.buyer.handlers import show_product

        return show_product(dataclasses.replace(msg, payload=f"prod:{only[0]}"), ctx)
    from bot.buyer.cart import show_cart

    return show_cart(msg, ctx)


# --- a location pin -------------------------------------------------------------------------


def ask_pin(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    return BuyerState.PIN, [AskLocation(ctx.t("buyer.co.send_pin"))]


def got_pin(msg: InboundMessage, ctx: Context) -> Result:
    """A WhatsApp/Telegram location: the nearest listed quartier names it for people."""
    if not ctx.data.get("co"):
        return start(msg, ctx)
    lat, lng = msg.latitude, msg.longitude
    if lat is None or lng is None:
        return ask_pin(msg, ctx)
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LNG_RANGE[0] <= lng <= LNG_RANGE[1]):
        state, replies = address_menu(ctx, ctx.t("buyer.co.pin_outside"))
        return state, replies
    pref, quartier = geo.nearest_quartier(lat, lng)
    region = geo.guinea().region_of(pref).name
    label = " ".join(msg.location_label.split())
    if label:
        ctx.data["na"] = {
            "region": region, "pref": pref.name, "q": quartier.name, "lat": lat, "lng": lng,
        }  # fmt: skip
        return _save_address(ctx, ctx.data["na"], label)
    return _ask_landmark(ctx, region, pref.name, quartier.name, lat=lat, lng=lng)
