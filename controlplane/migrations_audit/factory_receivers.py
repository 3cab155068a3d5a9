"""Receivers connected by a project's decorator factory (PATTERNS.md item 215).

``def index_receiver(signal, sender): def decorator(func): ... signal.connect(wrapped,
sender=sender) ...`` then ``@index_receiver(post_save, Post)`` on a function: the factory's
``connect`` is made with its own parameters, so what it connects is known only at each
place it decorates. Each such place becomes a receiver of the signal and sender it passes,
as ``@receiver(post_save, sender=Post)`` would be (the factory's wrapper around the
function, a guard on a setting at most, is not followed).
"""

from __future__ import annotations

from .facts import SignalHook
from .project import Project, Target


def factory_hooks(project: Project) -> list[tuple[str, SignalHook]]:
    """(module, hook) for each function decorated by a factory that connects its signal
    parameter, the hook as if the decoration were ``@receiver(signal, sender=...)``."""
    factories: dict[Target, tuple[int, int | None, list[str]]] = {}
    for module, facts in project.modules.items():
        for hook in facts.signals:
            if hook.signal[:1] != "~" or not hook.scope:
                continue
            found = _factory(project, module, hook)
            if found is not None:
                factories[found[0]] = found[1]
    if not factories:
        return []
    out: list[tuple[str, SignalHook]] = []
    for module, facts in project.modules.items():
        for function in facts.functions.values():
            for dec in function.decorators:
                if not dec.name.endswith("()"):
                    continue
                target = project.resolve(dec.base, module)
                if target is None or target not in factories:
                    continue
                signal_at, sender_at, params = factories[target]
                signal = _ref(dec.args, dec.kwargs, signal_at, params)
                sender = _ref(dec.args, dec.kwargs, sender_at, params)
                if signal:
                    qualified = f"{module}.{function.qualname}" if module else function.qualname
                    out.append((module, SignalHook(signal, sender, qualified, dec.line)))
    return out


def _factory(
    project: Project, module: str, hook: SignalHook
) -> tuple[Target, tuple[int, int | None, list[str]]] | None:
    """The function around the connection whose parameters the signal (and the sender)
    are: (its target, (signal's position, sender's position or None, its parameters))."""
    signal = hook.signal[1:]
    sender = hook.sender[1:] if hook.sender[:1] == "~" else ""
    scope = hook.scope
    while scope:
        facts = project.function(Target("F", module, scope))
        if facts is not None and signal in facts.params:
            params = [p for p in facts.params if p[:1] != "*"]
            if signal not in params:
                return None
            sender_at = params.index(sender) if sender in params else None
            return Target("F", module, scope), (params.index(signal), sender_at, params)
        scope = scope.rpartition(".")[0]
    return None


def _ref(args: list, kwargs: dict, position: int | None, params: list[str]) -> str:
    """The name the decoration passes for the factory's parameter at ``position``."""
    if position is None:
        return ""
    value = args[position] if position < len(args) else kwargs.get(params[position])
    ref = value.get("ref") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) else ""
