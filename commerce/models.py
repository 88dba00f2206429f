"""Every table of the core, imported in one place so metadata (and Alembic) sees them all."""

from commerce.cart.models import Cart, CartItem, PromoCode
from commerce.catalog.models import (
    Category,
    ModerationStatus,
    Product,
    ProductPhoto,
    Promotion,
    Shop,
    ShopStatus,
)
from commerce.db import Base
from commerce.delivery.models import (
    Courier,
    CourierStatus,
    DeliveryCode,
    DeliveryJob,
    JobKind,
    JobOffer,
    JobStatus,
    PinFailure,
    PinGuard,
    Vehicle,
)
from commerce.ledger.models import CashAlert, LedgerEntry, LedgerLine, Remittance
from commerce.loyalty.models import LoyaltyEntry
from commerce.messaging.models import ConversationState, InboundMessage, Outbox, OutboxStatus
from commerce.messaging.templates import ContentTemplate
from commerce.moderation.models import Report, ReportStatus
from commerce.orders.models import (
    CommissionPayer,
    DeliveryMode,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
)
from commerce.returns.models import Refund, RefundStatus, Return, ReturnItem, ReturnStatus
from commerce.reviews.models import CourierRating, Review
from commerce.threads import SupportThread, ThreadKind, ThreadMessage, ThreadStatus
from commerce.users.models import Address, Channel, ChannelIdentity, Language, Role, User, UserRole

__all__ = [
    "Address",
    "Base",
    "Cart",
    "CartItem",
    "CashAlert",
    "Category",
    "Channel",
    "ChannelIdentity",
    "CommissionPayer",
    "ContentTemplate",
    "ConversationState",
    "Courier",
    "CourierRating",
    "CourierStatus",
    "DeliveryCode",
    "DeliveryJob",
    "DeliveryMode",
    "InboundMessage",
    "JobKind",
    "JobOffer",
    "JobStatus",
    "Language",
    "LedgerEntry",
    "LedgerLine",
    "LoyaltyEntry",
    "ModerationStatus",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OrderStatusChange",
    "Outbox",
    "OutboxStatus",
    "PaymentMethod",
    "PinFailure",
    "PinGuard",
    "Product",
    "ProductPhoto",
    "PromoCode",
    "Promotion",
    "Refund",
    "RefundStatus",
    "Remittance",
    "Report",
    "ReportStatus",
    "Return",
    "ReturnItem",
    "ReturnStatus",
    "Review",
    "Role",
    "Shop",
    "ShopStatus",
    "SupportThread",
    "ThreadKind",
    "ThreadMessage",
    "ThreadStatus",
    "User",
    "UserRole",
    "Vehicle",
]
