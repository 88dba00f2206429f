"""The web application as a process serves it: production routes, plus the simulator when asked.

Why here and not in `channels_adapters.web.create_app`: the simulator and the emulators are
development tools (`devtools`), and only the application's own entry points may reach them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels_adapters.web import create_app

if TYPE_CHECKING:
    from flask import Flask

    from boutik.runtime import Runtime


def build_app(rt: Runtime) -> Flask:
    """The Flask app for `rt`; with `[simulator] enabled`, the emulators and the simulator page
    mounted too (`boutik serve --simulator`). A config that turns the key on without the
    simulator's wiring (`devtools.simulator.prepare_config`) is refused there, never half-mounted.
    """
    app = create_app(rt.config, runtime=rt)
    if rt.config.simulator.enabled:
        from devtools import simulator

        simulator.install(app, rt)
    return app
