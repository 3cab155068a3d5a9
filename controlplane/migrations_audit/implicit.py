"""Code the frameworks run on the project's behalf, so a trace can follow it: a model
``save()`` runs the model's override and the signal receivers for that model; a DRF or Django
generic view runs ``perform_create``, serializer hooks or ``form_valid`` that the project
overrides even when the handler itself is inherited; a pluggy hook call runs the project's
implementations of that hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .arguments import Ctx, literal, typed
from .cascades import Cascades
from .factory_receivers import factory_hooks
from .facts import CallSite
from .live_connections import LiveConnections
from .m2m_relations import M2MRelations, library_model
from .project import Project, Target
from .registry_items import RegistryItems
from .runtime_senders import RuntimeSenders
from .serializer_saves import serializer_hooks
from .wiring import ORM_EVENT, RUNTIME_ATTR, RUNTIME_ITEM, RUNTIME_PARAM, RUNTIME_SELF

_MODEL_SIGNALS = frozenset({"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"})
SAVE_TAILS = frozenset({"save", "asave"})
# Manager methods that insert a row through ``save()`` (Django's UserManager included).
CREATE_TAILS = frozenset(
    {
        "create",
        "get_or_create",
        "update_or_create",
        "acreate",
        "aget_or_create",
        "aupdate_or_create",
        "create_user",
        "create_superuser",
        "acreate_user",
        "acreate_superuser",
    }
)
_DELETE_TAILS = frozenset({"delete", "adelete"})
USER_SENDER = ("user",)  # a receiver's sender: settings.AUTH_USER_MODEL
# an m2m_changed sender computed at run time (through models found by introspection): any
RUNTIME_ANY = ("runtime",)
EXTERNAL_MODEL = "ext:"  # m2m sender class spelled by a library model's dotted name
_GET_USER_MODEL = "django.contrib.auth.get_user_model()"
_DJANGO_USER_CLASS = "django.contrib.auth.models.User"
_DJANGO_USER = (f"{_DJANGO_USER_CLASS}.", "django.contrib.auth.get_user_model().")
# Related-manager calls of a many-to-many field: each sends m2m_changed
M2M_TAILS = frozenset({"add", "remove", "set", "clear", "aadd", "aremove", "aset", "aclear"})

# a DRF view's response is ``serializer.data``: the serializer's representation
_REPRESENT = "self.get_serializer().to_representation"
# What a framework method that a class inherits (and does not override) goes on to call,
# written as names rendered inside that class. Keyed by framework family, then method.
_DRF = {
    "create": ["self.get_serializer().is_valid", "self.perform_create", _REPRESENT],
    "update": [
        "self.get_object",
        "self.get_serializer().is_valid",
        "self.perform_update",
        _REPRESENT,
    ],
    "partial_update": ["self.update"],  # update(partial=True): a project override runs too
    "destroy": ["self.get_object", "self.perform_destroy"],
    "perform_create": ["self.get_serializer().save"],
    "perform_update": ["self.get_serializer().save"],
    "perform_destroy": ["self.get_object().delete"],
    "list": ["self.get_queryset", "self.filter_queryset", "self.paginate_queryset", _REPRESENT],
    # DRF's get_object (retrieve, update, destroy) filters the view's queryset (item 115)
    "get_object": ["self.get_queryset", "self.filter_queryset"],
    "retrieve": ["self.get_object", _REPRESENT],
    "post": ["self.create"],
    "put": ["self.update"],
    "patch": ["self.partial_update"],
    "delete": ["self.destroy"],
    # djangorestframework-bulk (item 151): a serializer of many rows saved, each row deleted
    "bulk_update": [
        "self.get_queryset",
        "self.filter_queryset",
        "self.get_serializer().is_valid",
        "self.perform_bulk_update",
        _REPRESENT,
    ],
    "partial_bulk_update": ["self.bulk_update"],
    "perform_bulk_update": ["self.perform_update"],
    "bulk_destroy": ["self.get_queryset", "self.filter_queryset", "self.perform_bulk_destroy"],
    "perform_bulk_destroy": ["self.perform_destroy"],
}
# djangorestframework-simplejwt's token views: ``post`` is ``serializer.is_valid()`` (its
# ``validate`` authenticates) and a response of the validated data
SIMPLEJWT_VIEWS = frozenset(
    {
        "TokenViewBase",
        "TokenObtainPairView",
        "TokenRefreshView",
        "TokenVerifyView",
        "TokenBlacklistView",
        "TokenObtainSlidingView",
        "TokenRefreshSlidingView",
    }
)
# DRF's generic views answer GET with ``list`` or ``retrieve`` by the class (an override
# of that action, on a project mixin earlier in the MRO, is what runs)
_DRF_GET = {
    "ListAPIView": "self.list",
    "ListCreateAPIView": "self.list",
    "RetrieveAPIView": "self.retrieve",
    "RetrieveUpdateAPIView": "self.retrieve",
    "RetrieveDestroyAPIView": "self.retrieve",
    "RetrieveUpdateDestroyAPIView": "self.retrieve",
}
_DJANGO = {
    "post": ["self.get_form().is_valid", "self.form_valid"],
    "put": ["self.get_form().is_valid", "self.form_valid"],
    "delete": ["self.get_object().delete"],
    "get": ["self.get_context_data"],
}
# django-formtools' wizards: a step's post renders the next step, the last one
# ``render_done``, which validates every step again and hands the forms to ``done()``
_WIZARD = {"post": ["self.render_done"], "render_done": ["self.done"]}
WIZARDS = frozenset(
    {
        "WizardView",
        "SessionWizardView",
        "CookieWizardView",
        "NamedUrlWizardView",
        "NamedUrlSessionWizardView",
        "NamedUrlCookieWizardView",
    }
)
_VIEW_METHODS = ("dispatch", "setup", "get", "post", "put", "patch", "delete")
# The verbs Django's generic views answer with their own code, by class name: routed, a
# project class deriving from one answers them (routes.py); handed a request through
# ``as_view()(request)``, they run (view_handlers, PATTERNS.md item 191)
DJANGO_GENERIC_VERBS: dict[str, tuple[str, ...]] = {
    "CreateView": ("get", "post"),
    "UpdateView": ("get", "post"),
    "DeleteView": ("get", "post"),
    "FormView": ("get", "post"),
    "ListView": ("get",),
    "DetailView": ("get",),
    "TemplateView": ("get",),
    "RedirectView": ("get",),
    # Django's building blocks, which projects combine into their own generic views
    "ProcessFormView": ("get", "post"),
    "BaseFormView": ("get", "post"),
    "BaseCreateView": ("get", "post"),
    "BaseUpdateView": ("get", "post"),
    "BaseDeleteView": ("get", "post"),
    "DeletionMixin": ("post",),
    "BaseDetailView": ("get",),
    "BaseListView": ("get",),
    "ArchiveIndexView": ("get",),
    "BaseArchiveIndexView": ("get",),
    "YearArchiveView": ("get",),
    "MonthArchiveView": ("get",),
    "WeekArchiveView": ("get",),
    "DayArchiveView": ("get",),
    "TodayArchiveView": ("get",),
    "DateDetailView": ("get",),
}
_DJANGO_FORM_VALID_SAVES = frozenset(
    {"CreateView", "UpdateView", "BaseCreateView", "BaseUpdateView", "ModelFormMixin"}
)
_DJANGO_DELETES = frozenset({"DeleteView", "BaseDeleteView", "DeletionMixin"})


@dataclass(slots=True)
class Write:
    """What a model write runs: the project's code (overrides, serializer or form hooks),
    the signal receivers for the model, and the model; ``direct`` is False when a form or
    serializer saves the instance (so the call's own arguments are not ``save()``'s)."""

    code: list[Target] = field(default_factory=list)
    receivers: list[Target] = field(default_factory=list)
    model: Target | None = None
    direct: bool = True
    selftype: Target | None = None  # the class ``self`` is in the code run (a serializer)


# django-lifecycle's moments a save or a delete runs (a save may create or update)
_LIFECYCLE_MOMENTS = {
    "save": frozenset(
        f"{when}_{what}" for when in ("before", "after") for what in ("save", "create", "update")
    ),
    "delete": frozenset({"before_delete", "after_delete"}),
}
ATTRIBUTE = "attr"  # a receivers-index sender: one attribute of a model (SQLAlchemy)
_ATTRIBUTE_EVENT_KEYS = frozenset({ORM_EVENT + "set"})


def called_method(project: Project, handler: Target | None) -> Target | None:
    """What runs when ``handler`` is called: itself, or the ``__call__`` of an instance's
    class (``post_save.connect(Notifier())``, PATTERNS.md item 97)."""
    if handler is None or handler.kind != "I":
        return handler
    for module, qual in project.mro(handler.module, handler.name):
        if f"{qual}.__call__" in project.modules[module].functions:
            return Target("F", module, f"{qual}.__call__")
    return handler


class Implicit:
    """Implicit calls: model writes, signal receivers, inherited framework view methods."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._receivers: dict[str, list[tuple[tuple[str, ...] | None, Target]]] | None = None
        # receiver -> "post_save receiver (file:line)": where it was connected, for evidence
        self.origins: dict[Target, str] = {}
        # receivers matched on a guess: connected for senders computed at run time
        self.guessed_receivers: set[Target] = set()
        self._hooks: dict[str, list[Target]] | None = None
        self._orm_listeners: bool | None = None
        self._m2m: M2MRelations | None = None
        self._cascades: Cascades | None = None

    # ---- class-based views called from code ---------------------------------------------

    def validation_hooks(self, module: str, cls: str) -> list[str]:
        """``serializer.is_valid()`` runs the serializer's ``to_internal_value``, ``validate``
        and ``validate_<field>`` methods; ``form.is_valid()`` the form's ``clean`` and
        ``clean_<field>``: those the class or its project bases define."""
        prefixes = ("validate", "clean")
        out: list[str] = []
        for mod, qual in self.project.mro(module, cls):
            for qualname in self.project.modules[mod].functions:
                owner, _, method = qualname.rpartition(".")
                if owner != qual or method in out:
                    continue
                if method == "to_internal_value" or any(
                    method == p or method.startswith(p + "_") for p in prefixes
                ):
                    out.append(method)
        return ["self." + method for method in out]

    def method_field_getters(self, module: str, cls: str) -> list[str]:
        """``serializer.data`` runs ``get_<field>`` for each ``SerializerMethodField`` the
        class or its project bases declare (those it defines)."""
        classes = [self.project.modules[m].classes[q] for m, q in self.project.mro(module, cls)]
        defined = {method for klass in classes for method in klass.methods}
        getters = (
            f"get_{name}"
            for klass in classes
            for name, value in klass.attrs.items()
            if value.endswith("SerializerMethodField()")
        )
        return ["self." + getter for getter in dict.fromkeys(getters) if getter in defined]

    def view_handlers(self, view: Target, request_method: str = "") -> list[Target]:
        """``View.as_view()(request, ...)`` runs the class's handler for the request's
        method (and its ``dispatch``/``setup`` overrides): any of those it defines, or only
        ``request_method``'s when the caller set the request's method to it."""
        out: list[Target] = []
        seen: set[str] = set()
        methods: tuple[str, ...] = _VIEW_METHODS
        if request_method:
            methods = tuple(m for m in _VIEW_METHODS if m in ("dispatch", "setup", request_method))
        for mod, qual in self.project.mro(view.module, view.name):
            functions = self.project.modules[mod].functions
            for method in methods:
                if method not in seen and f"{qual}.{method}" in functions:
                    seen.add(method)
                    out.append(Target("F", mod, f"{qual}.{method}"))
        # a verb the class inherits from Django's generic view runs as for a routed class:
        # FormView's post() calls back form_valid(); a wizard's, done() (item 191)
        tails = self.project.base_tails(view.module, view.name)
        inherited = {verb for tail in tails for verb in DJANGO_GENERIC_VERBS.get(tail, ())}
        if tails & WIZARDS:
            inherited.add("post")
        for method in methods:
            if method in inherited and method not in seen:
                out.append(Target("V", view.module, f"{view.name}:{method}"))
        return out

    # ---- plugin hooks ------------------------------------------------------------------

    def hook_implementations(self, name: str) -> list[Target]:
        """``pm.hook.<name>(...)`` (pluggy) runs every project function implementing it."""
        if self._hooks is None:
            self._hooks = self.collect_hooks()
        return self._hooks.get(name, [])

    def collect_hooks(self) -> dict[str, list[Target]]:
        project = self.project
        index: dict[str, list[Target]] = {}
        for module, facts in project.modules.items():
            for function in facts.functions.values():
                if function.is_stub or not function.decorators:
                    continue
                if any(self.is_hookimpl(d.base, module) for d in function.decorators):
                    index.setdefault(function.name, []).append(
                        Target("F", module, function.qualname)
                    )
        return index

    def is_hookimpl(self, decorator: str, module: str) -> bool:
        last = decorator.rsplit(".", 1)[-1].lower()
        if last in ("impl", "hookimpl", "hook_impl"):
            return True
        found = self.project.resolve(decorator, module)
        return found is not None and found.kind == "X" and "HookimplMarker" in found.name

    # ---- model writes and signals ------------------------------------------------------

    def is_write(self, method: str) -> bool:
        return method in SAVE_TAILS or method in CREATE_TAILS or method in _DELETE_TAILS

    def write_targets(self, receiver: Target, tail: str, bound: bool | None = None) -> Write:
        """What a save/create/delete runs: overrides, serializer hooks, signal receivers.

        ``bound`` says whether a serializer being saved was given an instance (DRF's
        ``save()`` runs ``update()`` then, ``create()`` otherwise); None when not known."""
        project = self.project
        if receiver.kind == "Q":
            if tail in CREATE_TAILS:
                return self.model_writes(receiver.module, receiver.name, "save")
            if tail in _DELETE_TAILS:
                return Write(
                    [],
                    self.signal_receivers(receiver.module, receiver.name, "delete"),
                    Target("C", receiver.module, receiver.name),
                )
            return Write()
        if self.is_serializer_super(receiver):
            return self.serializer_super(receiver, tail)
        if receiver.kind == "S" and tail not in CREATE_TAILS:
            # super().save() in a model method: Django's save, with the model's signals
            op = "delete" if tail in _DELETE_TAILS else "save"
            cls = receiver.name.partition("@")[0]
            return Write(
                [],
                self.signal_receivers(receiver.module, cls, op),
                Target("C", receiver.module, cls),
            )
        if receiver.kind not in ("I", "V") or tail in CREATE_TAILS:
            return Write()
        module, cls = receiver.module, receiver.name.partition(":")[0]
        tails = project.base_tails(module, cls)
        op = "delete" if tail in _DELETE_TAILS else "save"
        if op == "save" and any("Serializer" in t or "Form" in t for t in tails):
            hooks = []
            owner = Target("C", module, cls)
            saver = project.class_attr(owner, "save", 0)
            if saver is not None and saver.kind == "F" and any("Serializer" in t for t in tails):
                return Write([saver], [], None, True, owner)  # its save() override first
            for hook in serializer_hooks(bound if "Serializer" in "".join(tails) else None):
                found = project.class_attr(owner, hook, 0)
                if found is not None and found.kind == "F":
                    hooks.append(found)
            model = project.model_of(module, cls)
            if model is not None and not hooks:
                write = self.model_writes(model.module, model.name, "save")
                write.direct = False
                return write
            return Write(hooks, [], None, False, owner)
        if receiver.kind == "V":
            return Write()
        return self.model_writes(module, cls, op)

    def is_serializer_super(self, receiver: Target) -> bool:
        """``super()`` inside a DRF serializer method."""
        if receiver.kind != "S":
            return False
        cls = receiver.name.partition("@")[0]
        return any("Serializer" in t for t in self.project.base_tails(receiver.module, cls))

    def serializer_super(self, receiver: Target, tail: str) -> Write:
        """``super().save()`` in a serializer runs its ``create``/``update`` hooks;
        ``super().create()``/``super().update()`` (DRF's ``ModelSerializer``) saves the
        serializer's model, with that model's signals. The serializer is the class the
        method runs for (``Base@module:Routed``), which may be a subclass."""
        cls, _, actual = receiver.name.partition("@")
        module = receiver.module
        if actual:
            module, _, cls = actual.partition(":")
        owner = Target("C", module, cls)
        if tail in SAVE_TAILS:
            hooks = []
            for hook in ("create", "update"):
                found = self.project.class_attr(owner, hook, 0)
                if found is not None and found.kind == "F":
                    hooks.append(found)
            if hooks:
                return Write(hooks, [], None, False, owner)
        elif tail not in ("create", "update"):
            return Write()
        model = self.project.model_of(module, cls)
        if model is None:
            return Write()
        write = self.model_writes(model.module, model.name, "save")
        write.direct = False
        return write

    def user_write(self, name: str, tail: str) -> list[Target]:
        """Receivers for ``settings.AUTH_USER_MODEL`` when the project keeps Django's own
        ``User`` and writes one (``User.objects.get(pk=1).delete()``)."""
        if self.project.user_model() is not None or not name.startswith(_DJANGO_USER):
            return []
        op = "delete" if tail in _DELETE_TAILS else "save"
        wanted = (f"django:pre_{op}", f"django:post_{op}")
        receivers = self.receivers()
        out = [h for key in wanted for sender, h in receivers.get(key, []) if sender == USER_SENDER]
        if op == "delete":  # the rows keyed to the user go with it
            self.add_cascaded(out, self.cascades().user_deletes())
        return out

    def m2m_write(self, owner: Target | None, manager: str) -> Write:
        """``order.tags.add(tag)`` on a many-to-many manager (either side of the field, or
        of a value whose type is unknown when one relation has that name): the
        ``m2m_changed`` receivers for that relation's through model, or for any sender."""
        spellings = self.m2m().senders(owner, manager)
        if not spellings:
            return Write()
        out = []
        for sender, handler in self.receivers().get("django:m2m_changed", []):
            if sender is None or sender == RUNTIME_ANY:
                matched = True
            elif sender[0] == "m2m":
                matched = any(self.same_through(sender, c, f) for c, f in spellings)
            else:
                matched = False
            if matched and handler not in out:
                out.append(handler)
        model = owner if owner is not None and owner.kind == "I" else spellings[0][0]
        if model.kind == "X":  # a library's model (user.groups): no project class
            return Write([], out, None, False)
        return Write([], out, Target("C", model.module, model.name), False)

    def m2m(self) -> M2MRelations:
        if self._m2m is None:
            self._m2m = M2MRelations(self.project)
        return self._m2m

    def same_through(self, sender: tuple[str, ...], cls: Target, field: str) -> bool:
        """Whether ``sender=<class>.<field>.through`` names the relation spelled
        ``cls.field``: the class or a base of it, by module and name or by name only
        (a model looked up by name)."""
        if sender[2] != field:
            return False
        if cls.kind == "X":  # a relation of Django's own models
            return sender[1] == EXTERNAL_MODEL + cls.name
        lineage = self.project.mro(cls.module, cls.name)
        if sender[1].startswith("*"):
            name = sender[1][1:].lower()
            return any(qual.rsplit(".", 1)[-1].lower() == name for _, qual in lineage)
        return sender[1] in {f"{mod}:{qual}" for mod, qual in lineage}

    def model_writes(self, module: str, cls: str, op: str) -> Write:
        # the instance written is of this model: its save()'s super() follows its MRO
        write = Write(model=Target("C", module, cls), selftype=Target("C", module, cls))
        found = self.project.class_attr(Target("C", module, cls), op, 0)
        if found is not None and found.kind == "F":
            write.code.append(found)
        write.receivers.extend(self.signal_receivers(module, cls, op))
        return write

    def signal_receivers(self, module: str, cls: str, op: str) -> list[Target]:
        """The receivers of a write's signals for the model written; a delete's for the
        rows it deletes with it too (``on_delete=CASCADE``, cascades.py)."""
        out = self.own_receivers(module, cls, op)
        out.extend(h for h in self.lifecycle_hooks(module, cls, op) if h not in out)
        if op == "delete":
            self.add_cascaded(out, self.cascades().deleted_with(module, cls))
        return out

    def lifecycle_hooks(self, module: str, cls: str, op: str) -> list[Target]:
        """django-lifecycle's ``@hook(AFTER_UPDATE)`` methods a save (or a delete) of the
        model runs: its ``LifecycleModelMixin`` calls them from ``save()`` / ``delete()``.
        Their ``when=`` filters are not read: each may run (PATTERNS.md item 145)."""
        project = self.project
        if not any(b.startswith("django_lifecycle") for b in project.external_bases(module, cls)):
            return []
        moments = _LIFECYCLE_MOMENTS.get(op, frozenset())
        out: list[Target] = []
        for mod, qual in project.mro(module, cls):
            facts = project.modules[mod]
            for name in facts.classes[qual].methods:
                function = facts.functions.get(f"{qual}.{name}")
                for dec in function.decorators if function is not None else []:
                    if dec.tail != "hook" or not dec.base.startswith("django_lifecycle"):
                        continue
                    moment = dec.args[0] if dec.args else dec.kwargs.get("hook")
                    if isinstance(moment, dict):
                        moment = moment.get("ref")
                    if isinstance(moment, str) and moment.rsplit(".", 1)[-1].lower() in moments:
                        out.append(Target("F", mod, f"{qual}.{name}"))
                        break
        return out

    def add_cascaded(self, out: list[Target], deleted: list[tuple[str, str]]) -> None:
        """Adds to ``out`` the delete receivers of the models a cascade deletes rows of."""
        for child in deleted:
            out.extend(h for h in self.own_receivers(*child, "delete") if h not in out)

    def cascades(self) -> Cascades:
        if self._cascades is None:
            self._cascades = Cascades(self.project)
        return self._cascades

    def own_receivers(self, module: str, cls: str, op: str) -> list[Target]:
        receivers = self.receivers()
        is_model = any("Model" in t for t in self.project.base_tails(module, cls))
        out: list[Target] = []
        for signal in (f"django:pre_{op}", f"django:post_{op}"):
            out.extend(
                handler
                for sender, handler in receivers.get(signal, [])
                if (is_model if sender is None else self.sent_for(sender, module, cls))
            )
        return out

    def sent_for(self, sender: Any, module: str, cls: str) -> bool:
        """Whether a receiver connected for ``sender`` (an index entry, not None) runs when
        the class ``module:cls`` is the sender, as Django matches them."""
        if sender[0] == "isa":
            lineage = {f"{m}:{q}" for m, q in self.project.mro(module, cls)}
            return bool(lineage.intersection(sender[1:]))
        if sender[0] == "*":  # Django reads model names case-insensitively
            return bool(sender[1].lower() == cls.rsplit(".", 1)[-1].lower())
        if sender == USER_SENDER:
            return self.project.user_model() == Target("C", module, cls)
        return bool(sender == (module, cls))

    def signal_targets(
        self, receiver: str, module: str, sender: Target | None = None
    ) -> list[Target]:
        """The receivers a ``signal.send()`` runs: for a sender class read at the call
        (PATTERNS.md item 201), those connected for it or for every sender; else all."""
        key = self.signal_key(receiver, module)
        entries = self.receivers().get(key, []) if key else []
        if sender is None or sender.kind != "C":
            return [handler for _, handler in entries]
        return [
            handler
            for connected, handler in entries
            if connected is None or self.sent_for(connected, sender.module, sender.name)
        ]

    def orm_event_targets(self, model: Target, events: tuple[str, ...]) -> list[Target]:
        """SQLAlchemy mapper listeners of ``model`` (or of a base it inherits) for these
        events: ``session.add(Order())`` runs ``after_insert`` listeners of Order at flush."""
        lineage = {f"{m}:{q}" for m, q in self.project.mro(model.module, model.name)}
        out: list[Target] = []
        index = self.receivers()
        for event in events:
            for sender, handler in index.get(ORM_EVENT + event, []):
                if sender is not None and f"{sender[0]}:{sender[1]}" in lineage:
                    out.append(handler)
        return out

    def has_orm_listeners(self) -> bool:
        """Whether any SQLAlchemy ``set`` or update listener is connected at all (most
        projects have none: assignments need no lookup then)."""
        if self._orm_listeners is None:
            keys = (ORM_EVENT + "set", ORM_EVENT + "before_update", ORM_EVENT + "after_update")
            self._orm_listeners = any(self.receivers().get(key) for key in keys)
        return self._orm_listeners

    def attribute_event_targets(self, model: Target, attr: str) -> list[Target]:
        """SQLAlchemy ``set`` listeners of ``model.attr`` (or of the attribute on a base):
        assigning it, or passing it to the constructor, runs them."""
        lineage = {f"{m}:{q}" for m, q in self.project.mro(model.module, model.name)}
        return [
            handler
            for sender, handler in self.receivers().get(ORM_EVENT + "set", [])
            if sender is not None
            and sender[0] == ATTRIBUTE
            and sender[1] in lineage
            and sender[2] == attr
        ]

    def signal_key(self, name: str, module: str) -> str:
        if name.startswith(ORM_EVENT):
            return name
        project = self.project
        var = project.var_key(name, module)
        if var is not None:
            return f"p:{var[0]}.{var[1]}"
        resolved = project.resolve(name, module)
        if resolved is not None and resolved.kind == "X":
            tail = resolved.name.rsplit(".", 1)[-1]
            if tail in _MODEL_SIGNALS:
                return "django:" + tail
            if resolved.name.endswith("()"):
                # ``Namespace().signal()``, ``Signal()`` say what made it, not which one it
                # is: the attribute it is reached by tells two of them apart
                return f"x:{resolved.name}#{name.rsplit('.', 1)[-1]}"
            return "x:" + resolved.name
        return ""

    def receivers(self) -> dict[str, list[tuple[tuple[str, ...] | None, Target]]]:
        """Signal receivers in the whole project, by signal."""
        if self._receivers is not None:
            return self._receivers
        project = self.project
        index: dict[str, list[tuple[tuple[str, ...] | None, Target]]] = {}
        runtime = RuntimeSenders(project)
        items = RegistryItems(project, runtime)
        live = LiveConnections(project)
        runtime_notes: dict[Target, str] = {}
        hooks = [
            (module, hook) for module, facts in project.modules.items() for hook in facts.signals
        ]
        for module, hook in hooks + factory_hooks(project):
            facts = project.modules[module]
            key = self.signal_key(hook.signal, module)
            handler = called_method(project, project.resolve(hook.handler, module))
            if not key or handler is None or handler.kind != "F":
                continue
            if not live.counts(module, hook):
                continue  # connected only while a management command or a test runs
            signal = key.rpartition(":")[2].rsplit(".", 1)[-1]
            where = f"{facts.relpath}:{hook.line}"
            self.origins.setdefault(handler, f"{signal} receiver connected at {where}")
            sender: tuple[str, ...] | None = None
            if hook.sender.startswith("str:") and hook.sender.endswith(".through"):
                # sender=Tag.documents.through, Tag looked up by name: matched by name
                model, _, field = hook.sender[4 : -len(".through")].rpartition(".")
                sender = ("m2m", "*" + model.rsplit(".", 1)[-1], field)
            elif hook.sender.startswith("str:"):
                sender = ("*", hook.sender[4:].rsplit(".", 1)[-1])
            elif hook.sender.startswith("isa:"):
                classes = [project.resolve(n, module) for n in hook.sender[4:].split("|")]
                sender = (
                    "isa",
                    *(f"{c.module}:{c.name}" for c in classes if c is not None and c.kind == "C"),
                )
            elif hook.sender.startswith(RUNTIME_ITEM):
                home, call, attr = hook.sender[len(RUNTIME_ITEM) :].rsplit(":", 2)
                for cls in items.classes(home, call, attr):
                    index.setdefault(key, []).append(((cls.module, cls.name), handler))
                for name in items.names(home, call, attr):
                    index.setdefault(key, []).append((("*", name), handler))
                continue
            elif hook.sender.startswith((RUNTIME_PARAM, RUNTIME_ATTR, RUNTIME_SELF)):
                for cls in runtime.classes(hook.sender):
                    index.setdefault(key, []).append(((cls.module, cls.name), handler))
                continue
            elif hook.sender.endswith(".AUTH_USER_MODEL"):
                sender = USER_SENDER  # sender=settings.AUTH_USER_MODEL
            elif hook.sender.endswith(".through"):
                # sender=Order.tags.through: that many-to-many field's changes
                model, _, field = hook.sender[: -len(".through")].rpartition(".")
                found = project.resolve(model, module)
                if found is not None and found.kind == "X" and found.name.startswith("django."):
                    # sender=User.groups.through, Django's own User (PATTERNS.md item 216)
                    sender = ("m2m", EXTERNAL_MODEL + library_model(found.name), field)
                elif found is None or found.kind != "C":
                    continue
                else:
                    sender = ("m2m", f"{found.module}:{found.name}", field)
            elif key in _ATTRIBUTE_EVENT_KEYS and "." in hook.sender:
                # @event.listens_for(Run.status, "set"): the attribute's events
                owner_name, _, attr = hook.sender.rpartition(".")
                owner = project.resolve(owner_name, module)
                if owner is None or owner.kind != "C":
                    continue
                sender = (ATTRIBUTE, f"{owner.module}:{owner.name}", attr)
            elif hook.sender:
                found = project.resolve(hook.sender, module)
                if found is not None and found.kind == "X" and found.name == _GET_USER_MODEL:
                    sender = USER_SENDER  # sender=get_user_model(), or a variable of it
                elif (
                    found is not None
                    and found.kind == "X"
                    and found.name == _DJANGO_USER_CLASS
                    and project.user_model() is None
                ):
                    sender = USER_SENDER  # Django's own User, kept (item 184)
                elif found is not None and found.kind == "C":
                    sender = (found.module, found.name)
                elif signal == "m2m_changed" and computed_sender(hook.sender, found):
                    sender = RUNTIME_ANY
                    runtime_notes.setdefault(
                        handler,
                        f"{signal} receiver connected at {where} for senders computed at run time",
                    )
                else:
                    continue
            index.setdefault(key, []).append((sender, handler))
        # a receiver only ever connected for run-time senders is reached on a guess (one also
        # connected for a named model is taken as certain: its named writes are)
        named = {h for entries in index.values() for s, h in entries if s != RUNTIME_ANY}
        for handler, note in runtime_notes.items():
            if handler not in named:
                self.guessed_receivers.add(handler)
                self.origins[handler] = note
        self._receivers = index
        return index

    def expansions(self, node: Target) -> list[str]:
        cls, _, method = node.name.partition(":")
        tails = self.project.base_tails(node.module, cls)
        if method == "is_valid" and any(("Serializer" in t or "Form" in t) for t in tails):
            return self.validation_hooks(node.module, cls)
        if method == "to_representation" and any("Serializer" in t for t in tails):
            return self.method_field_getters(node.module, cls)
        if tails & SIMPLEJWT_VIEWS:
            # djangorestframework-simplejwt's TokenViewBase.post validates its serializer
            return ["self.get_serializer().is_valid"] if method == "post" else []
        if any(t.endswith(("APIView", "ViewSet", "ModelMixin")) for t in tails):
            if method == "get":
                return _drf_get(tails)
            return _DRF.get(method, [])
        if not any(t.endswith(("View", "Mixin")) for t in tails):
            return []
        if tails & WIZARDS:
            return _WIZARD.get(method, [])
        if method == "get" and "RedirectView" in tails:
            return ["self.get_redirect_url"]  # not a template (PATTERNS.md item 251)
        if method == "form_valid":
            if tails & _DJANGO_DELETES:
                return ["self.get_object().delete"]
            return ["self.get_form().save"] if tails & _DJANGO_FORM_VALID_SAVES else []
        return _DJANGO.get(method, [])


