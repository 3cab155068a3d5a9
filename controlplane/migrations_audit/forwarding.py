"""Routes registered through the project's own helpers.

Projects wrap ``add_url_rule`` (or ``add_api_route``, ``add_resource``...) in helpers such as
``def register_view(bp, routes, view_func, **kw): for r in routes: bp.add_url_rule(r, ...)``
and call them from setup code. Extraction keeps the registration inside the helper as a
template whose arguments name the helper's parameters (``wiring.note_registration``) and
keeps the calls that may reach a helper; here each such call binds its arguments to the
helper's parameters and registers what the template then says, following helpers that call
helpers a few levels deep.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from .facts import CallSite, Lit, RouteCall
from .project import Target

if TYPE_CHECKING:
    from .routes import RouteFinder

MAX_HELPER_DEPTH = 3
MAX_VARIANTS = 2000  # routes a single helper call may expand into (a table of pairs)


def _bind(
    params: list[str], args: list[Lit], kwargs: dict[str, Lit], skip_first: bool
) -> dict[str, Lit]:
    """Parameter name -> the value the call passes; extra keywords under the ``**`` name."""
    plain = [p for p in params if not p.startswith("*")]
    if skip_first and plain:
        plain = plain[1:]
    bound: dict[str, Lit] = dict(zip(plain, args, strict=False))
    star = next((p[1:] for p in params if p.startswith("*") and not p.startswith("**")), "")
    if star:
        bound[star] = list(args[len(plain) :])  # def helper(resource, *urls)
    catch_all = next((p[2:] for p in params if p.startswith("**")), "")
    extra: dict[str, Lit] = {}
    for name, value in kwargs.items():
        if name in plain:
            bound[name] = value
        elif name == "**" and isinstance(value, dict):
            extra.update(value)
        else:
            extra[name] = value
    if catch_all:
        bound[catch_all] = extra
    return bound


class HelperRoutes:
    """Expands calls of route-registering helpers into registrations on a RouteFinder."""

    def __init__(self, finder: RouteFinder) -> None:
        self.finder = finder
        self.project = finder.project
        self._templates: dict[tuple[str, str], list[RouteCall]] | None = None

    def templates(self, module: str, function: str, depth: int) -> list[RouteCall]:
        """The registrations a helper makes with its parameters and, within the depth
        bound, its calls that pass its parameters on (a helper calling a helper)."""
        if self._templates is None:
            index: dict[tuple[str, str], list[RouteCall]] = {}
            for mod, facts in self.project.modules.items():
                for call in facts.route_calls:
                    if call.owner:
                        index.setdefault((mod, call.owner), []).append(call)
            self._templates = index
        found = self._templates.get((module, function), [])
        helper = self.project.function(Target("F", module, function))
        if helper is None or depth + 1 >= MAX_HELPER_DEPTH:
            return found
        # a helper may register some routes itself and pass its parameters on for others
        return found + [
            t
            for t in (_forwarding(c, function, helper.params) for c in helper.calls)
            if t is not None and not any(f.line == t.line for f in found)
        ]

    def expand(self, module: str, call: RouteCall, depth: int = 0) -> None:
        """A call of ``call.receiver`` with the given arguments, made in ``module``."""
        target = self.project.resolve(call.receiver, module)
        if target is None or target.kind != "F" or depth >= MAX_HELPER_DEPTH:
            return
        templates = self.templates(target.module, target.name, depth)
        if not templates:
            return
        is_method = bool(self.project.class_of(target.module, target.name))
        args = [_tag(a, module) for a in call.args]
        kwargs = {k: _tag(v, module) for k, v in call.kwargs.items()}
        for template in templates:
            bound = _bind(template.params, args, kwargs, is_method)
            for variant in self.variants(template, bound):
                self.register(target.module, module, template, variant, depth)

    def variants(self, template: RouteCall, bound: dict[str, Lit]) -> list[dict[str, Lit]]:
        """One binding per element of each list a loop in the helper iterates.

        ``each`` names a parameter, or ``param#i`` the i-th item of each element when the
        loop unpacks (``for path, resource in route_tuples``): the items of one element go
        together."""
        looped = {
            v["each"]
            for v in [*template.args, *template.kwargs.values()]
            if isinstance(v, dict) and "each" in v
        }
        if not looped:
            return [bound]
        sources = sorted({name.partition("#")[0] for name in looped})
        choices = []
        for source in sources:
            value = bound.get(source)
            choices.append(value if isinstance(value, list) else [value])
        out = []
        for combo in itertools.islice(itertools.product(*choices), MAX_VARIANTS):
            variant = dict(bound)
            for source, element in zip(sources, combo, strict=True):
                variant[f"each:{source}"] = element
                for name in looped:
                    base, _, index = name.partition("#")
                    if base == source and index:
                        items = element if isinstance(element, list) else []
                        position = int(index)
                        variant[f"each:{name}"] = items[position] if position < len(items) else None
            out.append(variant)
        return out

    def register(
        self,
        helper_module: str,
        caller: str,
        template: RouteCall,
        bound: dict[str, Lit],
        depth: int,
    ) -> None:
        helper = self.project.function(Target("F", helper_module, template.owner))
        defaults = helper.defaults if helper is not None else {}

        def value(raw: Lit) -> Lit:
            if isinstance(raw, dict):
                if "param" in raw:
                    name = raw["param"]
                    if name not in bound and name in defaults:  # pk="id" left as it is
                        return defaults[name][0]
                    return bound.get(name)
                if "format" in raw:
                    return _formatted(raw, [value(p) for p in raw.get("parts", [])])
                if "each" in raw:
                    return bound.get("each:" + raw["each"])
                if "ref" in raw and "in" not in raw:
                    passed = _passed_ref(raw["ref"], bound)
                    return passed if passed is not None else {**raw, "in": helper_module}
            return raw

        args: list[Lit] = []
        for raw in template.args:
            given = value(raw)
            if isinstance(raw, dict) and raw.get("star") and isinstance(given, list):
                args.extend(given)  # self.add_resource(resource, *urls)
            else:
                args.append(given)
        kwargs: dict[str, Lit] = {}
        for name, raw in template.kwargs.items():
            if name == "**":
                extra = value(raw)
                if isinstance(extra, dict):
                    kwargs.update(extra)
            else:
                kwargs[name] = value(raw)
        module, receiver = helper_module, template.receiver
        if template.receiver_param:
            given = bound.get(template.receiver_param)
            if isinstance(given, dict) and given.get("ref"):
                module, receiver = given.get("in", caller), given["ref"]
        if template.kind == "call":
            self.expand(module, RouteCall("call", template.line, receiver, args, kwargs), depth + 1)
        else:
            self.finder.registration(module, template.kind, receiver, args, kwargs, template.prefix)


def _forwarding(call: CallSite, owner: str, params: list[str]) -> RouteCall | None:
    """A call that passes some of its function's parameters on, as a "call" template."""
    if not any(type(value) is str and value[0] == "~" for _, value in call.args):
        return None
    positional: list[Lit] = []
    kwargs: dict[str, Lit] = {}
    for key, value in call.args:
        if type(value) is dict:
            continue  # a dict kept in a container (facts.KEPT_DICT): no argument to forward
        if type(value) is list:
            lit: Lit = value[0]
        elif value[0] == "~":
            lit = {"param": value[1:]}
        else:
            lit = {"ref": value}
        if type(key) is int:
            positional.extend([None] * (key - len(positional)))
            positional.append(lit)
        else:
            kwargs[key] = lit
    return RouteCall("call", call.line, call.name, positional, kwargs, owner=owner, params=params)


