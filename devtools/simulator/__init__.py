"""The browser simulator: three phones on one page, talking to the real webhooks.

`boutik serve --simulator` (what `make run` starts) mounts it at /simulator, with the Twilio,
Telegram and Meta (Graph API) emulators at /emu/twilio, /emu/telegram and /emu/meta of the same
server; a switch on the page chooses which of Twilio and Meta carries WhatsApp. Production never
mounts any of it: `[simulator] enabled` is false unless `serve --simulator` turns it on.
"""

from devtools.simulator.setup import install, prepare_config, simulator_of

__all__ = ["install", "prepare_config", "simulator_of"]
