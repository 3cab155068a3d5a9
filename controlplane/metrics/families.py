"""Metric families that keep their rows and write their own exposition lines.

prometheus-client's families build one `Sample` (a tuple with a labels dict) per line, and
its `generate_latest` validates every label name of every line again: about 20 µs a line
here, so a fleet with a few hundred task names (50 lines per name, host and queue) would take
a second per scrape. These keep plain rows (label values, value) and render them in bulk; the
`samples` that `CollectorRegistry.get_sample_value` and `generate_latest` read are built only
when asked for, so both still work on them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import itemgetter

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

LabelValues = tuple[str, ...]


def format_value(value: float) -> str:
    """A sample value as the text format writes it (whole numbers without the '.0' noise)."""
    if isinstance(value, int):
        return str(int(value))
    if value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def escape_label_value(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


class LabelText:
    """`name="a",queue_name="b"` for a label tuple, cached across renderings."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._by_names: dict[tuple[str, ...], dict[LabelValues, str]] = {}
        self.max_entries = max_entries

    def table(self, names: tuple[str, ...]) -> dict[LabelValues, str]:
        """The cache for one set of label names (look values up in it, `text` on a miss)."""
        table = self._by_names.get(names)
        if table is None or len(table) > self.max_entries:  # label churn: start afresh
            table = self._by_names[names] = {}
        return table

    def __call__(self, names: tuple[str, ...], values: LabelValues) -> str:
        cache = self.table(names)
        text = cache.get(values)
        if text is None:
            text = cache[values] = self.text(names, values)
        return text

    @staticmethod
    def text(names: tuple[str, ...], values: LabelValues) -> str:
        return ",".join(
            f'{name}="{escape_label_value(value)}"'
            for name, value in zip(names, values, strict=True)
        )


class RenderCache:
    """What one renderer keeps between scrapes: label texts, and each row's lines.

    A histogram row is 21 lines; most rows of a large fleet do not change between two scrapes,
    so a row equal to the one rendered last time reuses its text. A counter or gauge family
    reuses its whole text while its rows are equal (values of the same types: an int and a
    float that are equal may print differently); else each line is its kept prefix and the
    value.

    Texts are kept encoded: the body is one join of bytes. Joining the text and encoding it
    afterwards allocated two 2 MB buffers a scrape, and freeing both let the C allocator hand
    the memory back each time, so every scrape paid the page faults again (about 2.5 ms here).
    """

    def __init__(self) -> None:
        self.labels = LabelText()
        self.rows: dict[str, dict[LabelValues, tuple[object, bytes]]] = {}
        # per counter or gauge family: each label tuple's line up to its value
        self.prefixes: dict[str, dict[LabelValues, str]] = {}
        # a counter or gauge family whose rows all equal the last ones (values of the same
        # types too): (rows, their value types, text)
        self.families: dict[str, tuple[list[tuple[LabelValues, float]], list[type], bytes]] = {}


def _types(rows: list[tuple[LabelValues, float]]) -> list[type]:
    """Each row's value type, mapped in C (a family of 500 rows is checked every scrape)."""
    return list(map(type, map(_value_of, rows)))


_value_of = itemgetter(1)


class Family(Metric):
    """Base: name, help text, type and label names; rows are added by the subclasses."""

    suffix = ""  # the sample name is name + suffix (counters: "_total")

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        # Metric.__init__ would assign `samples`, which is computed here: set the fields only.
        self.name = name
        self.documentation = documentation
        self.unit = ""
        self.labelnames = tuple(labels)

    @property
    def samples(self) -> list[Sample]:
        return list(self._samples())

    @samples.setter
    def samples(self, value: list[Sample]) -> None:  # Metric's own methods assign it
        raise AttributeError("the samples of a Family are computed from its rows")

    def _samples(self) -> Iterable[Sample]:
        raise NotImplementedError

    def render(self, out: list[bytes], cache: RenderCache) -> None:
        """Append the family's text, UTF-8 encoded, to `out`."""
        raise NotImplementedError

    def _header(self) -> str:
        shown = self.name + self.suffix
        doc = self.documentation.replace("\\", r"\\").replace("\n", r"\n")
        return f"# HELP {shown} {doc}\n# TYPE {shown} {self.type}\n"


