"""A whole ``Report`` as JSON and back, without loss, for the run cache (``run_cache.py``).

``Report.as_dict()`` is the public document and leaves out what it does not show (features,
suppressed endpoints, file and line totals); this keeps every field of every record, so the
report read back is equal to the one stored. Records are found by their field lists, so a
field added to a record is carried without a change here.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from .report import Endpoint, Evidence, Report, Skipped, Suppressed, Unresolved

_RECORDS: dict[str, type] = {
    cls.__name__: cls for cls in (Report, Endpoint, Evidence, Unresolved, Skipped, Suppressed)
}
_TAG = "@record"


def encode(value: Any) -> Any:
    """Records become objects tagged with their class name; tuples and lists become lists."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {_TAG: type(value).__name__}
        for item in fields(value):
            out[item.name] = encode(getattr(value, item.name))
        return out
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(raw: Any, as_tuple: bool = False) -> Any:
    """The inverse of ``encode``; a field declared as a tuple comes back as one.

    Raises KeyError or TypeError on a document this version did not write."""
    if isinstance(raw, dict):
        if _TAG not in raw:
            return {key: decode(item) for key, item in raw.items()}
        cls = _RECORDS[raw[_TAG]]
        values = {
            item.name: decode(raw[item.name], str(item.type).startswith("tuple"))
            for item in fields(cls)
        }
        return cls(**values)
    if isinstance(raw, list):
        items = [decode(item) for item in raw]
        return tuple(items) if as_tuple else items
    return raw


def report_from_json(raw: Any) -> Report:
    report = decode(raw)
    if not isinstance(report, Report):
        raise TypeError("not a stored report")
    return report
