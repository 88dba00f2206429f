"""The layers hold: import-linter's contracts (pyproject.toml) pass on the tree as it is.

Why in the unit suite as well as `make lint`: CI runs `make test`, and a new import from `bot/`
into `workers/` or `channels_adapters/` (as `bot.support.handlers` once reached into
`workers/`) must fail there, not wait for someone to run the linter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and " kept" in done.stdout


def test_the_core_and_the_conversations_type_check() -> None:
    """mypy on commerce/ and bot/ ([tool.mypy] in pyproject.toml).

    Why here too: notification kinds are a `Notice` enum so that a renamed kind breaks the type
    check; that only protects anyone if the type check runs where CI does.
    """
    mypy = Path(sys.executable).with_name("mypy")
    done = subprocess.run(
        [str(mypy), "commerce", "bot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
