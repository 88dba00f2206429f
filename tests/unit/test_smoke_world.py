from commerce.cart.actions import add_to_cart
from commerce.orders.actions import place_order
from tests.support import make_buyer, make_product, make_seller, stock_of


def test_world_builders_make_a_sellable_product(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=3)
    buyer_id, address_id = make_buyer(db)
    with db.uow() as s:
        add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=2)
        placed = place_order(
            s,
            buyer_id=buyer_id,
            address_id=address_id,
            delivery_mode="home",
            commission_payer="buyer",
            payment_method="cash",
        )
        assert len(placed) == 1
        assert placed[0].order.delivery_fee >= 10000
    assert stock_of(db, pid) == 1
