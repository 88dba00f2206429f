"""The browser simulator: three phones on one page, talking to the real webhooks.

`boutik serve --simulator` (what `make run` starts) mounts it at /simulator, with the Twilio
and Telegram emulators at /emu/twilio and /emu/telegram of the same server. Production never
mounts any of it: `[simulator] enabled` is false unless `serve --simulator` turns it on.
"""

from devtools.simulator.setup import install, prepare_config, simulator_of

__all__ = ["install", "prepare_config", "simulator_of"]
