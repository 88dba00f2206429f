"""The ledger's refusals, each with its code (the bot turns a code into a sentence)."""

from __future__ import annotations

from commerce.errors import CommerceError, ErrorCode


class UnbalancedEntry(CommerceError):
    """An entry whose lines do not sum to zero (or has none): never written."""

    code = ErrorCode.UNBALANCED_ENTRY


class AlreadyRecorded(CommerceError):
    """This movement has its entry already (a double tap, a second worker)."""

    code = ErrorCode.ALREADY_RECORDED


class NothingToRemit(CommerceError):
    """The courier holds nothing (not already declared) for this seller."""

    code = ErrorCode.NOTHING_TO_REMIT


class AmountChanged(CommerceError):
    """The amount a seller confirmed is no longer what the courier holds for her."""

    code = ErrorCode.AMOUNT_CHANGED


class RemittanceState(CommerceError):
    """The remittance was answered, disputed or settled already."""

    code = ErrorCode.REMITTANCE_STATE
