"""The senders of signal receivers connected at run time, found from the project's calls.

``post_save.connect(self.handle_save, sender=model)`` names no model: it runs inside a
function that receives the model (``def register(self, model)``), loops over the models it
was given (``def connect_counters(*models)``), or loops over what a registry collected
(``for model in self.models``, filled by ``self.models.append(model)`` in ``register``).
Extraction records such a sender as a reference (``wiring.runtime_sender``); here the
project's calls of that function (and ``@registry.register`` on classes) say which classes
it receives, a few callers deep. A sender nothing passes gives no receiver, never "every
model".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .facts import CallSite
from .project import Project, Target
from .wiring import RUNTIME_ATTR, RUNTIME_PARAM, RUNTIME_SELF

MAX_HOPS = 3  # a parameter handed on by callers that take it as a parameter themselves
_COLLECT = frozenset({"append", "add", "extend", "insert", "appendleft", "setdefault"})
_CLASSES = frozenset({"C"})


class RuntimeSenders:
    """Classes a run-time sender reference stands for."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._by_tail: dict[str, list[tuple[str, str]]] | None = None

    def classes(self, sender: str) -> list[Target]:
        if sender.startswith(RUNTIME_PARAM):
            module, function, param = sender[len(RUNTIME_PARAM) :].rsplit(":", 2)
            return self.passed(Target("F", module, function), param, 0)
        if sender.startswith(RUNTIME_ATTR):
            module, cls, attr = sender[len(RUNTIME_ATTR) :].rsplit(":", 2)
            return self.collected(module, cls, attr)
        if sender.startswith(RUNTIME_SELF):
            module, cls, attr = sender[len(RUNTIME_SELF) :].rsplit(":", 2)
            return self.stored(module, cls, attr)
        return []

    def stored(self, module: str, cls: str, attr: str) -> list[Target]:
        """``self.model = model`` in ``__init__``: the classes its constructions pass."""
        value = self.project.modules[module].classes[cls].attrs.get(attr, "")
        init = Target("F", module, f"{cls}.__init__")
        if value[:1] != "~" or self.project.function(init) is None:
            return []
        return self.passed(init, value[1:], 0)

    def collected(self, module: str, cls: str, attr: str) -> list[Target]:
        """Classes a registry's methods add to ``self.<attr>``/``cls.<attr>`` from their
        parameters (``self.models.append(model)``)."""
        out: list[Target] = []
        functions = self.project.modules[module].functions
        for qualname, facts in functions.items():
            if qualname.rpartition(".")[0] != cls:
                continue
            for call in facts.calls:
                base, _, method = call.name.rpartition(".")
                if method not in _COLLECT or base not in (f"self.{attr}", f"cls.{attr}"):
                    continue
                for key, value in call.args:
                    if key == 0 and type(value) is str and value[:1] == "~":
                        param = value[1:]
                        out.extend(self.passed(Target("F", module, qualname), param, 0))
        return _unique(out)

    def passed(
        self, function: Target, param: str, hops: int, kinds: frozenset[str] = _CLASSES
    ) -> list[Target]:
        """Project classes (or other ``kinds`` of targets) the project's calls of
        ``function`` pass as ``param``."""
        project = self.project
        facts = project.function(function)
        if facts is None or hops > MAX_HOPS:
            return []
        starred = f"*{param}" in facts.params
        owner = project.class_of(function.module, function.name)
        positional = [p for p in facts.params if not p.startswith("**")]
        if owner and positional and not any(d.tail == "staticmethod" for d in facts.decorators):
            positional = positional[1:]  # self / cls is not passed at the call
        names = [p.lstrip("*") for p in positional]
        index = names.index(param) if param in names else -1
        out: list[Target] = []
        short = function.name.rsplit(".", 1)[-1]
        wanted = function
        if short == "__init__":  # Registry(model=Order) constructs: calls of the class
            wanted = Target("C", function.module, owner)
            short = owner.rsplit(".", 1)[-1]
        for module, qualname, cls, call in self.calls_of(wanted, short):
            for key, value in call.args:
                given = key == param or (
                    type(key) is int and index >= 0 and (key == index or (starred and key > index))
                )
                if given and type(value) is str:
                    out.extend(self.given(value, module, qualname, cls, hops, kinds))
        for module, args, kwargs in self.top_calls_of(wanted, short):
            given_lits = [kwargs.get(param)]
            if index >= 0:
                given_lits += args[index:] if starred else args[index : index + 1]
            for lit in given_lits:
                ref = lit.get("ref", "") if isinstance(lit, dict) else ""
                found = project.resolve(ref, module) if ref else None
                if found is not None and found.kind in kinds:
                    out.append(found)
        if index == 0 and "C" in kinds:
            out.extend(self.decorated(function, short))
        return _unique(out)

    def top_calls_of(
        self, wanted: Target, short: str
    ) -> Iterator[tuple[str, list[Any], dict[str, Any]]]:
        """Module-level statements calling ``wanted``: ``post_save_connect("file",
        Phase)`` run when the module is imported (PATTERNS.md item 168)."""
        project = self.project
        for module, facts in project.modules.items():
            for name, args, kwargs in facts.top_calls:
                if name.rsplit(".", 1)[-1] == short and project.resolve(name, module) == wanted:
                    yield module, args, kwargs

    def calls_of(self, wanted: Target, short: str) -> Iterator[tuple[str, str, str, CallSite]]:
        """Each call in the project's functions that resolves to ``wanted`` (named ``short``
        where it is called): the caller's module, qualname and class, and the call."""
        project = self.project
        for module, qualname in self.callers(short):
            caller = project.modules[module].functions[qualname]
            cls = project.class_of(module, qualname)
            for call in caller.calls:
                if call.name.rsplit(".", 1)[-1] != short:
                    continue
                if project.resolve(call.name, module, cls) == wanted:
                    yield module, qualname, cls, call

    def given(
        self, value: str, module: str, qualname: str, cls: str, hops: int, kinds: frozenset[str]
    ) -> list[Target]:
        """What one argument is: a project class, or the caller's own parameter."""
        if value[:1] == "~":
            caller = Target("F", module, qualname)
            return self.passed(caller, value[1:], hops + 1, kinds)
        found = self.project.resolve(value, module, cls)
        return [found] if found is not None and found.kind in kinds else []

    def decorated(self, function: Target, short: str) -> list[Target]:
        """Classes decorated with the function itself (``@registry.register``)."""
        out = []
        for module, facts in self.project.modules.items():
            for qualname, klass in facts.classes.items():
                for decorator in klass.decorators:
                    if decorator.name.endswith("()") or decorator.tail != short:
                        continue
                    if self.project.resolve(decorator.name, module) == function:
                        out.append(Target("C", module, qualname))
        return out

    def callers(self, short: str) -> list[tuple[str, str]]:
        """Functions with a call whose last name segment is ``short``."""
        if self._by_tail is None:
            index: dict[str, list[tuple[str, str]]] = {}
            for module, facts in self.project.modules.items():
                for qualname, function in facts.functions.items():
                    raw = function.raw_calls if function._calls is None else function.calls
                    names = {c[0] if type(c) is list else c.name for c in raw}
                    for tail in {name.rsplit(".", 1)[-1] for name in names}:
                        index.setdefault(tail, []).append((module, qualname))
            self._by_tail = index
        return self._by_tail.get(short, [])


def _unique(targets: list[Target]) -> list[Target]:
    return list(dict.fromkeys(targets))
