"""Finding the eventstore extension and loading it into a connection.

The extension is, in this order: the file named by the environment
variable EVENTSTORE_EXTENSION; the eventstore.so this package carries
(`make python` puts it in eventstore/lib/, `pip install` installs it with
the package).  A Python whose sqlite3 module was built without extension
loading (several distributions' and pyenv's builds) gets an error that
says so and what to use instead.
"""

from __future__ import annotations

import os
import sqlite3
import sys

from .errors import ExtensionNotLoadableError

__all__ = ["extension_path", "load", "connect"]

_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "eventstore.so")


def extension_path() -> str:
    """The path of the extension this package loads."""
    path = os.environ.get("EVENTSTORE_EXTENSION")
    if path:
        if not os.path.isfile(path):
            raise ExtensionNotLoadableError(
                f"eventstore: EVENTSTORE_EXTENSION names {path!r}, which is not a file")
        return path
    if os.path.isfile(_BUNDLED):
        return _BUNDLED
    raise ExtensionNotLoadableError(
        f"eventstore: the extension is not in the package ({_BUNDLED} is missing): "
        f"build it with `make python` in the eventstore checkout, or set "
        f"EVENTSTORE_EXTENSION to the path of eventstore.so")


def check_loadable(module=sqlite3) -> None:
    """Fail, saying why, when this Python's sqlite3 cannot load extensions."""
    if not hasattr(module.Connection, "enable_load_extension"):
        raise ExtensionNotLoadableError(
            f"eventstore: this Python's sqlite3 module cannot load extensions "
            f"({sys.executable} was built without --enable-loadable-sqlite-extensions); "
            f"use a Python whose sqlite3 can, such as Debian's /usr/bin/python3 "
            f"(a virtual environment made from it works too)")


def load(conn: sqlite3.Connection) -> None:
    """Load the extension into an open sqlite3 connection (as sqlite-vec's
    load(db) does)."""
    check_loadable()
    path = extension_path()
    conn.enable_load_extension(True)
    try:
        conn.load_extension(path)
    except sqlite3.OperationalError as e:
        raise ExtensionNotLoadableError(f"eventstore: cannot load {path}: {e}") from None
    finally:
        conn.enable_load_extension(False)


def connect(database: str, *, busy_timeout: int = 5000, **kwargs) -> sqlite3.Connection:
    """A sqlite3 connection in autocommit mode with the extension loaded:
    each es_append is then its own transaction unless the caller begins
    one."""
    check_loadable()
    conn = sqlite3.connect(database, isolation_level=None, **kwargs)
    try:
        load(conn)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
    except BaseException:
        conn.close()
        raise
    return conn
