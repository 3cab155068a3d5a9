"""The senders of receivers connected in a loop over a registry class's instances.

``for item in SearchModel.all(): post_save.connect(h, sender=item.model)``: ``all()`` is a
classmethod returning what the class keeps in a class-level container (``cls._registry``),
so each ``item`` is an instance built somewhere in the project and ``item.model`` is what
those constructors were given: ``SearchModel(model=Tag)`` (a class) or
``SearchModel(app_label="tags", model_name="Tag")`` when ``model`` looks the class up by
``self.model_name`` (``apps.get_model``). ``for proxy in item.proxies: ...sender=proxy``:
the models the class's methods add to ``self.proxies`` from what their callers pass. When
none of this can be read the connection gives no receiver, never "every model".
"""

from __future__ import annotations

from .facts import ARGS_SEEN, KEPT_DICT, CallSite, FunctionFacts, Lit
from .project import Project, Target
from .runtime_senders import RuntimeSenders

_MODEL_NAME = "model_name"  # the keyword (or second argument) of ``apps.get_model``
_COLLECT = frozenset({"append", "add", "extend", "insert"})
_CASE_CHANGES = frozenset({"lower()", "upper()", "casefold()", "strip()"})


class RegistryItems:
    """Classes (and model names) an ``item.<attr>`` or ``item.<attr>[]`` sender stands for."""

    def __init__(self, project: Project, senders: RuntimeSenders) -> None:
        self.project = project
        self.senders = senders

    def classes(self, module: str, call: str, attr: str) -> list[Target]:
        """Project classes the registry's constructions pass as ``attr`` (or its methods
        add to the container ``attr[]``)."""
        init = self._init(module, call)
        if init is None:
            return []
        if attr.endswith("[]"):
            out: list[Target] = []
            for method, param in self._fillers(init, attr[:-2]):
                if param:
                    out.extend(self._classes_passed(method, param))
            return list(dict.fromkeys(out))
        facts = self.project.function(init)
        if facts is None or not any(p.lstrip("*") == attr for p in facts.params):
            return self.senders.stored(init.module, _owner(init), attr)
        return self._classes_passed(init, attr)

    def names(self, module: str, call: str, attr: str) -> list[str]:
        """Model names passed where ``attr`` (or what fills ``attr[]``) looks the model
        up by name."""
        init = self._init(module, call)
        if init is None:
            return []
        if attr.endswith("[]"):
            out: list[str] = []
            fillers = self._fillers(init, attr[:-2], by_name=True)
            for method, param in fillers or self._dict_fillers(init, attr[:-2]):
                out.extend(n for n in self._literals(method, param) if n not in out)
            return out
        param = self._looked_up_by(init, attr)
        return self._literals(init, param) if param else []

    # ---- the registry class ------------------------------------------------------------

    def _init(self, module: str, call: str) -> Target | None:
        """``Registry.__init__`` when ``call`` (``Registry.all()``) is a classmethod of a
        project class returning a class-level container (``cls.<x>``) of that class."""
        ref, _, method = call.removesuffix("()").rpartition(".")
        project = self.project
        found = project.resolve(ref, module) if ref else None
        if found is None or found.kind != "C" or found.module not in project.modules:
            return None
        chain = project.mro(found.module, found.name)
        attrs = {a for mod, qual in chain for a in project.modules[mod].classes[qual].attrs}
        iterated = None
        for mod, qual in chain:
            iterated = project.modules[mod].functions.get(f"{qual}.{method}")
            if iterated is not None:
                break
        if iterated is None or not any(d.tail == "classmethod" for d in iterated.decorators):
            return None
        used = [c.name for c in iterated.calls] + iterated.returns
        if not any(self._on_class(name, attrs, found, mod) for name in used):
            return None
        for mod, qual in chain:
            if f"{qual}.__init__" in project.modules[mod].functions:
                return Target("F", mod, f"{qual}.__init__")
        return None

    def _on_class(self, name: str, attrs: set[str], cls: Target, module: str) -> bool:
        """``cls._registry``, ``cls._registry.values`` or ``Registry._registry[]``: a
        class-level attribute of the registry class."""
        head, _, rest = name.partition(".")
        if head == "cls":
            return rest.split(".", 1)[0].split("[", 1)[0] in attrs
        owner, _, attr = name.split("[", 1)[0].rpartition(".")
        while owner:
            if attr in attrs and self.project.resolve(owner, module) == cls:
                return True
            owner, _, attr = owner.rpartition(".")
        return False

    def _looked_up_by(self, init: Target, attr: str) -> str:
        """The constructor parameter ``attr`` (a property) passes to ``get_model`` as the
        model name through ``self.<x>``; "" when it does not."""
        project = self.project
        stored = project.modules[init.module].classes[_owner(init)].attrs
        if stored.get(attr, "").endswith("get_model()"):  # self.model = apps.get_model(...)
            facts = project.function(init)
            found = _name_param(facts, None) if facts is not None else ""
            if found:
                return found
        for mod, qual in project.mro(init.module, _owner(init)):
            method = project.modules[mod].functions.get(f"{qual}.{attr}")
            if method is None:
                continue
            for call in method.calls:
                if not call.name.endswith("get_model"):
                    continue
                for key, value in call.args:
                    if key not in (_MODEL_NAME, 1) or type(value) is not str:
                        continue
                    if value.startswith("self.") and stored.get(value[5:], "")[:1] == "~":
                        return _without_case_change(stored[value[5:]][1:])
            return ""
        return ""

    def _fillers(
        self, init: Target, container: str, by_name: bool = False, kept: bool = False
    ) -> list[tuple[Target, str]]:
        """Methods of the registry class adding to ``self.<container>``, with the parameter
        whose value they add (``self.proxies.append(model)``), or with ``by_name`` the
        parameter a ``get_model(model_name=...)`` they add is given."""
        project = self.project
        out: list[tuple[Target, str]] = []
        for mod, qual in project.mro(init.module, _owner(init)):
            for qualname, function in project.modules[mod].functions.items():
                if qualname.rpartition(".")[0] != qual:
                    continue
                for index, call in enumerate(function.calls):
                    base, _, verb = call.name.rpartition(".")
                    if verb not in _COLLECT or base != f"self.{container}":
                        continue
                    param = _name_param(function, index) if by_name else _first_param(call.args)
                    if kept:
                        param = "dict" if _kept(call.args) else ""
                    if param:
                        out.append((Target("F", mod, qualname), param))
        return out

    def _dict_fillers(self, init: Target, attr: str) -> list[tuple[Target, str]]:
        """``proxies`` a property turning what ``self._proxies`` keeps into models
        (``apps.get_model(**entry)``): the methods adding dicts to ``self._proxies`` with
        the parameter their ``"model_name"`` key is given."""
        project = self.project
        out: list[tuple[Target, str]] = []
        for mod, qual in project.mro(init.module, _owner(init)):
            prop = project.modules[mod].functions.get(f"{qual}.{attr}")
            if prop is None:
                continue
            if not any(_unpacked_lookup(call) for call in prop.calls):
                return []
            for container in prop.reads:
                for method, _ in self._fillers(init, container, kept=True):
                    facts = project.function(method)
                    param = _kept_name_param(facts, container) if facts is not None else ""
                    if param:
                        out.append((method, param))
            return out
        return []

    # ---- what the project passes -------------------------------------------------------

    def _classes_passed(self, function: Target, param: str) -> list[Target]:
        """Classes the project's calls of ``function`` pass as ``param``, in functions
        (``RuntimeSenders.passed``) or as module-level statements."""
        out = self.senders.passed(function, param, 0)
        for module, value in self._top_level(function, param):
            ref = value.get("ref") if isinstance(value, dict) else None
            found = self.project.resolve(ref, module) if isinstance(ref, str) else None
            if found is not None and found.kind == "C" and found not in out:
                out.append(found)
        return out

    def _literals(self, function: Target, param: str) -> list[str]:
        """String literals the project's calls of ``function`` pass as ``param``."""
        wanted, short, index = self._callee(function, param)
        out: list[str] = []
        for _, _, _, call in self.senders.calls_of(wanted, short):
            for key, value in call.args:
                given = key in (param, index) and type(value) is list
                if given and type(value[0]) is str and value[0] not in out:
                    out.append(value[0])
        for _, value in self._top_level(function, param):
            if isinstance(value, str) and value not in out:
                out.append(value)
        return out

    def _top_level(self, function: Target, param: str) -> list[tuple[str, Lit]]:
        """What module-level calls of ``function`` (``search_tag = SearchModel(...)``,
        ``SearchModel(...)``, ``search_tag.add_proxy(...)``) pass as ``param``."""
        project = self.project
        wanted, _, index = self._callee(function, param)
        out: list[tuple[str, Lit]] = []
        for module, facts in project.modules.items():
            made = [
                [facts.assigns.get(name, "").removesuffix("()"), args, kwargs]
                for name, (args, kwargs) in facts.ctors.items()
            ]
            for name, args, kwargs in made + facts.top_calls:
                if not name or project.resolve(name, module) != wanted:
                    continue
                if param in kwargs:
                    out.append((module, kwargs[param]))
                elif 0 <= index < len(args):
                    out.append((module, args[index]))
        return out

    def _callee(self, function: Target, param: str) -> tuple[Target, str, int]:
        """What a call of ``function`` resolves to (the class, for ``__init__``), the
        last segment of its name, and ``param``'s position after ``self``."""
        facts = self.project.function(function)
        params = facts.params if facts is not None else []
        names = [p for p in params if not p.startswith("*")][1:]
        index = names.index(param) if param in names else -1
        if function.name.endswith(".__init__"):
            cls = _owner(function)
            return Target("C", function.module, cls), cls.rsplit(".", 1)[-1], index
        return function, function.name.rsplit(".", 1)[-1], index