def _formatted(raw: dict[str, Lit], parts: list[Lit]) -> Lit:
    """The rule a helper composes once its parameters are known; the template as it was
    when one is not a literal (reported as computed)."""
    template = raw.get("format")
    if not isinstance(template, str) or not all(isinstance(p, str | int) for p in parts):
        return raw
    try:
        return template % tuple(parts)
    except (TypeError, ValueError):
        return raw


def _passed_ref(ref: str, bound: dict[str, Lit]) -> Lit | None:
    """``~view.as_view()`` in a helper, ``view`` a parameter the call gave a reference:
    that reference with the rest (``TaskRunAPI.as_view()``, where the call was written)."""
    if not ref.startswith("~"):
        return None
    name = ref[1:]
    cut = min((i for i in (name.find("."), name.find("(")) if i >= 0), default=len(name))
    given = bound.get(name[:cut])
    if not (isinstance(given, dict) and isinstance(given.get("ref"), str)):
        return None
    return {**given, "ref": given["ref"] + name[cut:]}


def _tag(value: Lit, module: str) -> Lit:
    """Remember where a reference was written, so it is resolved there."""
    if isinstance(value, dict) and "ref" in value and "in" not in value:
        return {**value, "in": module}
    if isinstance(value, list):
        return [_tag(v, module) for v in value]
    return value
