"""The tutorial of the library this package re-creates, run as its readers
would run it, on each of the three stores.

The tutorial is read at test time from the shared material (never copied
into the project): EVENTSTORE_TUTORIAL names it, else the first
shared/seed/tutorial-04-event-stores.md found beside this checkout or one
of its parent directories, else /work/shared's.  Its code changes in one place only: the
`from eventsource import ...` line imports from eventstore (and, for the
file and PostgreSQL runs, binds InMemoryEventStore to that store).
"""

import ast
import asyncio
import builtins
import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import unittest

import support
import tutorial_stores

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
NAME = os.path.join("shared", "seed", "tutorial-04-event-stores.md")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tutorial_path() -> str:
    if os.environ.get("EVENTSTORE_TUTORIAL"):
        return os.environ["EVENTSTORE_TUTORIAL"]
    d = TOP
    while True:
        for candidate in (os.path.join(d, NAME), os.path.join(d, "..", NAME)):
            if os.path.isfile(candidate):
                return os.path.normpath(candidate)
        if os.path.dirname(d) == d:
            break
        d = os.path.dirname(d)
    # The workplace's shared material, for a checkout made elsewhere.
    if os.path.isfile(os.path.join("/work", NAME)):
        return os.path.join("/work", NAME)
    raise RuntimeError(f"the tutorial {NAME} is not beside {TOP} nor above it, nor in "
                       f"/work: set EVENTSTORE_TUTORIAL to its path")


def read_tutorial() -> str:
    with open(tutorial_path(), encoding="utf-8") as f:
        return f.read()


def blocks(text: str):
    """(heading, fence language, code, output block after it or None)."""
    out = []
    heading = ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("```") and line.strip() != "```":
            lang = line[3:].strip()
            j = i + 1
            while lines[j] != "```":
                j += 1
            out.append([heading, lang, "\n".join(lines[i + 1:j]) + "\n", None])
            i = j
        elif line.startswith("```"):
            j = i + 1
            while lines[j] != "```":
                j += 1
            # A bare block right after "**Output:**" is the previous code's output.
            before = "\n".join(lines[max(0, i - 3):i])
            if out and ("**Output:**" in before or "**Expected output:**" in before):
                out[-1][3] = "\n".join(lines[i + 1:j]) + "\n"
            i = j
        i += 1
    return out


def change_import(code: str, kind: str) -> str:
    """The one change: `from eventsource import ...` imports from eventstore."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code            # not a program: check_complete says so
    lines = code.split("\n")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "eventsource":
            first, last = node.lineno - 1, node.end_lineno - 1
            stmt = "\n".join(lines[first:last + 1]).replace("from eventsource import",
                                                           "from eventstore import", 1)
            store = tutorial_stores.STORES[kind]
            if store is not None:
                stmt += f"; from tutorial_stores import {store} as InMemoryEventStore"
            lines[first:last + 1] = stmt.split("\n")
            return "\n".join(lines)
    return code


def same_output(expected: str, actual: str) -> bool:
    """Equal but for UUIDs ([UUID], [task_id UUID] in the tutorial)."""
    pattern = re.escape(expected.strip())
    pattern = re.sub(r"\\\[(?:[a-z_]+\\ )?UUID\\\]", UUID_RE.pattern, pattern)
    return re.fullmatch(pattern, actual.strip()) is not None


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([os.path.dirname(HERE), HERE])
    return e


class Fragment(Exception):
    """A snippet that is not complete code: it names what it leaves out."""


def check_complete(code: str, namespace: dict) -> ast.Module:
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise Fragment(f"not valid Python on its own ({e.msg})")
    if re.search(r"^\s*# \.\.\.", code, re.M):
        raise Fragment("leaves code out (# ...)")
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            raise Fragment("leaves arguments out (...)")
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if mod and mod != "eventsource" and importlib.util.find_spec(mod.split(".")[0]) is None:
                raise Fragment(f"needs {mod}, which is another library")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    free = used - bound - set(dir(builtins)) - set(namespace)
    if free:
        raise Fragment("uses names it does not define: " + ", ".join(sorted(free)))
    return tree


async def then_close(coroutine):
    try:
        await coroutine
    finally:
        await tutorial_stores.close_created()


def run_snippets(kind: str):
    """Run every complete snippet in one namespace, in the tutorial's order,
    as a reader pasting them one after the other would: a snippet may use
    what an earlier one defined.  Returns (ran, fragments, failures)."""
    text = read_tutorial()
    all_blocks = [b for b in blocks(text) if b[1] == "python"]
    ns = {"__name__": "tutorial"}
    ran, fragments, failures = [], [], []
    for heading, _, code, output in all_blocks:
        if heading == "Complete Working Example":
            continue
        code = change_import(code, kind)
        try:
            tree = check_complete(code, ns)
        except Fragment as f:
            fragments.append((heading, str(f)))
            continue
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                compiled = compile(code, heading, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(compiled, ns)
                if asyncio.iscoroutine(result):
                    asyncio.run(then_close(result))
                for node in tree.body:
                    if isinstance(node, ast.AsyncFunctionDef):
                        asyncio.run(then_close(ns[node.name]()))
        except Exception as e:  # noqa: BLE001 - reported as the snippet's failure
            failures.append((heading, f"{type(e).__name__}: {e}"))
            continue
        if output is not None and not same_output(output, buf.getvalue()):
            failures.append((heading, f"printed {buf.getvalue()!r}, not {output!r}"))
            continue
        ran.append((heading, output is not None))
    return ran, fragments, failures


# The snippets that are whole programs.  The rest leave code out, on
# purpose: "# ... append events ...", `...` for arguments, names that a
# reader fills in (task_id, my_tenant_uuid, projection), SQLAlchemy; "The
# Conflict Scenario" uses a TaskReassigned that no snippet before it
# defines (the complete example's needs a new_assignee it does not pass).
COMPLETE = ["Setting Up InMemoryEventStore", "Appending Events",
            "Reading Events by Aggregate ID", "Get Global Position"]
# Of those, the ones the tutorial shows the output of.
WITH_OUTPUT = ["Reading Events by Aggregate ID"]


class TutorialTest:
    kind = None

    def test_complete_example(self):
        text = read_tutorial()
        (heading, _, code, expected), = [b for b in blocks(text)
                                         if b[0] == "Complete Working Example"]
        self.assertIsNotNone(expected)
        script = os.path.join(support._tmp, f"tutorial-{self.kind}.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(change_import(code, self.kind))
        r = subprocess.run([sys.executable, script], capture_output=True, text=True,
                           env=env(), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(same_output(expected, r.stdout), r.stdout)
        self.assertEqual(r.stderr, "")

    def test_other_snippets(self):
        ran, fragments, failures = run_snippets(self.kind)
        self.assertEqual(failures, [])
        self.assertEqual([h for h, _ in ran], COMPLETE, fragments)
        self.assertEqual([h for h, shown in ran if shown], WITH_OUTPUT)


class InMemoryTutorialTest(TutorialTest, unittest.TestCase):
    kind = "memory"


class SQLiteTutorialTest(TutorialTest, unittest.TestCase):
    kind = "sqlite"


class PostgreSQLTutorialTest(TutorialTest, unittest.TestCase):
    kind = "postgres"


if __name__ == "__main__":
    unittest.main()
