"""A buyer's question about a product: it opens a support thread with the product's seller.

The seller answers through the bot and the thread continues both ways until either side closes
it (commerce/threads.py); the buyer's number stays private.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from commerce.catalog.actions import get_visible_product
from commerce.db import action
from commerce.errors import InvalidInput
from commerce.threads import SupportThread, ThreadKind, open_thread
from commerce.users.actions import require_actor
from commerce.users.models import Channel

MAX_QUESTION = 500


@action
def ask_question(
    session: Session,
    *,
    buyer_id: int,
    product_id: int,
    text: str,
    buyer_channel: Channel | None = None,
    buyer_address: str = "",
) -> SupportThread:
    require_actor(session, buyer_id)
    question = " ".join((text or "").split())
    if len(question) < 2:
        raise InvalidInput("question too short", field="question")
    if len(question) > MAX_QUESTION:
        raise InvalidInput("question too long", max=MAX_QUESTION)
    product = get_visible_product(session, product_id)
    return open_thread(
        session,
        buyer_id=buyer_id,
        staff_id=product.shop.owner_id,
        kind=ThreadKind.QUESTION,
        text=question,
        product_id=product.id,
        buyer_channel=buyer_channel,
        buyer_address=buyer_address,
    )
