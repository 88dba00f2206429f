"""Domain errors: one exception class per kind of refusal, each carrying a stable code.

Why codes: the bot turns a code into a polite sentence in the user's language, tests assert
on codes rather than wording, and a bad request never reaches the edge as a bare ValueError.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    ACCOUNT_INACTIVE = "account_inactive"
    INVALID_INPUT = "invalid_input"
    INVALID_PHONE = "invalid_phone"
    INVALID_QUANTITY = "invalid_quantity"
    OUT_OF_STOCK = "out_of_stock"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    CART_EMPTY = "cart_empty"
    PROMO_UNKNOWN = "promo_unknown"
    PROMO_EXPIRED = "promo_expired"
    PROMO_NOT_STARTED = "promo_not_started"
    PROMO_EXHAUSTED = "promo_exhausted"
    PROMO_DISABLED = "promo_disabled"
    NOT_ENOUGH_POINTS = "not_enough_points"
    ADDRESS_INVALID = "address_invalid"
    ILLEGAL_TRANSITION = "illegal_transition"
    REASON_REQUIRED = "reason_required"
    CODE_EXPIRED = "code_expired"
    CODE_USED = "code_used"
    CODE_LOCKED = "code_locked"
    WRONG_PIN = "wrong_pin"
    CODE_NOT_LOCKED = "code_not_locked"
    COURIER_PIN_PAUSED = "courier_pin_paused"
    PIN_NOT_PAUSED = "pin_not_paused"
    JOB_TAKEN = "job_taken"
    TOO_MANY_JOBS = "too_many_jobs"
    COURIER_UNAVAILABLE = "courier_unavailable"
    RETURN_NOT_ALLOWED = "return_not_allowed"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    REVIEW_NOT_ALLOWED = "review_not_allowed"
    ALREADY_REVIEWED = "already_reviewed"
    INVALID_RATING = "invalid_rating"
    REFUND_STATE = "refund_state"
    ALREADY_EXISTS = "already_exists"
    UNBALANCED_ENTRY = "unbalanced_entry"
    ALREADY_RECORDED = "already_recorded"
    NOTHING_TO_REMIT = "nothing_to_remit"
    AMOUNT_CHANGED = "amount_changed"
    REMITTANCE_STATE = "remittance_state"


class CommerceError(Exception):
    """Base of every refusal the core makes. `params` feed the user-facing message."""

    code: ClassVar[ErrorCode] = ErrorCode.INVALID_INPUT
    # When set, the changes made before the refusal are committed (a wrong PIN must count).
    keeps_changes: ClassVar[bool] = False

    def __init__(self, message: str = "", **params: Any) -> None:
        self.params = params
        super().__init__(message or self.code.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, params={self.params!r})"


class NotFound(CommerceError):
    code = ErrorCode.NOT_FOUND


class PermissionDenied(CommerceError):
    code = ErrorCode.PERMISSION_DENIED


class AccountInactive(CommerceError):
    code = ErrorCode.ACCOUNT_INACTIVE


class InvalidInput(CommerceError):
    code = ErrorCode.INVALID_INPUT


class InvalidPhone(CommerceError):
    code = ErrorCode.INVALID_PHONE


class InvalidQuantity(CommerceError):
    code = ErrorCode.INVALID_QUANTITY


class OutOfStock(CommerceError):
    code = ErrorCode.OUT_OF_STOCK


class ProductUnavailable(CommerceError):
    code = ErrorCode.PRODUCT_UNAVAILABLE


class CartEmpty(CommerceError):
    code = ErrorCode.CART_EMPTY


class PromoUnknown(CommerceError):
    code = ErrorCode.PROMO_UNKNOWN


class PromoExpired(CommerceError):
    code = ErrorCode.PROMO_EXPIRED


class PromoNotStarted(CommerceError):
    code = ErrorCode.PROMO_NOT_STARTED


class PromoExhausted(CommerceError):
    code = ErrorCode.PROMO_EXHAUSTED


class PromoDisabled(CommerceError):
    code = ErrorCode.PROMO_DISABLED


class NotEnoughPoints(CommerceError):
    code = ErrorCode.NOT_ENOUGH_POINTS


class AddressInvalid(CommerceError):
    code = ErrorCode.ADDRESS_INVALID


class IllegalTransition(CommerceError):
    code = ErrorCode.ILLEGAL_TRANSITION


class ReasonRequired(CommerceError):
    code = ErrorCode.REASON_REQUIRED


class CodeExpired(CommerceError):
    code = ErrorCode.CODE_EXPIRED


class CodeUsed(CommerceError):
    code = ErrorCode.CODE_USED


class CodeLocked(CommerceError):
    code = ErrorCode.CODE_LOCKED
    keeps_changes = True  # the attempt that locked it must stay counted


class WrongPin(CommerceError):
    code = ErrorCode.WRONG_PIN
    keeps_changes = True


class CodeNotLocked(CommerceError):
    """Reissue asked for a code that is not locked (another admin may have reissued it)."""

    code = ErrorCode.CODE_NOT_LOCKED


class CourierPinPaused(CommerceError):
    """Too many wrong PINs across one person's deliveries: PIN entry waits (`minutes`)."""

    code = ErrorCode.COURIER_PIN_PAUSED
    keeps_changes = True  # raised by the guess that starts the pause: that guess must count


class PinNotPaused(CommerceError):
    code = ErrorCode.PIN_NOT_PAUSED


class JobTaken(CommerceError):
    code = ErrorCode.JOB_TAKEN


class TooManyJobs(CommerceError):
    code = ErrorCode.TOO_MANY_JOBS


class CourierUnavailable(CommerceError):
    code = ErrorCode.COURIER_UNAVAILABLE


class ReturnNotAllowed(CommerceError):
    code = ErrorCode.RETURN_NOT_ALLOWED


class ReturnWindowClosed(CommerceError):
    code = ErrorCode.RETURN_WINDOW_CLOSED


class ReviewNotAllowed(CommerceError):
    code = ErrorCode.REVIEW_NOT_ALLOWED


class AlreadyReviewed(CommerceError):
    code = ErrorCode.ALREADY_REVIEWED


class InvalidRating(CommerceError):
    code = ErrorCode.INVALID_RATING


class RefundState(CommerceError):
    code = ErrorCode.REFUND_STATE


class AlreadyExists(CommerceError):
    code = ErrorCode.ALREADY_EXISTS
