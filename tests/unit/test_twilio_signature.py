"""Twilio signatures: the documented vector, and every mutation of a signed request refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from settings.config import load_config
from tests.support import Db
from tests.webhooks import AUTH_TOKEN, PUBLIC, post_twilio, twilio_signature, whatsapp_form

PATH = "/webhooks/twilio/whatsapp"


def test_twilio_documented_signature_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    validator = RequestValidator("12345")
    assert validator.compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validator.validate(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


@pytest.fixture
def client(db: Db, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = load_config(
        environ={
            "DATABASE_URL": str(db.engine.url),
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        }
    ).replace(web__public_base_url=PUBLIC, twilio__api_base_url="http://127.0.0.1:9")
    app = create_app(config, runtime=Runtime(config))
    return app.test_client()


def _count_inbound(db: Db) -> int:
    from sqlalchemy import func, select

    from commerce.messaging.models import InboundMessage

    with db.session() as s:
        return s.scalar(select(func.count(InboundMessage.id))) or 0


def test_a_correctly_signed_request_is_accepted(client, db: Db) -> None:  # type: ignore[no-untyped-def]
    response = post_twilio(client, PATH, whatsapp_form("+224622000001", "bonjour"))
    assert response.status_code == 200
    assert _count_inbound(db) == 1


def test_missing_signature_is_403_and_stores_nothing(client, db: Db) -> None:  # type: ignore[no-untyped-def]
    response = post_twilio(client, PATH, whatsapp_form("+224622000002", "bonjour"), signature="")
    assert response.status_code == 403
    assert _count_inbound(db) == 0


MUTATIONS = st.sampled_from(["param", "value", "scheme", "host", "header", "token", "path"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutation=MUTATIONS, text=st.text(max_size=40), extra=st.text(min_size=1, max_size=10))
def test_any_mutation_of_a_signed_request_is_refused(client, db: Db, mutation, text, extra) -> None:  # type: ignore[no-untyped-def]
    form = whatsapp_form("+224622000003", text)
    url = PUBLIC + PATH
    signature = twilio_signature(url, form)
    if mutation == "param":
        form = {**form, "Extra": extra}
    elif mutation == "value":
        form = {**form, "Body": text + extra}
    elif mutation == "scheme":
        signature = twilio_signature(url.replace("https://", "http://"), form)
    elif mutation == "host":
        signature = twilio_signature(url.replace("boutik.example.gn", "evil.example.com"), form)
    elif mutation == "header":
        signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    elif mutation == "token":
        signature = twilio_signature(url, form, token="not-the-token")
    elif mutation == "path":
        signature = twilio_signature(PUBLIC + "/webhooks/twilio/sms", form)
    response = post_twilio(client, PATH, form, signature=signature)
    assert response.status_code == 403
    assert _count_inbound(db) == 0
