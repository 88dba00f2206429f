"""A buyer's question about a product, passed on to its seller.

The answer path (the seller replying in the buyer's conversation) belongs to the support and
hand-off work; until then the seller is told the question and the product, and the buyer's
number stays private.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from commerce.catalog.actions import get_visible_product
from commerce.db import action
from commerce.errors import InvalidInput
from commerce.messaging.models import Outbox
from commerce.messaging.outbox import notify
from commerce.users.actions import require_actor

MAX_QUESTION = 500


@action
def ask_question(session: Session, *, buyer_id: int, product_id: int, text: str) -> Outbox:
    require_actor(session, buyer_id)
    question = " ".join((text or "").split())
    if len(question) < 2:
        raise InvalidInput("question too short", field="question")
    if len(question) > MAX_QUESTION:
        raise InvalidInput("question too long", max=MAX_QUESTION)
    product = get_visible_product(session, product_id)
    return notify(
        session,
        user_id=product.shop.owner_id,
        kind="buyer_question",
        params={"product_id": product.id, "product": product.name, "question": question},
        essential=True,
    )
