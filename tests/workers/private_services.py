"""A private PostgreSQL cluster and Redis server for tests that restart them (never the shared system ones).

The cluster is initdb'd in a temporary folder with the system's PostgreSQL 15 binaries (PostGIS and
pgvector are installed system-wide, so CREATE EXTENSION works); both listen on free loopback ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

__all__ = ["PrivatePostgres", "PrivateRedis", "free_port"]

PG_BIN = Path(os.environ.get("ASTROLOC_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="astroloc-private-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()

    def _run(self, args: list[str]) -> None:
        subprocess.run(_as_postgres(args), check=True, capture_output=True, cwd="/", timeout=120)

    def init(self) -> PrivatePostgres:
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.start()
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                   "-o", opts, "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def crash_restart(self, down_seconds: float = 1.0) -> None:
        """Stop as a crash would (immediate: no checkpoint, WAL recovery at start), then start again."""
        self.stop("immediate")
        time.sleep(down_seconds)
        self.start()

    def url(self, db: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db, autocommit=True)

    def create_database(self, db: str) -> str:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{db}"')
        with self.connect(db) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(db)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server without persistence: a restart loses every queued message, the harshest case."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="astroloc-private-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=(self.root / "redis.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"private redis did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def crash_restart(self, down_seconds: float = 2.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
