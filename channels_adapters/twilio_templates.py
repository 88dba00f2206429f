"""Every WhatsApp content template Boutik needs, defined once: menus by shape, notices by kind.

Why here, in production code: `boutik twilio templates sync` creates exactly these at Twilio
(`channels_adapters.twilio_template_sync`), the renderer fills exactly these variables
(`render.menu_variables`, `notice_variables` below) and the simulator creates the same set on
its emulator. One definition, so a template can never disagree with what is sent through it.

- Menus (`boutik_menu_<shape>`, language "fr", every word in a variable): one template per exact
  shape, because Twilio fills a variable left unset with its sample (a 2-choice menu through a
  3-button template shows a third, sample button): quick replies of 1–3 buttons and list
  pickers of 1–10 rows, with or without descriptions — every shape `render.menu_shape` returns,
  plus the 1–3-row pickers it never asks for (menus that short go as buttons). Sent only inside
  the 24 h window, where WhatsApp needs no approval; never submitted.
- Notices (`boutik_<kind>_<lang>`): the notifications a buyer must receive even outside the
  window, with the catalog's sentence (`notify.<kind>`) as body and its `{name}` placeholders
  numbered {{1}}, {{2}}… as WhatsApp requires; submitted for approval, category UTILITY.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot import i18n
from channels_adapters.render import WA_BUTTONS, WA_ROWS
from commerce.messaging.notices import Notice
from commerce.messaging.templates import MENU_LANGUAGE, TemplatePurpose
from commerce.money import format_gnf

QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"
TEXT = "twilio/text"
CATEGORY = "UTILITY"  # what an order's progress is to WhatsApp: no marketing, no OTP
VARIABLE_MAX = 255  # Twilio's advice for one variable's value
PREFIX = "boutik_"

# The notices a WhatsApp buyer must get even after 24 h of silence, and the catalog sentence
# each is sent with. Seller, admin and courier notices go to Telegram or SMS
# (`routing.preferred_channel`); a support thread's messages start with free text (a body
# WhatsApp refuses: it may not start or end with a variable).
NOTICE_TEXTS: dict[Notice, str] = {
    Notice.ORDER_ACCEPTED: "notify.order_accepted",
    Notice.ORDER_REFUSED: "notify.order_refused",
    Notice.COURIER_ASSIGNED: "notify.courier_assigned",
    Notice.ORDER_PICKED_UP: "notify.order_picked_up",
    Notice.CONFIRM_CASH: "notify.confirm_cash",
    Notice.REVIEW_PROMPT: "notify.review_prompt",
    Notice.CONFIRM_REFUND: "buyer.notify.confirm_refund",
    Notice.RETURN_APPROVED: "notify.return_approved",
    Notice.RETURN_REFUSED: "notify.return_refused",
    Notice.CODE_REISSUED: "notify.code_reissued",
    Notice.REVIEW_REPLIED: "notify.review_replied",
}

# Sample values WhatsApp reviewers read in place of each placeholder.
SAMPLES: dict[str, dict[str, str]] = {
    "fr": {"reason": "rupture de stock"},
    "en": {"reason": "out of stock"},
}
_COMMON_SAMPLES = {
    "order_id": "1042",
    "return_id": "17",
    "total_gnf": format_gnf(250_000),
    "amount_gnf": format_gnf(120_000),
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class TemplateSpec:
    """One content template as the Content API creates it (`POST /v1/Content`)."""

    purpose: TemplatePurpose
    key: str  # the menu shape or the notice kind
    language: str
    content_type: str
    definition: dict[str, Any]
    samples: dict[str, str]
    # Notices: the notification's parameter behind each numbered variable, in order.
    params: tuple[str, ...] = field(default=())

    @property
    def friendly_name(self) -> str:
        if self.purpose == TemplatePurpose.MENU:
            return f"{PREFIX}menu_{self.key}"
        return f"{PREFIX}{self.key}_{self.language}"

    @property
    def needs_approval(self) -> bool:
        return self.purpose == TemplatePurpose.NOTICE

    def create_request(self) -> dict[str, Any]:
        """The body of `POST /v1/Content` (`ContentCreateRequest`)."""
        return {
            "friendly_name": self.friendly_name,
            "language": self.language,
            "variables": dict(self.samples),
            "types": {self.content_type: dict(self.definition)},
        }


def _var(n: int) -> str:
    return "{{" + str(n) + "}}"


def quick_reply_definition(buttons: int) -> dict[str, Any]:
    """Body {{1}}, then title/id pairs {{2}}/{{3}}, {{4}}/{{5}}… (`render.menu_variables`)."""
    return {
        "body": _var(1),
        "actions": [{"title": _var(2 + 2 * i), "id": _var(3 + 2 * i)} for i in range(buttons)],
    }


def list_picker_definition(rows: int, *, described: bool) -> dict[str, Any]:
    """Body {{1}}, button {{2}}, then item/id(/description) per row (`render.menu_variables`)."""
    stride = 3 if described else 2
    items = []
    for i in range(rows):
        item = {"item": _var(3 + stride * i), "id": _var(4 + stride * i)}
        if described:
            item["description"] = _var(5 + stride * i)
        items.append(item)
    return {"body": _var(1), "button": _var(2), "items": items}


def _menu_samples(definition: dict[str, Any]) -> dict[str, str]:
    samples = {"1": "Que souhaitez-vous faire ?"}
    if "button" in definition:
        samples["2"] = "Choisir"
    entries = definition.get("actions") or definition.get("items") or []
    for n, entry in enumerate(entries, 1):
        for name, value in entry.items():
            number = value.strip("{}")
            samples[number] = {
                "title": f"Choix {n}",
                "item": f"Article {n}",
                "id": f"choice_{n}",
                "description": f"Description {n}",
            }[name]
    return samples


def menu_specs() -> list[TemplateSpec]:
    """One template per shape `render.menu_shape` returns: 3 quick replies, 20 list pickers."""
    specs = []
    for n in range(1, WA_BUTTONS + 1):
        definition = quick_reply_definition(n)
        specs.append(
            TemplateSpec(
                TemplatePurpose.MENU,
                f"quick_reply_{n}",
                MENU_LANGUAGE,
                QUICK_REPLY,
                definition,
                _menu_samples(definition),
            )
        )
    for n in range(1, WA_ROWS + 1):
        for described in (False, True):
            definition = list_picker_definition(n, described=described)
            key = f"list_picker_{n}" + ("_described" if described else "")
            specs.append(
                TemplateSpec(
                    TemplatePurpose.MENU,
                    key,
                    MENU_LANGUAGE,
                    LIST_PICKER,
                    definition,
                    _menu_samples(definition),
                )
            )
    return specs


def numbered(sentence: str) -> tuple[str, tuple[str, ...]]:
    """ "Commande {order_id} : {reason}." → ("Commande {{1}} : {{2}}.", ("order_id", "reason")).

    Each occurrence gets its own number, so a repeated parameter is simply given twice.
    """
    params: list[str] = []

    def number(match: re.Match[str]) -> str:
        params.append(match.group(1))
        return _var(len(params))

    return _PLACEHOLDER.sub(number, sentence), tuple(params)


def check_approvable(body: str) -> None:
    """WhatsApp rejects a body that starts or ends with a variable or has two side by side."""
    text = body.strip()
    if text.startswith("{{") or text.endswith("}}"):
        raise ValueError(f"a variable starts or ends the body: {body!r}")
    if re.search(r"\}\}\s*\{\{", text):
        raise ValueError(f"two variables side by side: {body!r}")


def notice_spec(kind: Notice, language: str) -> TemplateSpec:
    body, params = numbered(i18n.catalog(language)[NOTICE_TEXTS[kind]])
    check_approvable(body)
    samples = {**_COMMON_SAMPLES, **SAMPLES.get(language, {})}
    return TemplateSpec(
        TemplatePurpose.NOTICE,
        kind.value,
        language,
        TEXT,
        {"body": body},
        {str(n): samples.get(name, name) for n, name in enumerate(params, 1)},
        params,
    )


def notice_specs() -> list[TemplateSpec]:
    return [notice_spec(kind, lang) for kind in NOTICE_TEXTS for lang in i18n.LANGUAGES]


def all_specs() -> list[TemplateSpec]:
    """Everything `sync` creates: 23 menus and 11 notices × 2 languages, 45 in all."""
    return menu_specs() + notice_specs()


def notice_variables(kind: str, params: dict[str, Any], language: str) -> dict[str, str]:
    """The ContentVariables of a notice sent through its template: every one filled.

    `total_gnf` reads the `total` parameter, formatted as the catalog would; a missing or empty
    value becomes "-" (Twilio refuses an empty variable, 21656).
    """
    spec = notice_spec(Notice(kind), language)
    variables = {}
    for n, name in enumerate(spec.params, 1):
        base = name.removesuffix("_gnf")
        value = params.get(name, params.get(base, ""))
        if name.endswith("_gnf") and isinstance(value, int):
            text = format_gnf(value)
        else:
            text = str(value).strip()
        variables[str(n)] = text[:VARIABLE_MAX] or "-"
    return variables


def has_notice_template(kind: str) -> bool:
    return kind in {k.value for k in NOTICE_TEXTS}
