"""Child processes killed as a group; they live in `devtools.testkit.processes`."""

from devtools.testkit.processes import *  # noqa: F403 - the tests' import path stays tests.processes