def computed_sender(rendered: str, found: Target | None) -> bool:
    """Whether a signal's sender is a value only the running program knows: a local the
    audit cannot follow (``for through, data in Search.get_through_models().items():
    connect(..., sender=through)``) or a model looked up by a computed name."""
    if rendered.startswith("~"):
        return True
    return found is not None and found.kind == "X" and found.name.endswith(".get_model()")


def _drf_get(tails: frozenset[str]) -> list[str]:
    """What a DRF generic view's inherited ``get`` runs: ``self.list``/``self.retrieve``."""
    return sorted({_DRF_GET[t] for t in tails if t in _DRF_GET})


def signal_context(call: CallSite, tail: str, write: Write, lits: dict[str, Any]) -> Ctx:
    """What Django passes the receivers of a write: the instance, ``created`` and
    ``update_fields`` when the call shows them (``lits``: the caller's known arguments)."""
    out: dict[str, tuple[object, ...]] = {}
    if write.model is not None:
        out["instance"] = typed(Target("I", write.model.module, write.model.name))
        out["sender"] = typed(write.model)
    if tail in CREATE_TAILS:
        if not tail.startswith(("get_or_", "update_or_", "aget_or_", "aupdate_or_")):
            out["created"] = literal(True)
            out["update_fields"] = literal(None)
    elif tail in SAVE_TAILS:
        if not write.direct:
            out["update_fields"] = literal(None)  # a form or serializer saves it whole
            return tuple(sorted(out.items()))
        fields: object = None
        known = True
        for key, value in call.args:
            if key == "update_fields":
                if type(value) is list:
                    fields = value[0]
                elif value[0] == "~" and value[1:] in lits:
                    fields = lits[value[1:]]
                else:
                    known = False
            elif key == "**" or type(key) is int:
                known = False
        if known:
            out["update_fields"] = literal(fields)
            if fields:
                out["created"] = literal(False)  # update_fields forces an UPDATE
        if fetched_row(call.name.rpartition(".")[0]):
            out["created"] = literal(False)  # a row read from the database: an UPDATE
    return tuple(sorted(out.items()))


# what a query hands back as one row that exists (PATTERNS.md item 227)
_FETCHED = (".get()", ".first()", ".last()", ".latest()", ".earliest()", "[]")


def fetched_row(rendered: str) -> bool:
    """Whether ``rendered`` is a row read through a model's manager
    (``Order.objects.get()``, ``get_object_or_404(Order)``, an element of
    ``Order.objects.filter()``): saving it updates, it never creates."""
    return ".objects." in rendered and rendered.endswith(_FETCHED)