class _Simple(Family):
    """A counter or gauge: one value per label tuple."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labels)
        self.rows: list[tuple[LabelValues, float]] = []

    def add(self, values: LabelValues, value: float) -> None:
        self.rows.append((values, value))

    def _samples(self) -> Iterable[Sample]:
        name = self.name + self.suffix
        for values, value in self.rows:
            yield Sample(name, dict(zip(self.labelnames, values, strict=True)), float(value))

    def render(self, out: list[bytes], cache: RenderCache) -> None:
        name = self.name + self.suffix
        rows = self.rows
        kept = cache.families.get(name)
        # the types only once the values are equal (most families that change, change values)
        if kept is not None and kept[0] == rows and kept[1] == _types(rows):
            out.append(kept[2])
            return
        lines: list[str] = [self._header()]
        self._render_rows(lines, cache)
        text = "".join(lines).encode("utf-8", "replace")
        cache.families[name] = (list(rows), _types(rows), text)
        out.append(text)

    def _render_rows(self, out: list[str], cache: RenderCache) -> None:
        """Each row's line from its kept prefix (`name{labels} `) and its value: building the
        short line costs less than looking a kept one up and checking it (half, on 500 rows
        whose values all changed)."""
        name = self.name + self.suffix
        names = self.labelnames
        rows = self.rows
        if not names:
            out.extend(f"{name} {format_value(value)}\n" for _, value in rows)
            return
        prefixes = cache.prefixes.get(name)
        if prefixes is None or len(prefixes) > cache.labels.max_entries:  # label churn
            prefixes = cache.prefixes[name] = {}
        for values, _ in rows:
            if values not in prefixes:
                label = cache.labels(names, values)
                prefixes[values] = f"{name}{{{label}}} "
        out.extend(
            [
                f"{prefixes[values]}{value}\n"
                if value.__class__ is int
                else f"{prefixes[values]}{format_value(value)}\n"
                for values, value in rows
            ]
        )


class CounterFamily(_Simple):
    suffix = "_total"
    type = "counter"

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name.removesuffix("_total"), documentation, labels)


class GaugeFamily(_Simple):
    type = "gauge"


class HistogramFamily(Family):
    """Rows of (label values, cumulative counts per upper bound, sum); the last bound is +Inf."""

    type = "histogram"

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], bounds: Sequence[float]
    ) -> None:
        super().__init__(name, documentation, labels)
        if not bounds or bounds[-1] != math.inf:
            raise ValueError("histogram bounds must end with +Inf")
        self.bounds = tuple(bounds)
        self._le = tuple(floatToGoString(bound) for bound in self.bounds)
        self.rows: list[tuple[LabelValues, Sequence[int], float]] = []

    def add(self, values: LabelValues, cumulative: Sequence[int], total: float) -> None:
        if len(cumulative) != len(self.bounds):
            raise ValueError(f"{self.name}: {len(cumulative)} counts for {len(self.bounds)} bounds")
        self.rows.append((values, cumulative, total))

    def _samples(self) -> Iterable[Sample]:
        for values, cumulative, total in self.rows:
            labels = dict(zip(self.labelnames, values, strict=True))
            for le, count in zip(self._le, cumulative, strict=True):
                yield Sample(self.name + "_bucket", {**labels, "le": le}, float(count))
            yield Sample(self.name + "_count", labels, float(cumulative[-1]))
            yield Sample(self.name + "_sum", labels, float(total))

    def render(self, out: list[bytes], cache: RenderCache) -> None:
        out.append(self._header().encode("utf-8", "replace"))
        names = self.labelnames
        bucket = self.name + "_bucket"
        # One format string per family for all the lines of a row: {0} is the bucket name
        # with the labels up to le=", {1} the labels in braces, then the counts and the sum.
        n = len(self._le)
        lines = "".join(f'{{0}}{le}"}}}} {{{i + 2}}}\n' for i, le in enumerate(self._le))
        template = lines + f"{self.name}_count{{1}} {{{n + 1}}}\n{self.name}_sum{{1}} {{{n + 2}}}\n"
        # each row's text, kept while the row is equal (updated in place: most rows are)
        kept = cache.rows.get(self.name)
        if kept is None:
            kept = cache.rows[self.name] = {}
        rows = self.rows
        for row in rows:
            values, cumulative, total = row
            hit = kept.get(values)
            if hit is not None and (hit[0] is row or hit[0] == row):
                out.append(hit[1])
                continue
            if names:
                label = cache.labels(names, values)
                head, braces = f'{bucket}{{{label},le="', f"{{{label}}}"
            else:
                head, braces = f'{bucket}{{le="', ""
            text = template.format(head, braces, *cumulative, format_value(total)).encode(
                "utf-8", "replace"
            )
            kept[values] = (row, text)
            out.append(text)
        if len(kept) > len(rows):  # rows that went: forget their text
            shown = {row[0] for row in rows}
            for values in [values for values in kept if values not in shown]:
                del kept[values]
