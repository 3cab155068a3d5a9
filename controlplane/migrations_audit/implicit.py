"""Code the frameworks run on the project's behalf, so a trace can follow it: a model
``save()`` runs the model's override and the signal receivers for that model; a DRF or Django
generic view runs ``perform_create``, serializer hooks or ``form_valid`` that the project
overrides even when the handler itself is inherited."""

from __future__ import annotations

from .project import Project, Target

_MODEL_SIGNALS = frozenset({"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"})
_SAVE_TAILS = frozenset({"save", "asave"})
_CREATE_TAILS = frozenset(
    {
        "create",
        "get_or_create",
        "update_or_create",
        "acreate",
        "aget_or_create",
        "aupdate_or_create",
    }
)
_DELETE_TAILS = frozenset({"delete", "adelete"})

# What a framework method that a class inherits (and does not override) goes on to call,
# written as names rendered inside that class. Keyed by framework family, then method.
_DRF = {
    "create": ["self.perform_create"],
    "update": ["self.perform_update"],
    "partial_update": ["self.perform_update"],
    "destroy": ["self.perform_destroy"],
    "perform_create": ["self.get_serializer().save"],
    "perform_update": ["self.get_serializer().save"],
    "perform_destroy": ["self.get_object().delete"],
    "list": ["self.get_queryset"],
    "retrieve": ["self.get_object"],
    "post": ["self.create"],
    "put": ["self.update"],
    "patch": ["self.partial_update"],
    "delete": ["self.destroy"],
}
_DJANGO = {
    "post": ["self.form_valid"],
    "put": ["self.form_valid"],
    "delete": ["self.get_object().delete"],
    "get": ["self.get_context_data"],
}
_DJANGO_FORM_VALID_SAVES = frozenset(
    {"CreateView", "UpdateView", "BaseCreateView", "BaseUpdateView", "ModelFormMixin"}
)
_DJANGO_DELETES = frozenset({"DeleteView", "BaseDeleteView", "DeletionMixin"})


class Implicit:
    """Implicit calls: model writes, signal receivers, inherited framework view methods."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._receivers: dict[str, list[tuple[tuple[str, ...] | None, Target]]] | None = None

    def is_write(self, method: str) -> bool:
        return method in _SAVE_TAILS or method in _CREATE_TAILS or method in _DELETE_TAILS

    # ---- model writes and signals ------------------------------------------------------

    def write_targets(self, receiver: Target, tail: str) -> list[Target]:
        """What a save/create/delete runs: overrides, serializer hooks, signal receivers."""
        project = self.project
        if receiver.kind == "Q":
            if tail in _CREATE_TAILS:
                return self.model_writes(receiver.module, receiver.name, "save")
            if tail in _DELETE_TAILS:
                return self.signal_receivers(receiver.module, receiver.name, "delete")
            return []
        if receiver.kind not in ("I", "V") or tail in _CREATE_TAILS:
            return []
        module, cls = receiver.module, receiver.name.partition(":")[0]
        tails = project.base_tails(module, cls)
        op = "delete" if tail in _DELETE_TAILS else "save"
        if op == "save" and any("Serializer" in t or "Form" in t for t in tails):
            out = []
            owner = Target("C", module, cls)
            for hook in ("create", "update"):
                found = project.class_attr(owner, hook, 0)
                if found is not None and found.kind == "F":
                    out.append(found)
            model = project.model_of(module, cls)
            if model is not None and not out:
                out.extend(self.model_writes(model.module, model.name, "save"))
            return out
        if receiver.kind == "V":
            return []
        return self.model_writes(module, cls, op)

    def model_writes(self, module: str, cls: str, op: str) -> list[Target]:
        out = []
        found = self.project.class_attr(Target("C", module, cls), op, 0)
        if found is not None and found.kind == "F":
            out.append(found)
        out.extend(self.signal_receivers(module, cls, op))
        return out

    def signal_receivers(self, module: str, cls: str, op: str) -> list[Target]:
        receivers = self.receivers()
        is_model = any("Model" in t for t in self.project.base_tails(module, cls))
        out = []
        lineage: set[str] | None = None
        for signal in (f"django:pre_{op}", f"django:post_{op}"):
            for sender, handler in receivers.get(signal, []):
                if sender is None:
                    matched = is_model
                elif sender[0] == "isa":
                    if lineage is None:
                        lineage = {f"{m}:{q}" for m, q in self.project.mro(module, cls)}
                    matched = bool(lineage.intersection(sender[1:]))
                elif sender[0] == "*":
                    matched = sender[1] == cls.rsplit(".", 1)[-1]
                else:
                    matched = sender == (module, cls)
                if matched:
                    out.append(handler)
        return out

    def signal_targets(self, receiver: str, module: str) -> list[Target]:
        key = self.signal_key(receiver, module)
        return [handler for _, handler in self.receivers().get(key, [])] if key else []

    def signal_key(self, name: str, module: str) -> str:
        project = self.project
        var = project.var_key(name, module)
        if var is not None:
            return f"p:{var[0]}.{var[1]}"
        resolved = project.resolve(name, module)
        if resolved is not None and resolved.kind == "X":
            tail = resolved.name.rsplit(".", 1)[-1]
            return "django:" + tail if tail in _MODEL_SIGNALS else "x:" + resolved.name
        return ""

    def receivers(self) -> dict[str, list[tuple[tuple[str, ...] | None, Target]]]:
        """Signal receivers in the whole project, by signal."""
        if self._receivers is not None:
            return self._receivers
        project = self.project
        index: dict[str, list[tuple[tuple[str, ...] | None, Target]]] = {}
        for module, facts in project.modules.items():
            for hook in facts.signals:
                key = self.signal_key(hook.signal, module)
                handler = project.resolve(hook.handler, module)
                if not key or handler is None or handler.kind != "F":
                    continue
                sender: tuple[str, ...] | None = None
                if hook.sender.startswith("str:"):
                    sender = ("*", hook.sender[4:].rsplit(".", 1)[-1])
                elif hook.sender.startswith("isa:"):
                    classes = [project.resolve(n, module) for n in hook.sender[4:].split("|")]
                    sender = (
                        "isa",
                        *(
                            f"{c.module}:{c.name}"
                            for c in classes
                            if c is not None and c.kind == "C"
                        ),
                    )
                elif hook.sender:
                    found = project.resolve(hook.sender, module)
                    if found is None or found.kind != "C":
                        continue
                    sender = (found.module, found.name)
                index.setdefault(key, []).append((sender, handler))
        self._receivers = index
        return index

    def expansions(self, node: Target) -> list[str]:
        cls, _, method = node.name.partition(":")
        tails = self.project.base_tails(node.module, cls)
        if any(t.endswith(("APIView", "ViewSet", "ModelMixin")) for t in tails):
            return _DRF.get(method, [])
        if not any(t.endswith(("View", "Mixin")) for t in tails):
            return []
        if method == "form_valid":
            if tails & _DJANGO_DELETES:
                return ["self.get_object().delete"]
            return ["self.get_form().save"] if tails & _DJANGO_FORM_VALID_SAVES else []
        return _DJANGO.get(method, [])
