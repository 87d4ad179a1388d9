"""Two private PostgreSQL servers for the failover test: a primary and a synchronous streaming replica, in a
temporary folder on free ports, made with the server's own initdb, pg_basebackup and pg_ctl. The machine's own
cluster (5432) is never touched. As root, the servers run as the `postgres` user: initdb refuses root."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from curbwatch.local_broker import free_port

DATABASE = "curbwatch"
REPLICA_NAME = "replica"


def server_bin() -> Path:
    """The newest installed server's binaries (Debian keeps them off PATH, under /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path is None:
        pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are required: .ci/setup installs them")
    return Path(on_path).parent


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid`, from /proc (no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the parent's pid is the 2nd field after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class PgPair:
    def __init__(self) -> None:
        self.bin = server_bin()
        self.as_user: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="curbwatch-pg-"))
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.ports = {"a": free_port(), "b": free_port()}

    def _run(self, tool: str, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{tool} {' '.join(args)}: {done.stderr or done.stdout}"
        return done.stdout

    def data(self, name: str) -> Path:
        return self.folder / name

    def admin_url(self, name: str, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.ports[name]}/{database}"

    def url(self) -> str:
        """Both servers, for libpq to pick whichever takes writes now."""
        hosts = "&".join(f"host=127.0.0.1:{port}" for port in self.ports.values())
        return f"postgresql+psycopg://postgres@/{DATABASE}?{hosts}&target_session_attrs=read-write&connect_timeout=3"

    def start(self, name: str) -> None:
        self._run("pg_ctl", "-D", str(self.data(name)), "-l", str(self.folder / f"{name}.log"), "-w", "start")

    def _configure(self, name: str, *lines: str) -> None:
        with (self.data(name) / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def sql(self, name: str, statement: str, database: str = "postgres") -> list:
        engine = create_engine(self.admin_url(name, database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(statement))
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def up(self) -> PgPair:
        """Primary `a`, then replica `b` cloned from it, streaming; then commits on `a` wait for `b`. The
        replica's copy of the settings names no synchronous standby: once promoted it runs alone."""
        primary = str(self.data("a"))
        self._run("initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8")
        self._configure(
            "a",
            f"port = {self.ports['a']}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.folder}'",
            "wal_level = replica",
            "max_wal_senders = 4",
            "synchronous_commit = on",
        )
        with (self.data("a") / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.start("a")
        self.sql("a", f'CREATE DATABASE "{DATABASE}"')
        replica = str(self.data("b"))
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.ports["a"]),
            "-U",
            "postgres",
            "-D",
            replica,
            "-R",
            "-c",
            "fast",
        )
        self._configure("b", f"port = {self.ports['b']}", f"cluster_name = '{REPLICA_NAME}'")
        self.start("b")
        self.sql("a", f"ALTER SYSTEM SET synchronous_standby_names = '{REPLICA_NAME}'")
        self.sql("a", "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while self.sql("a", "SELECT sync_state FROM pg_stat_replication") != [("sync",)]:
            assert time.monotonic() < deadline, "the replica never became synchronous"
            time.sleep(0.2)
        return self

    def kill_primary(self) -> None:
        """SIGKILL to the postmaster and every backend at once, as a power cut would leave it."""
        pid = int((self.data("a") / "postmaster.pid").read_text().split()[0])
        for each in (pid, *_children(pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGKILL)

    def promote_replica(self) -> None:
        self._run("pg_ctl", "-D", str(self.data("b")), "-w", "promote")

    def close(self) -> None:
        for name in ("b", "a"):
            pid_file = self.data(name) / "postmaster.pid"
            if pid_file.exists():
                subprocess.run(
                    [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data(name)), "-m", "immediate", "stop"],
                    capture_output=True,
                    timeout=60,
                )
        shutil.rmtree(self.folder, ignore_errors=True)
