"""Which feature an endpoint belongs to: the package under the feature root, else its own."""

from __future__ import annotations

import fnmatch


def feature_of(relpath: str, feature_root: str = "") -> str:
    """``upload`` for ``app/features/upload/routes.py`` with root ``app/features``.

    Without a configured root, a ``features`` directory anywhere in the path serves as one;
    otherwise the feature is the route module's package (``app.api.v1``), or ``(root)``.
    """
    parts = relpath.split("/")
    dirs = parts[:-1]
    stem = parts[-1].removesuffix(".py")
    if feature_root:
        root = feature_root.strip("/").split("/")
        for start in range(0, len(dirs) - len(root) + 1):
            window = dirs[start : start + len(root)]
            if all(fnmatch.fnmatchcase(p, r) for p, r in zip(window, root, strict=True)):
                rest = [*dirs[start + len(root) :], stem]
                return rest[0] if rest[0] != "__init__" else "(root)"
    if "features" in dirs:
        index = dirs.index("features")
        rest = [*dirs[index + 1 :], stem]
        if rest[0] != "__init__":
            return rest[0]
    return ".".join(dirs) if dirs else "(root)"
