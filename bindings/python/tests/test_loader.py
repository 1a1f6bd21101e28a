"""Finding and loading the extension."""

import os
import types
import unittest

import support  # noqa: F401
import eventstore
from eventstore import ExtensionNotLoadableError, loader


class LoaderTest(unittest.TestCase):
    def test_environment_names_it(self):
        self.assertEqual(os.path.abspath(eventstore.extension_path()),
                         os.path.abspath(os.environ["EVENTSTORE_EXTENSION"]))

    def test_missing_file(self):
        old = os.environ["EVENTSTORE_EXTENSION"]
        os.environ["EVENTSTORE_EXTENSION"] = "/nonexistent/eventstore.so"
        try:
            with self.assertRaisesRegex(ExtensionNotLoadableError,
                                        "EVENTSTORE_EXTENSION names '/nonexistent"):
                eventstore.InMemoryEventStore()._backend._open()
        finally:
            os.environ["EVENTSTORE_EXTENSION"] = old

    def test_python_without_extension_loading(self):
        # A sqlite3 module built without it has no enable_load_extension.
        fake = types.SimpleNamespace(Connection=type("Connection", (), {}))
        with self.assertRaisesRegex(ExtensionNotLoadableError,
                                    "cannot load extensions.*/usr/bin/python3"):
            loader.check_loadable(fake)

    def test_connect(self):
        conn = eventstore.connect(":memory:")
        try:
            self.assertEqual(conn.execute("SELECT es_info() ->> 'version'").fetchone()[0],
                             eventstore.__version__)
            self.assertEqual(conn.execute("PRAGMA busy_timeout").fetchone()[0], 5000)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
