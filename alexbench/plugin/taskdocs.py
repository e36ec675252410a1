"""The table of ``ctx.task``'s attributes in docs/plugins.md, generated from
:class:`~alexbench.config.tasks.TaskSpec` itself so that it cannot go stale.

Names, types and signatures come from the class (its dataclass fields, properties and public
methods); what each one means comes from :data:`MEANINGS`. A new attribute without a meaning
makes :func:`render` raise, and a test fails when the table in docs/plugins.md differs from
:func:`render`: ``python -m alexbench.plugin.taskdocs docs/plugins.md`` rewrites it in place
(between :data:`BEGIN` and :data:`END`).
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from pathlib import Path

from alexbench.config.tasks import TaskSpec

BEGIN = ("<!-- ctx.task attributes: generated from TaskSpec by `python -m alexbench.plugin.taskdocs "
         "docs/plugins.md`; edit alexbench/plugin/taskdocs.py, not this table -->")
END = "<!-- end of ctx.task attributes -->"

#: What each public attribute of ``TaskSpec`` means to a plugin, in the order of the table.
MEANINGS: dict[str, str] = {
    "name": "the task's name (a folder name: letters, digits, `_ - .`)",
    "title": "its one-line title",
    "version": "the task file's version (part of every run's identity)",
    "description": "its description, free text",
    "labels": "the labels, in the task's order: `Prediction.probs[i][j]` is the probability of `labels[j]`",
    "multi_label": "whether a post has a set of labels (`Post.label` a canonical string, see `join_labels`) "
                   "rather than one",
    "empty": "multi-label: the data cell meaning \"none of the labels\" (`None`: every post has at least one; "
             "the canonical string of the empty set is `\"\"` whatever this is)",
    "separator": "multi-label: how the task's data files join a set's labels in one cell (plugins never see it: "
                 "`Post.label` uses `|`)",
    "positive": "the positive label of a binary task (the one `f1_positive` scores), or `None`",
    "label_set": "a post's or prediction's labels as a tuple, in the task's order: the labels of a multi-label "
                 "canonical string, the one label otherwise, `()` for `None`",
    "label_space": "the `LabelSpace` (alexbench/config/labels.py): `problem(label)` says why a label is not "
                   "valid, `decide(rows, thresholds)` turns multi-label probability rows into label sets",
    "official_metric": "the name of the metric the task is ranked by",
    "metric_params": "that metric's parameters (e.g. `labels`, `group_by`)",
    "extra_keys": "the keys of the extra input columns each `Post.extra` holds (e.g. `therapy`)",
    "columns": "the data files' column names (`id`, `text`, `label`, `extra`), or `None`",
    "splits": "the splits by name (`train`, `dev`, `test`): file, columns, format, how a carved one is made",
    "path": "the task file (never write to it)",
    "data_dir": "the folder of its data files (never write to them)",
    "split_path": "a split's data file (never write to it); `ValueError` for a carved split",
    "check_data": "raises `DataMissingError` naming every missing data file and how to obtain it",
    "obtain": "how to get the data, as the user is told",
    "submission": "how submissions are written (file, columns, delimiter), or `None`",
    "references": "published results on the task, shown beside its runs",
}


def public_attributes() -> dict[str, str]:
    """Every public attribute of ``TaskSpec`` → how the table writes its type or signature."""
    out = {f.name: f"`{f.type}`" for f in dataclasses.fields(TaskSpec) if not f.name.startswith("_")}
    for name, value in vars(TaskSpec).items():
        if name.startswith("_") or name in out:
            continue
        if isinstance(value, property):
            out[name] = f"`{inspect.signature(value.fget).return_annotation}` (property)"
        elif inspect.isfunction(value):
            signature = inspect.signature(value)
            params = list(signature.parameters.values())[1:]
            out[name] = f"`{name}({', '.join(str(p).replace(chr(39), '') for p in params)}) -> {signature.return_annotation}`"
    return out


def render() -> str:
    """The table, between :data:`BEGIN` and :data:`END`."""
    attributes = public_attributes()
    missing = sorted(set(attributes) - set(MEANINGS))
    gone = sorted(set(MEANINGS) - set(attributes))
    if missing or gone:
        raise ValueError(f"alexbench/plugin/taskdocs.py MEANINGS: say what {missing} mean; "
                         f"remove {gone} (no longer attributes of TaskSpec)")
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [f"| `ctx.task.{name}` | {cell(attributes[name])} | {cell(meaning)} |" for name, meaning in MEANINGS.items()]
    return "\n".join([BEGIN, "", "| attribute | type | what it is |", "|---|---|---|", *rows, "", END])


def replace_in(text: str) -> str:
    """``text`` with its generated table replaced by :func:`render`."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError("the ctx.task table's markers must appear once each")
    head, rest = text.split(BEGIN)
    return head + render() + rest.split(END, 1)[1]


def main(argv: list[str]) -> int:
    if not argv:
        print(render())
        return 0
    path = Path(argv[0])
    path.write_text(replace_in(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
