"""Run the same action from many threads at once; it lives in `devtools.testkit.races`."""

from devtools.testkit.races import race

__all__ = ["race"]
