"""The application: the entry points that build a Runtime and wire every layer to it.

`boutik.cli` (the `boutik` command), `boutik.wsgi` (gunicorn) and `boutik.runtime` (the
database, the dispatcher, the senders and the bot engine, built once from the settings). Nothing
below imports this package: settings and ports travel down explicitly from here.
"""
