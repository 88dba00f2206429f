"""Tools for people building and testing Boutik, never part of what production runs.

- `devtools.emulators`: local Twilio Messages API and Telegram Bot API, held to the providers'
  published specs, for the tests, the benchmarks and the simulator.
- `devtools.simulator`: the browser simulator (`boutik serve --simulator`).
- `devtools.seed`: the demo marketplace (`boutik seed demo`).
- `devtools.testkit`: databases, world builders and provider requests shared by tests/ and bench/.

Production packages never import this at module import time; only the application's entry
points reach it (`boutik.app.build_app` for `serve --simulator`, the `seed` command), from
inside the function that needs it (tests/unit/test_devtools_boundary.py lists them), and it
never imports the application back (import-linter, pyproject.toml).
"""
