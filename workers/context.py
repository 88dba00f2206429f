"""The worker process's Runtime, built from config on first use (or installed by a test)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boutik.runtime import Runtime

_runtime: Runtime | None = None


def install(rt: Runtime | None) -> None:
    global _runtime
    _runtime = rt


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        from boutik.config import get_config
        from boutik.runtime import Runtime

        _runtime = Runtime(get_config())
    return _runtime
