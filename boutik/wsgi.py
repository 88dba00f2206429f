"""The WSGI entry point for production servers: `gunicorn 'boutik.wsgi:app'`.

Configuration comes from config.toml, BOUTIK_CONFIG and the environment, like every command.
With `[queue] redis_url` set (production), sending happens in `boutik worker` processes; with
it empty, each web process sends in its own threads and runs its own sweeper.
"""

from __future__ import annotations

from boutik.app import build_app
from boutik.runtime import Runtime, configure_logging
from settings.config import get_config

configure_logging()
runtime = Runtime(get_config())
if not runtime.uses_redis:
    from workers.sweeper import Sweeper

    Sweeper(runtime).start()
app = build_app(runtime)
