"""Every notice template Meta gets is one its review accepts, built from the catalog sentence."""

from __future__ import annotations

import re

import pytest

from bot import i18n
from channels_adapters.meta_template_sync import approval_of
from channels_adapters.meta_templates import (
    BODY_MAX,
    NAME_MAX,
    check_fits,
    meta_notice_spec,
    meta_notice_specs,
)
from channels_adapters.twilio_templates import NOTICE_TEXTS, notice_spec
from commerce.messaging.notices import Notice
from commerce.messaging.templates import ApprovalStatus

_VAR = re.compile(r"\{\{([^{}]*)\}\}")
_NAME = re.compile(r"[a-z0-9_]+")
CASES = [(kind, lang) for kind in NOTICE_TEXTS for lang in i18n.LANGUAGES]


@pytest.mark.parametrize(("kind", "lang"), CASES, ids=[f"{k.value}-{lang}" for k, lang in CASES])
def test_every_notice_builds_a_body_meta_accepts(kind: Notice, lang: str) -> None:
    request = meta_notice_spec(kind, lang).create_request()

    assert set(request) == {"name", "language", "category", "components"}
    assert _NAME.fullmatch(request["name"]) and len(request["name"]) <= NAME_MAX
    assert request["name"] == f"boutik_{kind.value}_{lang}"
    assert request["language"] == lang and request["category"] == "UTILITY"
    [body] = request["components"]
    assert body["type"] == "BODY"
    text = body["text"]
    assert 0 < len(text) <= BODY_MAX
    numbers = _VAR.findall(text)
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]  # from 1, in order
    assert not text.strip().startswith("{{") and not text.strip().endswith("}}")
    assert not re.search(r"\}\}\s*\{\{", text)  # none side by side
    if numbers:
        [samples] = body["example"]["body_text"]
        assert len(samples) == len(numbers) and all(s.strip() for s in samples)
        assert all("{" not in s for s in samples)
    else:
        assert "example" not in body  # nothing to illustrate: Meta refuses an empty example


def test_the_sentences_are_the_twilio_templates_own() -> None:
    """One definition: the Meta body is the Twilio body, samples in the same order."""
    for spec in meta_notice_specs():
        twilio = notice_spec(spec.kind, spec.language)
        assert spec.body == twilio.definition["body"]
        assert spec.samples == tuple(twilio.samples[str(n)] for n in range(1, len(spec.params) + 1))
    assert len(meta_notice_specs()) == len(NOTICE_TEXTS) * len(i18n.LANGUAGES) == 22
    assert len({(s.name, s.language) for s in meta_notice_specs()}) == 22


@pytest.mark.parametrize(
    ("name", "body", "samples"),
    [
        ("boutik_x", "{{1}} est prête.", ("a",)),  # a variable starts it
        ("boutik_x", "Commande {{1}}", ("a",)),  # a variable ends it
        ("boutik_x", "Commande {{1}} {{2}} prête.", ("a", "b")),  # side by side
        ("boutik_x", "Commande {{2}} et {{1}} prête.", ("a", "b")),  # not in order
        ("boutik_x", "Commande {{1}} et {{3}} prête.", ("a", "b")),  # a gap
        ("boutik_x", "Commande {{order}} prête.", ("a",)),  # named, not numbered
        ("boutik_x", "Commande {{1}} prête.", ()),  # no sample
        ("boutik_x", "Commande {{1}} prête.", ("a", "b")),  # a sample too many
        ("Boutik-X", "Commande {{1}} prête.", ("a",)),  # not lowercase a-z0-9_
        ("b" * 513, "Commande prête.", ()),  # name too long
        ("boutik_x", "x" * 1025, ()),  # body too long
    ],
)
def test_check_fits_refuses_what_meta_refuses(
    name: str, body: str, samples: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        check_fits(name, body, samples)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ({"status": "APPROVED", "rejected_reason": "NONE"}, (ApprovalStatus.APPROVED, "")),
        ({"status": "PENDING"}, (ApprovalStatus.PENDING, "")),
        ({"status": "IN_APPEAL"}, (ApprovalStatus.PENDING, "")),
        (
            {"status": "REJECTED", "rejected_reason": "INVALID_FORMAT"},
            (ApprovalStatus.REJECTED, "INVALID_FORMAT"),
        ),
        ({"status": "PAUSED"}, (ApprovalStatus.PAUSED, "")),
        ({"status": "DISABLED"}, (ApprovalStatus.DISABLED, "")),
        ({"status": "SOMETHING_NEW"}, (ApprovalStatus.PENDING, "")),  # never taken as approved
        ({}, (ApprovalStatus.PENDING, "")),
    ],
)
def test_meta_review_states_map_onto_the_approvals_the_outbox_reads(
    listed: dict[str, str], expected: tuple[ApprovalStatus, str]
) -> None:
    assert approval_of(listed) == expected
