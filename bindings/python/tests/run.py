"""run.py -- the package's tests as test/python_pkg.test runs them.

    python3 run.py

Runs every test module here (unittest discovery) and prints, on standard
output, one line per test as it ends: "result CLASS.TEST STATUS" (ok,
FAIL, ERROR, skipped, ...).  unittest's own report goes to standard error,
where warnings and tracebacks go too, so that nothing they print can break
a result line.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(test, status):
    name = getattr(test, "_testMethodName", None) or str(test)
    print(f"result {type(test).__name__}.{name} {status}", file=sys.__stdout__, flush=True)


class LineResult(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        emit(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        emit(test, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        emit(test, "ERROR")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        emit(test, "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        emit(test, "expected-failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        emit(test, "unexpected-success")


def main():
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=LineResult)
    result = runner.run(suite)
    sys.exit(0 if result.wasSuccessful() and not result.skipped else 1)


if __name__ == "__main__":
    main()
