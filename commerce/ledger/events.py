"""What the ledger tells people, through the outbox, in the transaction that records it.

The kinds are `commerce.messaging.notices.Notice` members (one enum for every notification);
this module names the ones the ledger writes and who receives each:

- `REMITTANCE_DECLARED` → the seller, with the one-tap "Reçu … de …" and "Pas reçu" buttons;
- `REMITTANCE_CONFIRMED` → the courier (SMS): the seller confirmed his hand-over;
- `REMITTANCE_DISPUTED` → every admin, with both sides' word; `REMITTANCE_DISPUTED_COURIER` →
  the courier;
- `REMITTANCE_SETTLED_(NOT_)RECEIVED` → the seller, `…_COURIER` → the courier (SMS): an admin
  settled their dispute, and how;
- `CASH_ALERT` → the courier, `CASH_ALERT_ADMIN` → every admin: a cash threshold was crossed.
"""

from __future__ import annotations

from commerce.messaging.notices import Notice

REMITTANCE_DECLARED = Notice.REMITTANCE_DECLARED
REMITTANCE_CONFIRMED = Notice.REMITTANCE_CONFIRMED
REMITTANCE_DISPUTED = Notice.REMITTANCE_DISPUTED
REMITTANCE_DISPUTED_COURIER = Notice.REMITTANCE_DISPUTED_COURIER
REMITTANCE_SETTLED_RECEIVED = Notice.REMITTANCE_SETTLED_RECEIVED
REMITTANCE_SETTLED_RECEIVED_COURIER = Notice.REMITTANCE_SETTLED_RECEIVED_COURIER
REMITTANCE_SETTLED_NOT_RECEIVED = Notice.REMITTANCE_SETTLED_NOT_RECEIVED
REMITTANCE_SETTLED_NOT_RECEIVED_COURIER = Notice.REMITTANCE_SETTLED_NOT_RECEIVED_COURIER
CASH_ALERT = Notice.CASH_ALERT
CASH_ALERT_ADMIN = Notice.CASH_ALERT_ADMIN
