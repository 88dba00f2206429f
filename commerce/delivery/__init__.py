"""Getting an order to the buyer: couriers, jobs and offers, pricing, delivery codes, the hand-over.

`actions` (couriers, jobs, pickups, returns' runs, earnings), `offers` (waves of offers by
distance), `pricing` (the one commission formula), `codes` and `lockouts` (QR token and PIN,
locked codes reissued), `pin_guard` (wrong PINs per person), `handover` (who proves a delivery,
how, what closes it), `briefs` (what a courier may see of a job).
"""
