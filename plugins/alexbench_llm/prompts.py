"""Prompt templates as data: one TOML file per task, next to the task definition.

Convention: the template of task ``NAME`` defined in ``<folder>/<file>.toml`` is
``<folder>/prompts/NAME.toml`` (the explainer's ``prompts`` parameter names another file).
A template holds the ALEX label policy (which predicted labels are sent, what a False verdict
changes the label to), the system and user messages and the few-shot examples; the predicted
label and the task's extra inputs (e.g. Task 2's ``therapy``) are inserted into the messages.
See docs/explainers.md for every field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config import placeholders
from alexbench.config.tasks import TaskSpec
from alexbench.config.tomlfile import Table, read_toml
from alexbench.errors import TaskFileError
from alexbench.interfaces import Post

#: Placeholders every template may use; the task's extra input keys are allowed as well.
BASE_FIELDS = frozenset({"text", "label", "label_meaning"})


def template_path(task: TaskSpec) -> Path:
    """Where the template of ``task`` lives by convention."""
    return task.path.parent / "prompts" / f"{task.name}.toml"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    verdict: bool
    reason: str
    new_label: str
    extra: Mapping[str, str]


@dataclass(frozen=True)
class PromptTemplate:
    path: Path
    sha256: str
    version: str
    send: tuple[str, ...]
    flip_to: str | None
    relabel_to: tuple[str, ...]
    system: str
    user: str
    example: str
    label_meaning: Mapping[str, str]
    examples: tuple[Example, ...]
    labels: tuple[str, ...]
    _system: placeholders.Template = field(repr=False, compare=False)
    _user: placeholders.Template = field(repr=False, compare=False)
    _example: placeholders.Template = field(repr=False, compare=False)

    def new_label_for_false(self, old: str, reply_label: str | None) -> tuple[str | None, str]:
        """The label a False verdict gives, or (None, why) when the reply does not name a valid one."""
        if self.flip_to is not None:
            if self.flip_to != old:
                return self.flip_to, ""
            others = [label for label in self.labels if label != old]  # a binary task sent its flip_to label
            if len(others) == 1:
                return others[0], ""
            return None, f"flip_to {self.flip_to!r} is the predicted label itself"
        choices = [label for label in self.relabel_to if label != old]
        if reply_label in choices:
            return reply_label, ""
        return None, f"a False verdict needs a label in {choices}, the reply gave {reply_label!r}"

    def answer_labels(self) -> list[str]:
        """Labels the reply's ``label`` field may take (used for the JSON schema's enum)."""
        return list(self.labels)

    def _fields(self, text: str, label: str, extra: Mapping[str, str]) -> dict[str, str]:
        return {**extra, "text": text, "label": label, "label_meaning": self.label_meaning.get(label, label)}

    def messages(self, post: Post, label: str) -> list[dict[str, str]]:
        """System and user messages for one post and its predicted label. The templates were
        parsed when the file was read: only plain {name} fields are filled (never str.format)."""
        shots = []
        for ex in self.examples:
            answer = json.dumps({"verdict": ex.verdict, "label": ex.label if ex.verdict else ex.new_label,
                                 "reason": ex.reason}, ensure_ascii=False)
            shots.append(self._example.fill({**self._fields(ex.text, ex.label, ex.extra), "answer": answer}))
        fields = {**self._fields(post.text, label, post.extra), "examples": "".join(shots)}
        return [{"role": "system", "content": self._system.fill(fields)},
                {"role": "user", "content": self._user.fill(fields)}]


def load_template(path: Path, task: TaskSpec) -> PromptTemplate:
    """Read and check a template against the task's labels and extra inputs."""
    if not path.is_file():
        raise TaskFileError(path, "", f"no prompt template for task {task.name!r}: write one (see "
                            "docs/explainers.md; start from alexbench_tasks/tasks/demo/prompts/demo.toml) or set the "
                            "explainer parameter prompts = \"path/to/template.toml\"")
    raw = path.read_bytes()
    root = Table(path, read_toml(path))
    root.reject_unknown({"prompt"})
    t = root.table("prompt", required=True)
    t.reject_unknown({"version", "send", "flip_to", "relabel_to", "system", "user", "example",
                      "label_meaning", "examples"})
    labels = tuple(task.labels)

    def check_labels(key: str, values: Sequence[str]) -> None:
        for value in values:
            if value not in labels:
                raise t.error(key, f"{value!r} is not one of the task's labels {list(labels)}")

    send = tuple(t.str_list("send"))
    check_labels("send", send)
    flip_to = t.get("flip_to", str, None)
    relabel_to = tuple(t.str_list("relabel_to", []))
    if (flip_to is None) == (not relabel_to):
        raise t.error("flip_to", "give exactly one of flip_to (the label a False verdict sets) and "
                      "relabel_to (labels the reply may choose from)")
    check_labels("flip_to", [flip_to] if flip_to is not None else [])
    check_labels("relabel_to", relabel_to)
    meaning = t.get("label_meaning", dict, {})
    for key, value in meaning.items():
        if key not in labels or not isinstance(value, str):
            raise t.error(f"label_meaning.{key}", f"keys must be task labels {list(labels)} and values strings")
    allowed = BASE_FIELDS | set(task.extra_keys)
    system, user = t.get("system", str), t.get("user", str)
    example = t.get("example", str, "")
    parsed = {key: placeholders.parse(text, allowed | extra_allowed, path=path, field=t.field(key))
              for key, text, extra_allowed in (("system", system, {"examples"}), ("user", user, {"examples"}),
                                               ("example", example, {"answer"}))}
    examples = []
    for i, item in enumerate(t.get("examples", list, [])):
        if not isinstance(item, dict):
            raise t.error(f"examples[{i}]", "expected a table with text, label, verdict, reason")
        et = Table(path, item, t.field(f"examples[{i}]"))
        ex_label = et.get("label", str)
        check_labels(f"examples[{i}].label", [ex_label])
        verdict = et.get("verdict", bool)
        new_label = et.get("new_label", str, flip_to if flip_to is not None else ex_label)
        check_labels(f"examples[{i}].new_label", [new_label])
        extra = {k: et.get(k, str) for k in task.extra_keys}
        unknown_keys = set(item) - {"text", "label", "verdict", "reason", "new_label", *task.extra_keys}
        if unknown_keys:
            raise et.error(sorted(unknown_keys)[0], "unknown field")
        examples.append(Example(et.get("text", str), ex_label, verdict, et.get("reason", str), new_label, extra))
    if examples and not example:
        raise t.error("example", "is required when examples are given (how one example is written)")
    return PromptTemplate(path.resolve(), hashlib.sha256(raw).hexdigest(), str(t.get("version", (str, int), "1")),
                          send, flip_to, relabel_to, system, user, example, dict(meaning), tuple(examples), labels,
                          parsed["system"], parsed["user"], parsed["example"])


def messages_hash(messages: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(messages), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
