"""What tests/ and bench/ share, so that neither imports the other.

- `db`: migrate, open and empty a database (`Db`, `open_db`, `migrate`, `truncate_all`).
- `builders`: a world through the real commerce actions (`make_seller`, `make_product`, …).
- `flows`: an order placed, delivered, and database snapshots, step by step.
- `races`: the same action from many threads at once.
- `webhooks`: provider requests as the providers build them (signed Twilio forms, Telegram JSON).
- `processes`: child processes started in their own session and killed as a group.
"""
