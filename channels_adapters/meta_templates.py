"""The out-of-window notice templates for Meta's WhatsApp Cloud API, from the catalog sentences.

Why from `twilio_templates` and not written again: a notice is the same sentence whichever
provider carries it. `twilio_templates.notice_spec` already turns the catalog sentence
(`notify.<kind>`) into a body with WhatsApp's numbered {{1}}, {{2}}… and checks that WhatsApp
would accept it; this module only puts that body, its parameters and its samples into the shape
of the WhatsApp Business Management API (`POST /{version}/{waba_id}/message_templates`), which
`meta_template_sync` creates. A send fills the same variables (`notice_variables`, through
`meta_render.template_message`), by the row's friendly_name and language.

No menu templates: the Cloud API sends reply buttons and lists in session as they are.

Names: `boutik_<kind>_<language>`, one per language, as the Twilio templates are named. Meta
lets one name hold every language, but a `content_templates` row is unique by (provider,
friendly_name) and its friendly_name is the name a send uses: one name per row keeps the row
the whole truth about what to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import i18n
from channels_adapters.twilio_templates import (
    CATEGORY,
    NOTICE_TEXTS,
    PREFIX,
    check_approvable,
    notice_spec,
)
from commerce.messaging.notices import Notice

CONTENT_TYPE = "meta/text"  # what a Meta notice row's content_type says
NAME_MAX = 512  # Meta's limit on a template name
BODY_MAX = 1024  # Meta's limit on a BODY component's text
NAME_PATTERN = re.compile(r"[a-z0-9_]+")  # lowercase letters, digits and underscores only
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def template_name(kind: str, language: str) -> str:
    """The name Meta knows a notice template by: `boutik_order_accepted_fr`."""
    return f"{PREFIX}{kind}_{language}"


def check_fits(name: str, body: str, samples: tuple[str, ...]) -> None:
    """Refuse (ValueError) what Meta's template review refuses at creation.

    The name: lowercase letters, digits and underscores, at most 512. The body: at most 1024
    characters, variables numbered {{1}}, {{2}}… in order of appearance, none at the start or
    the end, none next to another, and one sample per variable.
    """
    if not NAME_PATTERN.fullmatch(name) or len(name) > NAME_MAX:
        raise ValueError(f"not a Meta template name: {name!r}")
    if len(body) > BODY_MAX:
        raise ValueError(f"body longer than {BODY_MAX} characters: {body[:40]!r}…")
    check_approvable(body)
    found = _VARIABLE.findall(body)
    if found != [str(n) for n in range(1, len(found) + 1)]:
        raise ValueError(f"variables not numbered 1, 2… in order: {body!r}")
    if len(samples) != len(found) or not all(s.strip() for s in samples):
        raise ValueError(f"{len(found)} variables but {len(samples)} samples: {body!r}")


@dataclass(frozen=True)
class MetaTemplateSpec:
    """One notice template in one language, as the Business Management API creates it."""

    kind: Notice
    language: str
    body: str  # the catalog sentence with {{1}}, {{2}}…
    params: tuple[str, ...]  # the notification's parameter behind each variable, in order
    samples: tuple[str, ...]  # what Meta's reviewers read in place of each variable

    @property
    def key(self) -> str:
        return self.kind.value

    @property
    def name(self) -> str:
        return template_name(self.kind.value, self.language)

    def create_request(self) -> dict[str, Any]:
        """The body of `POST /{version}/{waba_id}/message_templates`."""
        body: dict[str, Any] = {"type": "BODY", "text": self.body}
        if self.samples:  # Meta refuses an example with nothing to illustrate
            body["example"] = {"body_text": [list(self.samples)]}
        return {
            "name": self.name,
            "language": self.language,
            "category": CATEGORY,
            "components": [body],
        }


def meta_notice_spec(kind: Notice, language: str) -> MetaTemplateSpec:
    spec = notice_spec(kind, language)  # the catalog sentence, numbered and checked once
    samples = tuple(spec.samples[str(n)] for n in range(1, len(spec.params) + 1))
    made = MetaTemplateSpec(kind, language, str(spec.definition["body"]), spec.params, samples)
    check_fits(made.name, made.body, made.samples)
    return made


def meta_notice_specs() -> list[MetaTemplateSpec]:
    """Every notice a WhatsApp buyer must get outside the 24 h window, in each language."""
    return [meta_notice_spec(kind, lang) for kind in NOTICE_TEXTS for lang in i18n.LANGUAGES]


def body_text(template: dict[str, Any]) -> str | None:
    """The BODY text of a template as the Graph API lists it (None: it has no BODY)."""
    for component in template.get("components") or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text", ""))
    return None
