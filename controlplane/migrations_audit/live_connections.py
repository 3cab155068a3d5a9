"""Which signal connections the web process makes.

A receiver is connected when the code connecting it runs: ``@receiver`` and module-level
``signal.connect(...)`` when their module is imported, a ``connect`` inside a function when
that function is called. A Django management command's module is imported only when that
command runs, a test module only by the test runner: what they connect, and what helpers
that only they call connect, is never connected while a request is served, so it must not
fire for a request's model writes. Everything else counts, as before: module level of an
importable module, ``AppConfig.ready()``, code reached from those or from request handling,
and any function whose callers are not all known (no call in the project, a decorator that
may register it, a call of the same name the analyser cannot resolve).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .facts import CallSite, FunctionFacts, ModuleFacts, SignalHook
from .project import Project, Target

MAX_HOPS = 4  # callers of callers looked at before a connection is taken to count
_TEST_FILES = frozenset({"tests.py", "conftest.py"})  # Django's and pytest's
_TEST_DIRS = frozenset({"tests", "test"})
# Decorators that do not register the function anywhere (the function is called directly)
_PLAIN_DECORATORS = frozenset(
    {"staticmethod", "classmethod", "property", "cached_property", "wraps", "lru_cache", "cache"}
)


def is_command_module(relpath: str) -> bool:
    """A module of a Django management command package (``<app>/management/commands/``)."""
    parts = relpath.split("/")
    return any(parts[i : i + 2] == ["management", "commands"] for i in range(len(parts) - 2))


def is_test_module(relpath: str) -> bool:
    """A test module (``tests.py``, ``test_*.py``, ``*_tests.py``, under ``tests/``)."""
    parts = relpath.split("/")
    name = parts[-1]
    if name in _TEST_FILES or name.startswith("test_") or name.endswith(("_test.py", "_tests.py")):
        return True
    return any(part in _TEST_DIRS for part in parts[:-1])


class LiveConnections:
    """Decides, for each connection the project makes, whether a request can see it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._entry_only: set[str] | None = None
        self._refs: dict[str, list[tuple[str, str, str]]] | None = None
        self._live: set[Target] = set()

    def counts(self, module: str, hook: SignalHook) -> bool:
        """Whether ``hook`` (made in ``module``) is connected in the web process."""
        entry_only = self.entry_only()
        if module in entry_only:
            return False
        if not hook.scope or not entry_only:
            return True  # module level of an importable module, or nothing runs only off-web
        return not self.dead(Target("F", module, hook.scope), 0, set())

    def entry_only(self) -> set[str]:
        """Command and test modules that no other module imports."""
        if self._entry_only is None:
            modules = self.project.modules
            candidates = {
                name
                for name, facts in modules.items()
                if is_command_module(facts.relpath) or is_test_module(facts.relpath)
            }
            imported: set[str] = set()
            if candidates:
                for name, facts in modules.items():
                    if name not in candidates:
                        imported.update(_imported_modules(facts, candidates))
            self._entry_only = candidates - imported
        return self._entry_only

    def dead(self, function: Target, hops: int, seen: set[Target]) -> bool:
        """Whether ``function`` runs only when a command or the tests run: every reference
        to it is in code that does."""
        if function.module in self.entry_only():
            return True
        if function in seen:
            return True  # a cycle adds no caller from outside
        if hops > MAX_HOPS:
            return False
        if function in self._live:
            return False
        seen.add(function)
        found = self._judge(function, hops, seen)
        seen.discard(function)
        if not found:  # "dead" may rest on a cycle cut above; "live" never does
            self._live.add(function)
        return found

    def _judge(self, function: Target, hops: int, seen: set[Target]) -> bool:
        project = self.project
        facts = project.function(function)
        if facts is None or _registered(facts) or function.name.endswith(".ready"):
            return False  # AppConfig.ready(), or called by whatever its decorator tells
        wanted, short = function, facts.name
        owner = project.class_of(function.module, function.name)
        if owner and project.external_bases(function.module, owner):
            return False  # a framework's class: the framework may make it and call it
        if short == "__init__" and owner:
            wanted, short = Target("C", function.module, owner), owner.rsplit(".", 1)[-1]
        elif short.startswith("__"):
            return False  # called by Python itself
        callers = self.references().get(short, [])
        if not callers:
            return False  # what calls it is not known
        for module, qualname, name in callers:
            if module in self.entry_only():
                continue
            cls = project.class_of(module, qualname) if qualname else ""
            found = project.resolve(name, module, cls)
            if found is not None and found != wanted:
                continue  # a call of another function of the same name
            if not qualname:
                return False  # called or passed at module level of an imported module
            if not self.dead(Target("F", module, qualname), hops + 1, seen):
                return False
        return True

    def references(self) -> dict[str, list[tuple[str, str, str]]]:
        """Last name segment -> (module, calling function or "" at module level, rendered
        name) of every call and every function passed as an argument."""
        if self._refs is None:
            index: dict[str, list[tuple[str, str, str]]] = {}
            for module, facts in self.project.modules.items():
                for qualname, function in facts.functions.items():
                    for name in set(_named(function)):
                        index.setdefault(name.rsplit(".", 1)[-1], []).append(
                            (module, qualname, name)
                        )
                for name in facts.top_refs:
                    index.setdefault(name.rsplit(".", 1)[-1], []).append((module, "", name))
            self._refs = index
        return self._refs


def _named(function: FunctionFacts) -> Iterator[str]:
    """Names a function calls, and names it passes to calls (callbacks, thread targets)."""
    raw: list[Any] = function.raw_calls if function._calls is None else function.calls
    for call in raw:
        if isinstance(call, CallSite):
            yield call.name
            yield from call.passed()
            continue
        yield call[0]
        yield from call[8]
        if len(call) > 9:
            for _, value in call[9]:
                if type(value) is str and value[:1] != "~":
                    yield value


def _registered(facts: FunctionFacts) -> bool:
    """A decorator that may register the function as a callback (``@app.before_request``,
    ``@worker_ready.connect``): it may run without any call in the project."""
    return any(d.tail not in _PLAIN_DECORATORS for d in facts.decorators)


def _imported_modules(facts: ModuleFacts, candidates: set[str]) -> Iterator[str]:
    """Candidate modules that ``facts`` imports at module level (or a name from)."""
    for target in facts.imports.values():
        while target:
            if target in candidates:
                yield target
                break
            target = target.rpartition(".")[0]
