"""The committed provider facts are what the derive script reads from the providers' specs.

`scripts/derive_contract_facts.py` writes `devtools/contracts/provider_facts.json` from
`../shared/specs/`. The tests use the committed file (a fresh machine may not have `../shared`);
this test holds the file to the specs wherever they are there (CI lays shared/ beside the clone).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from devtools import contracts

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT.parent / "shared" / "specs"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "derive", ROOT / "scripts/derive_contract_facts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_facts_are_derived_from_the_specs() -> None:
    committed = json.loads(contracts.FACTS_PATH.read_text(encoding="utf-8"))
    assert set(committed["sources"]) == {
        "twilio_api_v2010",
        "twilio_content_v1",
        "telegram_bot_api",
    }
    assert (
        committed["telegram"]["methods"]["sendMessage"]["fields"]["text"]["limits"]["max"] == 4096
    )
    if SPECS.is_dir():  # the specs are beside the project here: the file must be what they say
        assert _script().changes(committed, _script().derive(SPECS)) == []


def test_a_newer_spec_shows_what_changed() -> None:
    script = _script()
    old = {"methods": {"sendMessage": {"text": {"required": True}, "gone": {"required": False}}}}
    new = {"methods": {"sendMessage": {"text": {"required": False}, "mode": {"required": False}}}}
    assert script.changes(old, new) == [
        "- methods/sendMessage/gone/required: False",
        "+ methods/sendMessage/mode/required: False",
        "~ methods/sendMessage/text/required: True -> False",
    ]
