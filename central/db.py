"""Database engine and sessions: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from central.db_outage import watch
from models.errors import UnavailableError

DEFAULT_DATA_DIR = Path("data")


class DriverMissing(UnavailableError, RuntimeError):
    """The database URL names a driver this install lacks (PostgreSQL's psycopg is an extra): one line naming what
    to install, not SQLAlchemy's traceback."""

    exit_code = 6


class Base(DeclarativeBase):
    """Every central table derives from this one metadata, which Alembic migrates."""


def default_db_url(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    return f"sqlite:///{(data_dir / 'curbwatch.db').as_posix()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the console read while the ingest worker writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created if needed. Its outages are recorded
    (`central.db_outage.outage_of`)."""
    engine = _sqlite_engine(url) if url.startswith("sqlite") else _server_engine(url)
    watch(engine)
    return engine


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 10})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _server_engine(url: str) -> Engine:
    try:
        # SQLAlchemy imports the driver here: a missing one fails now, before any command has done anything.
        # Pre-ping replaces a pooled connection that died with its server (a failover) before it is used.
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        backend = make_url(url).get_backend_name()  # never the URL itself: it may hold a password
        driver = exc.name or "its driver"
        if backend == "postgresql":
            raise DriverMissing(
                f"a PostgreSQL database needs {driver} ({exc}): pip install 'curbwatch[postgres]'"
            ) from None
        raise DriverMissing(f"a {backend} database needs {driver} ({exc})") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched: its result is a CursorResult, which `Session.execute`'s type hides."""
    return cast(CursorResult[Any], result).rowcount