def _without_case_change(param: str) -> str:
    """``model_name`` for ``model_name.lower()`` (also ``upper``, ``casefold``, ``strip``):
    Django reads a model name without case, so these name the same model; any other
    expression is no parameter ("")."""
    name, dot, rest = param.partition(".")
    if not dot:
        return name
    return name if rest in _CASE_CHANGES else ""


def _owner(function: Target) -> str:
    return function.name.rpartition(".")[0]


def _first_param(args: list[list[object]]) -> str:
    """``self.proxies.append(model)``: the parameter added as it came."""
    for key, value in args:
        if key == 0 and type(value) is str and value[:1] == "~":
            return value[1:]
    return ""


def _name_param(function: FunctionFacts, parent: int | None) -> str:
    """``self.proxies.append(apps.get_model(app_label=a, model_name=name))``: ``name``,
    when it is a parameter of ``function`` passed on as it came (from the ``get_model``
    call inside call ``parent``, or any one for None)."""
    for call in function.calls:
        if parent is not None and call.parent != parent:
            continue
        if not call.name.endswith("get_model"):
            continue
        for key, value in call.args:
            if key in (_MODEL_NAME, 1) and type(value) is str and value[:1] == "~":
                return value[1:]
    return ""


def _unpacked_lookup(call: CallSite) -> bool:
    """``apps.get_model(**entry)``: a lookup given no model name it could be read from."""
    if not call.name.endswith("get_model") or call.flags & ARGS_SEEN:
        return False
    return not any(key in (_MODEL_NAME, 1) for key, _ in call.args)


def _kept(args: list[list[object]]) -> dict[str, object]:
    """What ``extract`` read of a dict added to a container (``{"model_name": "~name"}``)."""
    for key, value in args:
        if key == KEPT_DICT and isinstance(value, dict):
            return value
    return {}


def _kept_name_param(function: FunctionFacts, container: str) -> str:
    """The parameter given as ``"model_name"`` in the dict ``function`` adds to
    ``self.<container>`` (case changes allowed, as Django reads the name without case)."""
    for call in function.calls:
        base, _, verb = call.name.rpartition(".")
        if verb not in _COLLECT or base != f"self.{container}":
            continue
        value = _kept(call.args).get(_MODEL_NAME)
        if type(value) is str and value[:1] == "~":
            return _without_case_change(value[1:])
    return ""
