"""Returns (approve, refuse with a reason) and the seller's reply to a review."""

from __future__ import annotations

from bot.flow import Context, Result, payload_id
from bot.messages import InboundMessage, Text
from bot.seller.common import lost
from bot.seller.states import SellerState as S
from commerce import backoffice
from commerce.returns import actions as returns
from commerce.reviews import actions as reviews


def return_approve(msg: InboundMessage, ctx: Context) -> Result:
    ret = returns.approve_return(ctx.session, seller_id=ctx.user.id, return_id=payload_id(msg))
    return S.MENU, [Text(ctx.t("seller.return.approved", id=ret.id, number=ret.order_id))]


def return_refuse(msg: InboundMessage, ctx: Context) -> Result:
    ret, _order = backoffice.seller_return(
        ctx.session, seller_id=ctx.user.id, return_id=payload_id(msg)
    )
    ctx.data["return"] = ret.id
    return S.RETURN_REASON, [Text(ctx.t("seller.return.reason", id=ret.id))]


def return_reason(msg: InboundMessage, ctx: Context) -> Result:
    return_id = ctx.data.get("return")
    if not isinstance(return_id, int):
        return lost(ctx)
    ret = returns.refuse_return(
        ctx.session, seller_id=ctx.user.id, return_id=return_id, reason=msg.text.strip()[:500]
    )
    ctx.data.pop("return", None)
    return S.MENU, [Text(ctx.t("seller.return.refused", id=ret.id))]


def review_reply_ask(msg: InboundMessage, ctx: Context) -> Result:
    review, product = backoffice.seller_review(
        ctx.session, seller_id=ctx.user.id, review_id=payload_id(msg)
    )
    ctx.data["review"] = review.id
    return S.REVIEW_REPLY, [
        Text(
            ctx.t(
                "seller.review.ask",
                product=product.name,
                rating=review.rating,
                comment=review.comment or "—",
            )[:3500]
        )
    ]


def review_reply(msg: InboundMessage, ctx: Context) -> Result:
    review_id = ctx.data.get("review")
    if not isinstance(review_id, int):
        return lost(ctx)
    reviews.reply_to_review(
        ctx.session, seller_id=ctx.user.id, review_id=review_id, text=msg.text.strip()
    )
    ctx.data.pop("review", None)
    return S.MENU, [Text(ctx.t("seller.review.sent"))]
