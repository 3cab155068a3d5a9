"""Registries the project never fills: a dispatch of callables taken from one is not shown.

``for func in handlers.get(event, {}).values(): job_queue.enqueue(func.handle_event, data)``
enqueues once per registered handler. When ``handlers`` starts empty and nothing in the
project puts a project function, class or module into it (``register(event, name, handler)``
is only ever called with what a deployer's plugin folder provides), the audit cannot say
whether anything is enqueued: the endpoint is ``unresolved`` with that reason, never
``offloaded`` on a guess (issue 14). A registry the project does fill keeps its dispatch.
"""

from __future__ import annotations

import ast

from .names import Names
from .project import Project, Target
from .runtime_senders import RuntimeSenders
from .wiring import RUNTIME_PARAM

UNFILLED = "unfilled_registry"  # a site kind: a dispatch of what an empty registry holds
_EMPTY_FACTORIES = ("dict()", "list()", "set()", "OrderedDict()", "defaultdict()", "deque()")


def container_of(source: str) -> str:
    """The container a loop iterates: ``app.events.handlers`` for
    ``app.events.handlers.get().values()`` or ``app.events.handlers[]``."""
    kept = []
    for segment in source.split("."):
        if "(" in segment:
            break
        if segment.endswith("[]"):
            kept.append(segment[:-2])
            break
        kept.append(segment)
    return ".".join(kept)


STARTS_EMPTY = ""  # a fill value: the module creates the container empty


def fill_of(names: Names, target: ast.expr, value: ast.expr) -> tuple[str, str] | None:
    """``handlers[event][name] = handler``: (the container, what goes in); a module-level
    ``handlers = {}``: (the container, STARTS_EMPTY); else None."""
    if isinstance(target, ast.Name) and names.scope is None:
        if _empty(value):
            return names.qualified(target.id), STARTS_EMPTY
        return None
    if not isinstance(target, ast.Subscript):
        return None
    root: ast.expr = target
    while isinstance(root, ast.Subscript):
        root = root.value
    if not isinstance(root, ast.Name | ast.Attribute):
        return None
    scope = names.scope
    if isinstance(root, ast.Name) and scope is not None and root.id in scope.param_names:
        return None  # a container the caller passed: no registry of this module
    container = class_container(names, names.render(root))
    if "(" in container or "[" in container:
        return None  # a local built by a call: no registry
    if _empty(value):
        return None  # handlers[event] = {}: a new empty slot, nothing to run
    if not container or container[0] == "~" or container.split(".", 1)[0] in ("self", "cls"):
        return None
    if isinstance(value, ast.Name) and scope is not None:
        param = scope.each.get(value.id, value.id if value.id in scope.param_names else "")
        if param and "#" not in param:
            return container, f"{RUNTIME_PARAM}{names.module}:{scope.owner}:{param}"
    rendered = names.render(value)
    return container, rendered or "~"


def class_container(names: Names, container: str) -> str:
    """``cls._registry`` / ``self._registry`` / ``mcs._registry`` in a method of ``Base``:
    the class-level container ``<module>.Base._registry`` (class_registries.py); any other
    container as rendered."""
    head, _, attr = container.partition(".")
    if not attr or "." in attr:
        return container
    scope = names.scope  # the method itself, or a function nested in it (a decorator)
    while scope is not None:
        owner = scope.owner.rpartition(".")[0]
        if owner in names.facts.classes:
            if scope.params and (head in ("self", "cls") or head.lstrip("~") == scope.params[0]):
                return f"{names.qualified(owner)}.{attr}"
            return container
        scope = scope.parent
    return container


_ADDS = frozenset({"append", "add", "insert", "appendleft", "setdefault", "update", "extend"})


def fill_of_call(names: Names, node: ast.Call) -> tuple[str, str] | None:
    """``HANDLERS.append(handler)`` / ``handlers[event].add(h)`` / ``registry.update(m)``:
    (the container, what goes in: the last positional argument), or None."""
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _ADDS or not node.args:
        return None
    target = ast.Subscript(value=func.value, slice=ast.Constant(0), ctx=ast.Store())
    if isinstance(func.value, ast.Subscript):
        target = func.value
    value = node.args[-1]
    if func.attr in ("update", "extend"):
        value = ast.Name(id="~", ctx=ast.Load())  # many at once: not followed, "filled"
    return fill_of(names, target, value)


def _empty(value: ast.expr) -> bool:
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, ast.List | ast.Set | ast.Tuple):
        return not value.elts
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return f"{name}()" in _EMPTY_FACTORIES
    return False


class Registries:
    """Which module-level containers start empty and are never filled by the project."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._fills: dict[str, list[tuple[str, str]]] | None = None
        self._memo: dict[tuple[str, str], str] = {}

    def unfilled(self, source: str, module: str) -> str:
        """The container's name when the loop ``source`` runs over a module-level container
        that starts empty and nothing in the project fills; "" otherwise."""
        key = (source, module)
        if key not in self._memo:
            self._memo[key] = self._unfilled(container_of(source), module)
        return self._memo[key]

    def _unfilled(self, container: str, module: str) -> str:
        qualified = self.module_var(container, module)
        values = self.fills().get(qualified, []) if qualified else []
        if not any(value == STARTS_EMPTY for _, value in values):
            return ""  # not a module-level container the project creates empty
        for filler, value in values:
            if value != STARTS_EMPTY and self.project_value(value, filler):
                return ""
        return qualified

    def module_var(self, name: str, module: str, depth: int = 0) -> str:
        """``pkg.mod.handlers`` for a module-level variable, through imports; else ""."""
        head, _, symbol = name.rpartition(".")
        facts = self.project.module_for(head, module) if head and depth < 4 else None
        if facts is None:
            return ""
        if symbol in facts.assigns or symbol in facts.lits or symbol in facts.ctors:
            return f"{facts.module}.{symbol}"
        imported = facts.imports.get(symbol)
        return self.module_var(imported, facts.module, depth + 1) if imported else ""

    def project_value(self, value: str, module: str) -> bool:
        """Whether what goes in is (or may be) project code; unknown values count as such."""
        if value.startswith(RUNTIME_PARAM):
            mod, function, param = value[len(RUNTIME_PARAM) :].rsplit(":", 2)
            senders = RuntimeSenders(self.project)
            return bool(senders.passed(Target("F", mod, function), param, 0, _PROJECT_CODE))
        if value.endswith(_EMPTY_FACTORIES):
            return False  # handlers[event] = OrderedDict(): a new empty slot
        if value[:1] == "~" or value.endswith(("()", "[]")):
            return True  # built or looked up at run time: cannot say it is empty
        found = self.project.resolve(value, module)
        return found is None or found.kind in _PROJECT_CODE

    def fills(self) -> dict[str, list[tuple[str, str]]]:
        if self._fills is None:
            index: dict[str, list[tuple[str, str]]] = {}
            for module, facts in self.project.modules.items():
                for container, values in facts.fills.items():
                    qualified = self.module_var(container, module)
                    if not qualified:
                        continue
                    index.setdefault(qualified, []).extend((module, v) for v in values)
            self._fills = index
        return self._fills


_PROJECT_CODE = frozenset({"F", "C", "M", "I"})
