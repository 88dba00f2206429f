"""Every payload kind a user can send, parsed into one channel-neutral message."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from bot.messages import InboundKind
from channels_adapters.telegram_inbound import parse_update
from channels_adapters.twilio_inbound import parse_form
from commerce.users.models import Channel
from tests.webhooks import telegram_callback, telegram_message, whatsapp_form


def _wa(**extra: str):  # type: ignore[no-untyped-def]
    return parse_form(MultiDict(whatsapp_form("+224622000111", **extra)), Channel.WHATSAPP)


def test_whatsapp_text() -> None:
    msg = _wa(Body="Bonjour")
    assert (msg.kind, msg.text, msg.address) == (InboundKind.TEXT, "Bonjour", "+224622000111")
    assert msg.profile_name == "Mariama Diallo" and msg.external_id.startswith("SM")


def test_whatsapp_quick_reply_and_list_reply() -> None:
    button = _wa(Body="Catalogue", ButtonText="Catalogue", ButtonPayload="menu:catalog")
    assert (button.kind, button.payload) == (InboundKind.BUTTON, "menu:catalog")
    listed = _wa(Body="Chaussures", ListId="cat:3", ListTitle="Chaussures")
    assert (listed.kind, listed.payload, listed.text) == (InboundKind.BUTTON, "cat:3", "Chaussures")


def test_whatsapp_location_pin() -> None:
    msg = _wa(Latitude="9.6412", Longitude="-13.5784", Address="Kipé", Label="Chez moi")
    assert msg.kind == InboundKind.LOCATION
    assert (msg.latitude, msg.longitude, msg.location_label) == (9.6412, -13.5784, "Chez moi")


def test_whatsapp_media() -> None:
    msg = _wa(
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
    )
    assert msg.kind == InboundKind.MEDIA and msg.media[0].content_type == "image/jpeg"


def test_bad_numbers_in_a_twilio_form_do_not_crash() -> None:
    msg = _wa(NumMedia="lots", Latitude="north", Longitude="")
    assert msg.kind == InboundKind.TEXT and msg.media == () and msg.latitude is None


def test_telegram_text_command_callback() -> None:
    text = parse_update(telegram_message(42, "salut"))
    assert text is not None and (text.kind, text.address, text.telegram_user_id) == (
        InboundKind.TEXT,
        "42",
        42,
    )
    command = parse_update(telegram_message(42, "/nouveau"))
    assert command is not None and command.kind == InboundKind.COMMAND
    callback = parse_update(telegram_callback(42, "prod:7"))
    assert callback is not None and callback.kind == InboundKind.BUTTON
    assert callback.payload == "prod:7" and callback.callback_query_id


def test_telegram_contact_photo_location() -> None:
    contact = parse_update(
        telegram_message(42, "", contact={"phone_number": "+224622000112", "user_id": 42})
    )
    assert contact is not None and contact.kind == InboundKind.CONTACT
    assert (contact.contact_phone, contact.contact_user_id) == ("+224622000112", 42)
    photo = parse_update(
        telegram_message(
            42,
            "",
            photo=[
                {"file_id": "small", "file_size": 10, "width": 90},
                {"file_id": "big", "file_size": 900, "width": 800},
            ],
            caption="mon produit",
        )
    )
    assert photo is not None and photo.kind == InboundKind.MEDIA
    assert photo.media[0].file_id == "big" and photo.text == "mon produit"
    where = parse_update(telegram_message(42, "", location={"latitude": 9.5, "longitude": -13.7}))
    assert where is not None and where.kind == InboundKind.LOCATION and where.latitude == 9.5


def test_telegram_updates_we_do_not_act_on() -> None:
    assert parse_update({"update_id": 5, "edited_message": {"text": "x"}}) is None
    assert parse_update({"no": "id"}) is None


def test_garbage_coordinates_are_no_location_pin() -> None:
    """Regression (fuzz): "nan", "inf", out-of-range or half pins used to reach the flows as
    a LOCATION with NaN/inf coordinates, or a latitude without a longitude."""
    for lat, lng in (("nan", "-13.5"), ("9.6", "inf"), ("91", "-13.5"), ("9.6", "-181"), ("0", "")):
        msg = _wa(Latitude=lat, Longitude=lng)
        assert msg.kind == InboundKind.TEXT
        assert (msg.latitude, msg.longitude) == (None, None)


def test_telegram_fields_of_the_wrong_type_are_not_a_crash() -> None:
    """Regression (fuzz): a number for a text, a string for a chat, a bool for an id, a list
    for a contact raised AttributeError/TypeError in the parser: a 500 Telegram redelivers."""
    assert parse_update({"update_id": 1, "message": {"from": "x", "chat": 5}}) is None
    assert parse_update({"update_id": True, "message": {}}) is None
    assert parse_update(telegram_message(42, "", chat={"id": True})) is None
    huge = telegram_message(2**70, "salut")
    assert parse_update(huge) is None  # no Telegram id is that wide: nothing to answer
    numeric = telegram_message(42, "", caption=["x"])
    numeric["message"]["text"] = 7
    text = parse_update(numeric)
    assert text is not None and (text.kind, text.text) == (InboundKind.TEXT, "")
    contact = parse_update(telegram_message(42, "", contact=["+224622000112"]))
    assert contact is not None and contact.kind == InboundKind.CONTACT
    assert (contact.contact_phone, contact.contact_user_id) == ("", None)
    where = parse_update(telegram_message(42, "", location={"latitude": "9.5", "longitude": 1}))
    assert where is not None and where.kind == InboundKind.TEXT and where.latitude is None
    photo = parse_update(telegram_message(42, "", photo=[None, {"file_size": 3}, True]))
    assert photo is not None and photo.kind == InboundKind.TEXT
    forged = {"update_id": 9, "callback_query": {"id": 5, "from": True, "data": {"a": 1}}}
    assert parse_update(forged) is None
    tap = parse_update(
        {"update_id": 10, "callback_query": {"id": 5, "from": {"id": 42}, "data": ["o:a:1"]}}
    )
    assert tap is not None and (tap.payload, tap.address, tap.callback_query_id) == ("", "42", "")
