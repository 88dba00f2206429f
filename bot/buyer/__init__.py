"""The buyer on WhatsApp (or SMS): browse and search, the cart, checkout, orders after purchase.

`handlers` (greeting, catalogue, search, product card), `cart`, `checkout` and `addresses`,
`orders` (status, cancel, cash at the door, review), `returns` (returns, reports), `threads`
(messages with a seller), `qr` (the delivery QR image), `notifications`.
"""
