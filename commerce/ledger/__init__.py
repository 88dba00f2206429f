"""The cash ledger: where every franc of a cash-on-delivery order is, and whose it is.

Double entry over a chart of "whose hands, under which label". Each line moves cash into (+)
or out of (−) one account; the lines of an entry sum to zero, because cash is never created
or destroyed, only handed over or relabelled. A balance is the sum of an account's lines,
never a stored figure. Entries are immutable: a correction is a new entry with its reason.

Chart of accounts (an account is `(kind, owner user id, party user id)`; lines also name the
order the cash belongs to, so an order's own balances say what of it is settled):

| kind                 | owner   | party  | balance means                                        |
| -------------------- | ------- | ------ | ---------------------------------------------------- |
| `buyer`              | buyer   | —      | minus what she paid at doors, plus refunds received  |
| `courier_cash`       | courier | seller | the seller's money in the courier's hands: he owes it|
| `courier_commission` | courier | seller | his commission, in hand, until she confirms (GAINS'  |
|                      |         |        | "non payé")                                          |
| `courier_earned`     | courier | —      | commission settled: his                              |
| `seller`             | seller  | —      | cash she received (hand-overs, sales at her shop,    |
|                      |         |        | deliveries she rode) less refunds she paid           |
| `platform`           | —       | —      | the counterpart of admin corrections (a write-off,   |
|                      |         |        | cash found); Boutik takes no commission today        |

Entry kinds (`EntryKind`), each with its unique key, so no movement is recorded twice:

- `door_payment` (`door_payment:<order>`), when the delivery closes (deliverer's proof and the
  buyer's word): buyer −total; with a courier, `courier_cash` +(total − commission) and
  `courier_commission` +commission — the commission is in the total when the buyer pays the
  delivery, and comes out of the goods price when the seller pays it; a seller who hands the
  parcel over herself (pickup, or riding it): `seller` +total. Method and mobile-money
  reference are kept on the entry.
- `remittance` (`remittance:<courier>:<seller>:<n>`), when the seller confirms the courier's
  hand-over (one tap) or an admin settles a dispute as received: per order, `courier_cash` →
  `seller`, and `courier_commission` → `courier_earned`.
- `refund` (`refund:<refund id>`), when the buyer confirms a return's refund: `seller` −amount,
  `buyer` +amount (the seller's money, by hand or through the return courier).
- `correction` (`correction:<key>`), by an admin, always with a reason.

A courier's hand-over is first a `Remittance` (declared by him, or made by the seller's tap);
"not received" puts it in dispute and tells the admins, with both sides' word. Cash alerts
(`CashAlert`) tell a courier over `[ledger]` thresholds once per crossing.
"""
