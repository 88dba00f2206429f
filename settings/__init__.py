"""What a Boutik process is configured with, and what must never leave it in a log line.

`settings.config` reads config.toml and the environment once into frozen dataclasses;
`settings.log_redaction` masks phone numbers, the configured secrets and signed links in every
log record. Why a package of its own, low in the layers: the conversations (the support agent's
model settings), the channels and the workers all need them, and the application that wires
everything together (`boutik`) sits above all three. It imports nothing of ours but the core's
phone rules.
"""
