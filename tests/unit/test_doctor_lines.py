"""`boutik doctor`'s lines without sockets: the public-URL rules, what a line may show, and a
crashing check reported as a line (the provider checks are in tests/integration/test_doctor.py)."""

from __future__ import annotations

import pytest

from boutik.doctor import Result, Status, render, run_checks
from boutik.doctor.results import shown_url
from boutik.doctor.web import check_public_url
from boutik.runtime import Runtime
from settings.config import load_config


def _runtime(public: str) -> Runtime:
    return Runtime(load_config(environ={}).replace(web__public_base_url=public))


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://boutik.example.gn", Status.OK),
        ("https://boutik.example.gn:8443/app", Status.OK),
        ("http://boutik.example.gn", Status.PROBLEM),
        ("https://localhost", Status.PROBLEM),
        ("https://192.168.1.20", Status.PROBLEM),
        ("https://[::1]", Status.PROBLEM),
        ("https://boutik", Status.PROBLEM),
        ("https://boutik.example.gn:9000", Status.PROBLEM),  # Telegram refuses that port
    ],
)
def test_public_url_rules(url: str, status: Status) -> None:
    (result,) = check_public_url(_runtime(url))
    assert result.status is status, result


def test_shown_urls_keep_no_credentials_nor_query() -> None:
    assert (
        shown_url("https://u:pw@old.example.gn:8443/sms?s=abc")
        == "https://old.example.gn:8443/sms?…"
    )
    assert shown_url("") == "(none)"


def test_a_line_never_shows_a_full_number() -> None:
    line = render(Result.problem("SMS number", "+224622123456 is wrong", "fix it"))
    assert "+224622123456" not in line and line.startswith("PROBLEM  SMS number:")
    assert line.endswith(". Fix: fix it")


def test_a_check_that_crashes_is_a_problem_line() -> None:
    def check_boom(rt: Runtime) -> list[Result]:
        raise RuntimeError("https://user:secret@host/")

    (result,) = run_checks(_runtime("https://boutik.example.gn"), [check_boom])
    assert result.status is Status.PROBLEM and result.subject == "Boom"
    assert "secret" not in result.text
