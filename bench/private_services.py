"""A private PostgreSQL cluster and a private Redis server, for chaos runs that restart them.

Why private: the chaos benchmark and its test restart PostgreSQL and Redis on purpose, and the
shared ones on 5432/6379 serve every other test and benchmark on the machine. These live in a
temporary directory, listen on their own ports on 127.0.0.1, and `stop()` removes them.
Failures raise `ServiceError` with the command's output: a chaos test must fail, never skip,
when its services cannot be started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

PG_BIN = Path(os.environ.get("BOUTIK_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ServiceError(RuntimeError):
    """A private service could not be started, restarted or reached."""


def _run(args: list[str], *, as_postgres: bool = False, timeout: float = 60) -> str:
    if as_postgres and os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    # Output goes to a file, not a pipe: a server started by pg_ctl inherits the descriptors,
    # and a pipe it holds open would make this wait for the server's exit.
    with tempfile.TemporaryFile("w+") as out:
        done = subprocess.run(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            timeout=timeout, check=False,
        )  # fmt: skip
        out.seek(0)
        text = out.read()
    if done.returncode != 0:
        raise ServiceError(f"{' '.join(args)} failed ({done.returncode}): {text[-800:]}")
    return text


@dataclass
class PrivatePostgres:
    """A throw-away cluster (initdb, trust auth on 127.0.0.1 only) with one database."""

    port: int = 5440
    dbname: str = "chaos"
    base: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.dbname}"

    @property
    def data(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    def start(self) -> PrivatePostgres:
        self.base = Path(tempfile.mkdtemp(prefix="boutik-chaos-pg-"))
        self.base.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        _run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            as_postgres=True,
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
             "-l", str(self.base / "postgres.log"), "-w", "-t", "30", "start"],
            as_postgres=True,
        )  # fmt: skip
        self._wait_ready()
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        return self

    def _dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=3"

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self._dsn("postgres")) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error as exc:
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"private PostgreSQL on {self.port} not ready: {exc}"
                    ) from exc
                time.sleep(0.1)

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, the server comes back."""
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
             "-l", str(self.base / "postgres.log"), "restart"],
            as_postgres=True,
        )  # fmt: skip
        self._wait_ready()

    def stop(self) -> None:
        if self.base is None:
            return
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
                _run(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                     "stop"],
                    as_postgres=True,
                )  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None


@dataclass
class PrivateRedis:
    """A redis-server with no persistence at all: a restart loses every key, as in production
    without AOF/RDB."""

    port: int = 6390
    base: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        if self.base is None:
            self.base = Path(tempfile.mkdtemp(prefix="boutik-chaos-redis-"))
        _run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "yes",
             "--dir", str(self.base), "--pidfile", str(self.base / "redis.pid"),
             "--logfile", str(self.base / "redis.log")],
        )  # fmt: skip
        conn = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                conn.close()
                return self
            except redis.RedisError as exc:
                if time.monotonic() > deadline:
                    raise ServiceError(f"private Redis on {self.port} not ready: {exc}") from exc
                time.sleep(0.05)

    def _shutdown(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = ["redis-cli", "-p", str(self.port), "ping"]
            if subprocess.run(probe, capture_output=True, check=False).returncode:
                return
            time.sleep(0.05)
        raise ServiceError(f"private Redis on {self.port} did not stop")

    def restart(self) -> None:
        """Shut down without saving and start again: the queue and limiter keys are gone."""
        self._shutdown()
        self.start()

    def stop(self) -> None:
        if self.base is None:
            return
        with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
            self._shutdown()
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
