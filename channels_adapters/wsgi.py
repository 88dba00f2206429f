"""The WSGI entry point for production servers: `gunicorn 'channels_adapters.wsgi:app'`.

Configuration comes from config.toml, BOUTIK_CONFIG and the environment, like every command.
With `[queue] redis_url` set (production), sending happens in `boutik worker` processes; with
it empty, each web process sends in its own threads and runs its own sweeper.
"""

from __future__ import annotations

from boutik.config import get_config
from boutik.runtime import Runtime, configure_logging
from channels_adapters.web import create_app

configure_logging()
runtime = Runtime(get_config())
if not runtime.uses_redis:
    from workers.sweeper import Sweeper

    Sweeper(runtime).start()
app = create_app(runtime.config, runtime=runtime)
