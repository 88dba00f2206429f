"""The web edge and the providers: Flask routes in, SDK senders out.

`web.create_app` (the app factory), one module per inbound provider (`twilio_inbound`,
`telegram_inbound`), `turns` (one transaction per turn), `render` (replies as WhatsApp
templates, Telegram keyboards or SMS lines), `senders` (Twilio and Telegram through their
SDKs), `media` and `qr_page` (signed links, the courier's QR page), `trusted_urls`, `payloads`,
`ports` (the runtime a route is handed). A route authenticates, records, translates and hands
over; no business rule lives here.
"""
