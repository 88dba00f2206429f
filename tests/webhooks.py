"""Provider requests as the providers build them; they live in `devtools.testkit.webhooks`."""

from devtools.testkit.meta_webhooks import *  # noqa: F403 - Meta's webhooks, same import path
from devtools.testkit.webhooks import *  # noqa: F403 - the tests' import path stays tests.webhooks
