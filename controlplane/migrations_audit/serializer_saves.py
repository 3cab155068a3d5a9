"""Which hook a DRF serializer's ``save()`` runs: ``update()`` for a serializer made with an
instance, ``create()`` for one made without (``BaseSerializer.save`` tests
``self.instance is not None``). Taking both for every ``save()`` made ``create`` endpoints
offloaded by a dispatch in ``update()`` and the other way round."""

from __future__ import annotations

from .facts import WITH_INSTANCE, WITHOUT_INSTANCE, CallSite

# DRF's create() makes the serializer from the request data alone, update() with the
# object too: perform_create's save() runs create(), perform_update's update()
FRAMEWORK_BOUND = {"perform_create": False, "perform_update": True}


def serializer_hooks(bound: bool | None) -> tuple[str, ...]:
    """The hooks ``save()`` may call; both when it is not known how the serializer was made."""
    if bound is None:
        return ("create", "update")
    return ("update",) if bound else ("create",)


def made_with_instance(save: CallSite, calls: list[CallSite]) -> bool | None:
    """For ``serializer.save()`` rendered ``Maker().save`` (the local is shown by what it was
    assigned), whether every call of ``Maker`` in the function was given an instance (True),
    none was (False); None when they differ, or the calls are not known."""
    base = save.name.rpartition(".")[0]
    if not base.endswith("()"):
        return None
    maker = base[:-2]
    seen = {
        bool(c.flags & WITH_INSTANCE)
        for c in calls
        if c.name == maker and c.flags & (WITH_INSTANCE | WITHOUT_INSTANCE)
    }
    unknown = any(
        c.name == maker and not c.flags & (WITH_INSTANCE | WITHOUT_INSTANCE) for c in calls
    )
    if len(seen) != 1 or unknown:
        return None
    return seen.pop()
