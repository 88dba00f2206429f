"""Shared steps for the unit tests; they live in `devtools.testkit.flows` (bench/ uses them too)."""

from devtools.testkit.flows import *  # noqa: F403 - the tests' import path stays tests.unit.flows
