"""A task's labels: single-label (one of ``labels.values`` per post) or multi-label (a set of
them per post, ``labels.multi_label = true``).

A multi-label post's set travels through the host and its plugins as one canonical string
(:func:`join_labels`, also ``alexbench.interfaces.join_labels``: its labels in the task's order joined by ``|``,
``""`` for none), so ``Post.label``, ``Prediction.labels``, stored predictions, paired tests and
majority votes keep their one-string-per-post shape, and single-label tasks, plugins and stored
runs are untouched. The task's own spelling (``labels.separator``, ``labels.empty``) is read and
written here only, at the edges: loading data and writing submissions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alexbench.config.tomlfile import Table

#: How a multi-label task writes a post's label set as one string, in ``Post.label``, in
#: ``Prediction.labels`` and in stored predictions: its labels in the task's label order, joined
#: by this separator; the empty set is ``""``. A task's own file format (its ``labels.separator``
#: and ``labels.empty``) is read and written at the edges only (loading data, submissions), so a
#: canonical string never depends on how one file spells it. Labels of a multi-label task may not
#: contain it (checked when the task is read).
LABEL_SET_SEPARATOR = "|"


def split_labels(label: str | None) -> tuple[str, ...]:
    """The labels of a canonical label-set string (``"efficacy|side_effects"`` → two labels,
    ``""`` or None → none)."""
    return tuple(label.split(LABEL_SET_SEPARATOR)) if label else ()


def join_labels(labels: Iterable[str], order: Sequence[str]) -> str:
    """The canonical string of a label set: ``labels`` (each one of ``order``, the task's labels)
    in ``order``, joined by :data:`LABEL_SET_SEPARATOR`; ``""`` for none."""
    chosen = set(labels)
    unknown = chosen - set(order)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among {list(order)}")
    return LABEL_SET_SEPARATOR.join(label for label in order if label in chosen)


#: A label's decision threshold when none is given (a multi-label classifier's probabilities).
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelSpace:
    values: tuple[str, ...]
    multi_label: bool = False
    separator: str = " "
    empty: str | None = None  # the cell meaning "none of the labels"; None: every post has one

    def label_set(self, label: str | None) -> tuple[str, ...]:
        if label is None:
            return ()
        return split_labels(label) if self.multi_label else (label,)

    def parse(self, cell: str) -> str:
        """A data file's label cell as ``Post.label``; raises ValueError saying what is wrong."""
        if not self.multi_label:
            if cell not in self.values:
                raise ValueError(f"unknown label {cell!r}; expected one of {sorted(self.values)}")
            return cell
        if self.empty is not None and cell == self.empty:
            return ""
        seen: set[str] = set()
        for part in (part.strip() for part in cell.split(self.separator)):
            if not part:
                raise ValueError(f"empty label in {cell!r} (labels are separated by {self.separator!r})")
            if part == self.empty:
                raise ValueError(f"{self.empty!r} (no label) together with labels in {cell!r}")
            if part not in self.values:
                none = f" or {self.empty!r}" if self.empty is not None else ""
                raise ValueError(f"unknown label {part!r} in {cell!r}; expected some of {list(self.values)}{none}")
            if part in seen:
                raise ValueError(f"label {part!r} given twice in {cell!r}")
            seen.add(part)
        return join_labels(seen, self.values)

    def cell(self, label: str) -> str:
        """``Post.label`` (or a prediction) as the task's files write it."""
        if not self.multi_label:
            return label
        labels = split_labels(label)
        if labels:
            return self.separator.join(labels)
        if self.empty is None:
            raise ValueError("an empty label set, but the task has no value for 'none of the labels' (labels.empty)")
        return self.empty

    def problem(self, label: object) -> str | None:
        """Why ``label`` is not a label (single-label) or canonical label set (multi-label) of the
        task; None when it is one."""
        if not self.multi_label:
            return None if label in self.values else f"not one of {list(self.values)}"
        expected = (f"a label set: labels of {list(self.values)} in that order joined by {LABEL_SET_SEPARATOR!r}"
                    + (", or '' for none" if self.empty is not None else " (at least one)"))
        if not isinstance(label, str):
            return f"not a string; expected {expected}"
        parts = split_labels(label)
        if not set(parts) <= set(self.values) or label != join_labels(parts, self.values):
            return f"not {expected}"
        return None if parts or self.empty is not None else f"an empty set; expected {expected}"

    def decide(self, rows: Iterable[Sequence[float]], thresholds: Sequence[float] | None = None) -> list[str]:
        """Multi-label predictions from per-label probabilities (one row per post, in label order):
        every label at or above its threshold (:data:`DEFAULT_THRESHOLD` when none are given); on a
        task without ``empty`` (every post has a label) a post above none gets its most probable one."""
        cut = list(thresholds) if thresholds is not None else [DEFAULT_THRESHOLD] * len(self.values)
        out = []
        for row in rows:
            values = [float(p) for p in row]
            chosen = [label for label, p, t in zip(self.values, values, cut) if p >= t]
            if not chosen and self.empty is None:
                chosen = [self.values[max(range(len(values)), key=values.__getitem__)]]
            out.append(join_labels(chosen, self.values))
        return out

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups :meth:`balance_groups` puts posts in, in order: the labels, then (multi-label
        with ``empty``) the group of posts with none, named by ``empty``."""
        return self.values + ((self.empty,) if self.multi_label and self.empty is not None else ())

    def balance_groups(self, labels: Iterable[str | None]) -> dict[str, str]:
        """How augmenters balance classes: each distinct ``Post.label`` of ``labels`` (a train
        split's) → the group it is counted, grown and cut in. Single-label: the label itself.
        Multi-label: the rarest label the set carries, by how many of ``labels`` carry it (ties:
        the task's label order), so a post is copied for its rarest label (which also adds to the
        counts of its other labels); a set with none is the group named by ``empty`` (``""`` when
        the task has none)."""
        every = ["" if label is None else str(label) for label in labels]
        if not self.multi_label:
            return {label: label for label in every}
        carried = Counter(part for label in every for part in split_labels(label))
        rank = {label: i for i, label in enumerate(self.values)}
        return {label: min(split_labels(label), key=lambda part: (carried[part], rank.get(part, len(rank))))
                if label else (self.empty or "") for label in dict.fromkeys(every)}


def read_labels(table: Table) -> tuple[LabelSpace, str | None]:
    """``[labels]``: the label space and the positive class, each field checked."""
    table.reject_unknown({"values", "positive", "multi_label", "separator", "empty"})
    labels = tuple(table.str_list("values"))
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise table.error("values", f"needs at least two distinct labels, got {list(labels)}")
    positive = table.get("positive", str, None)
    if positive is not None and positive not in labels:
        raise table.error("positive", f"{positive!r} is not one of the labels {list(labels)}")
    if not table.get("multi_label", bool, False):
        for key in ("separator", "empty"):
            if key in table.data:
                raise table.error(key, "applies to multi-label tasks only: add multi_label = true")
        return LabelSpace(labels), positive
    if positive is not None:
        raise table.error("positive", "a multi-label task has no positive class: every label is scored on its own "
                                      "(per-label F1, macro-F1)")
    separator = table.get("separator", str, " ")
    if not separator:
        raise table.error("separator", 'must not be empty: it separates the labels of a cell (e.g. " " or ",")')
    for label in labels:
        if separator in label or LABEL_SET_SEPARATOR in label or label != label.strip():
            raise table.error("values", f"label {label!r} of a multi-label task must not contain the separator "
                                        f"{separator!r}, {LABEL_SET_SEPARATOR!r} or surrounding spaces")
    empty = table.get("empty", str, None)
    if empty is not None:
        if not empty.strip() or empty != empty.strip():
            raise table.error("empty", f'must be a visible value such as "none", got {empty!r} (an empty cell '
                                       "is a missing label)")
        if empty in labels:
            raise table.error("empty", f"{empty!r} is one of the labels: the value meaning 'no label' must differ")
        if separator in empty:
            raise table.error("empty", f"{empty!r} contains the separator {separator!r}")
    return LabelSpace(labels, True, separator, empty), None
