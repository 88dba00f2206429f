"""Every kind of notification the core and the bot write to the outbox, by name.

Why an enum and not strings: a kind is written in one package (an action's `notify`) and read in
others (the bot's `@renders`, the worker's routing, the catalogs' `notify.<kind>` sentence, a
WhatsApp template by kind). A misspelt or renamed string fails silently, as a message nobody
renders; a misspelt member fails the type check and the import, and `notify` refuses a string
that is not a member.
"""

from __future__ import annotations

from enum import StrEnum


class Notice(StrEnum):
    ACCOUNT_DEACTIVATED = "account_deactivated"
    CASH_ALERT = "cash_alert"
    CASH_ALERT_ADMIN = "cash_alert_admin"
    CODE_LOCKED = "code_locked"
    CODE_LOCKED_ADMIN = "code_locked_admin"
    CODE_REISSUED = "code_reissued"
    CODE_REISSUED_COURIER = "code_reissued_courier"
    CONFIRM_CASH = "confirm_cash"
    CONFIRM_REFUND = "confirm_refund"
    COURIER_APPROVED = "courier_approved"
    COURIER_ADDED = "courier_added"
    COURIER_ASSIGNED = "courier_assigned"
    COURIER_PENDING = "courier_pending"
    COURIER_QR_LINK = "courier_qr_link"
    COURIER_REFUSED = "courier_refused"
    DELIVERY_CLOSED = "delivery_closed"
    FAVOURITE_BACK_IN_STOCK = "favourite_back_in_stock"
    FAVOURITE_PRICE_DROP = "favourite_price_drop"
    JOB_ASSIGNED = "job_assigned"
    JOB_CANCELLED = "job_cancelled"
    JOB_CLAIMED = "job_claimed"
    JOB_OFFER = "job_offer"
    JOB_UNCLAIMED = "job_unclaimed"
    LOW_STOCK = "low_stock"
    NEGATIVE_REVIEW = "negative_review"
    NEW_REVIEW = "new_review"
    ORDER_ACCEPTED = "order_accepted"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_DELIVERED = "order_delivered"
    ORDER_PICKED_UP = "order_picked_up"
    ORDER_PLACED = "order_placed"
    ORDER_REFUSED = "order_refused"
    PIN_PAUSE_LIFTED = "pin_pause_lifted"
    PIN_PAUSED_ADMIN = "pin_paused_admin"
    PRODUCT_APPROVED = "product_approved"
    PRODUCT_PENDING = "product_pending"
    PRODUCT_REJECTED = "product_rejected"
    REMITTANCE_CONFIRMED = "remittance_confirmed"
    REMITTANCE_DECLARED = "remittance_declared"
    REMITTANCE_DISPUTED = "remittance_disputed"
    REMITTANCE_DISPUTED_COURIER = "remittance_disputed_courier"
    REPLY = "reply"
    REPORT_FILED = "report_filed"
    RETURN_APPROVED = "return_approved"
    RETURN_RECEIVED = "return_received"
    RETURN_REFUSED = "return_refused"
    RETURN_REQUESTED = "return_requested"
    REVIEW_PROMPT = "review_prompt"
    REVIEW_REPLIED = "review_replied"
    SHOP_APPROVED = "shop_approved"
    SHOP_PENDING = "shop_pending"
    SHOP_REFUSED = "shop_refused"
    THREAD_CLOSED = "thread_closed"
    THREAD_HANDOFF = "thread_handoff"
    THREAD_MESSAGE = "thread_message"
    THREAD_OPENED = "thread_opened"
