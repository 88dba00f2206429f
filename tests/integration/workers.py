"""Starting a real `boutik worker` process for an integration test.

Why one helper: the tests that kill, restart or hold up workers all need the same process as
production runs it (PostgreSQL, Redis, the providers' test secrets, an overlay config pointing
at the emulators), with its output in a file the failure message can quote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import processes
from tests.e2e.conftest import provider_env
from tests.support import PG_URL, REDIS_URL, ROOT


def start_boutik_worker(overlay: Path, log: Path) -> subprocess.Popen[bytes]:
    """`boutik worker` with config overlay `overlay`, its output appended to `log`."""
    env = {
        **os.environ,
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        **provider_env(),
    }
    with log.open("ab") as out:
        return processes.start(
            [sys.executable, "-m", "boutik.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
