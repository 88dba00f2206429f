"""The baseline of benchmark #1: a bare Flask endpoint that answers a webhook with empty TwiML.

Why a module of its own: gunicorn must import it with nothing else (no SQLAlchemy, no engine,
no Twilio SDK), so that the baseline measures only the server set-up — gunicorn, Flask
routing and the response — that the real turn also pays. It does not read the form or check a
signature: everything above this floor is the cost of the turn.

    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:8801 'bench.bare_twiml:app'
"""

from __future__ import annotations

from flask import Flask, Response

# The same body channels_adapters.twilio_inbound answers with (kept literal: importing that
# module would pull the whole application into the baseline process).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

app = Flask("bare_twiml")


@app.post("/webhooks/twilio/whatsapp")
def whatsapp() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")


def make_floor_app() -> Flask:
    """A second reference: the same endpoint plus one INSERT and COMMIT on PostgreSQL.

    Why: it is the least any turn that records a message must do (the issue quotes 0.38 of bare
    for it), so it shows how much of the gap to bare is the database round trip itself.
    `gunicorn 'bench.bare_twiml:make_floor_app()'`, DATABASE_URL from the environment; the
    table `bench_floor` is created by bench.inbound_turn.
    """
    import os

    from flask import request
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["DATABASE_URL"], pool_size=10)
    floor = Flask("floor_twiml")

    @floor.post("/webhooks/twilio/whatsapp")
    def whatsapp() -> Response:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_floor (sid) VALUES (:sid)"),
                {"sid": request.form.get("MessageSid", "")},
            )
        return Response(EMPTY_TWIML, mimetype="text/xml")

    return floor
