"""Prompt templates as data: one TOML file per task, next to the task definition.

Convention: the template of task ``NAME`` defined in ``<folder>/<file>.toml`` is
``<folder>/prompts/NAME.toml`` (the explainer's ``prompts`` parameter names another file).
A template holds the ALEX label policy (which predicted labels are sent, what a False verdict
changes the label to), the system and user messages and the few-shot examples; the predicted
label and the task's extra inputs (e.g. Task 2's ``therapy``) are inserted into the messages.
On a multi-label task a template asks about one predicted label of a post at a time (``{label}``;
``{labels}`` is the post's whole predicted set) and a False verdict removes that label: such a
template has no ``flip_to`` or ``relabel_to``. See docs/explainers.md for every field.
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
#: Placeholders a multi-label task's template may use besides: the post's predicted label set.
MULTI_LABEL_FIELDS = frozenset({"labels"})


def readable_labels(labels: Sequence[str]) -> str:
    """A predicted label set as ``{labels}`` shows it: ``side_effects, mandates``."""
    return ", ".join(labels)


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
    #: Multi-label templates: the example post's predicted label set (``label`` is the one asked about).
    labels: tuple[str, ...] = ()


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
    #: The task is multi-label: one question per predicted label, a False verdict removes it.
    multi_label: bool = False

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

    def _fields(self, text: str, label: str, extra: Mapping[str, str],
                labels: Sequence[str] = ()) -> dict[str, str]:
        out = {**extra, "text": text, "label": label, "label_meaning": self.label_meaning.get(label, label)}
        if self.multi_label:
            out["labels"] = readable_labels(labels or (label,))
        return out

    def messages(self, post: Post, label: str, labels: Sequence[str] = ()) -> list[dict[str, str]]:
        """System and user messages for one post and its predicted label (multi-label: the label
        asked about, and ``labels`` the post's predicted set). The templates were parsed when the
        file was read: only plain {name} fields are filled (never str.format)."""
        shots = []
        for ex in self.examples:
            reply: dict[str, Any] = {"verdict": ex.verdict}
            if not self.multi_label:  # a multi-label reply has no label: a False verdict removes the one asked
                reply["label"] = ex.label if ex.verdict else ex.new_label
            reply["reason"] = ex.reason
            answer = json.dumps(reply, ensure_ascii=False)
            shots.append(self._example.fill({**self._fields(ex.text, ex.label, ex.extra, ex.labels),
                                             "answer": answer}))
        fields = {**self._fields(post.text, label, post.extra, labels), "examples": "".join(shots)}
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
    multi = task.multi_label
    if multi:
        for key in ("flip_to", "relabel_to"):
            if key in t.data:
                raise t.error(key, f"task {task.name!r} is multi-label: each predicted label in send is asked "
                              "about on its own and a False verdict removes it from the post's set; remove "
                              f"{key} (it applies to single-label tasks only)")
    flip_to = t.get("flip_to", str, None)
    relabel_to = tuple(t.str_list("relabel_to", []))
    if not multi and (flip_to is None) == (not relabel_to):
        raise t.error("flip_to", "give exactly one of flip_to (the label a False verdict sets) and "
                      "relabel_to (labels the reply may choose from)")
    check_labels("flip_to", [flip_to] if flip_to is not None else [])
    check_labels("relabel_to", relabel_to)
    meaning = t.get("label_meaning", dict, {})
    for key, value in meaning.items():
        if key not in labels or not isinstance(value, str):
            raise t.error(f"label_meaning.{key}", f"keys must be task labels {list(labels)} and values strings")
    allowed = BASE_FIELDS | set(task.extra_keys) | (MULTI_LABEL_FIELDS if multi else set())
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
        ex_labels: tuple[str, ...] = ()
        if multi:  # the example post's predicted set; a False verdict removes 'label', so no new_label
            ex_labels = tuple(et.str_list("labels", [ex_label]))
            check_labels(f"examples[{i}].labels", ex_labels)
            if ex_label not in ex_labels:
                raise et.error("labels", f"must hold the example's label {ex_label!r} (the one asked about)")
            ex_labels = tuple(label for label in labels if label in ex_labels)
            new_label = ex_label
        else:
            new_label = et.get("new_label", str, flip_to if flip_to is not None else ex_label)
            check_labels(f"examples[{i}].new_label", [new_label])
        extra = {k: et.get(k, str) for k in task.extra_keys}
        known = {"text", "label", "verdict", "reason", *task.extra_keys, *(("labels",) if multi else ("new_label",))}
        if multi and "new_label" in item:
            raise et.error("new_label", "a multi-label example has no new_label: a False verdict removes its label")
        unknown_keys = set(item) - known
        if unknown_keys:
            raise et.error(sorted(unknown_keys)[0], "unknown field")
        examples.append(Example(et.get("text", str), ex_label, verdict, et.get("reason", str), new_label, extra,
                                ex_labels))
    if examples and not example:
        raise t.error("example", "is required when examples are given (how one example is written)")
    return PromptTemplate(path.resolve(), hashlib.sha256(raw).hexdigest(), str(t.get("version", (str, int), "1")),
                          send, flip_to, relabel_to, system, user, example, dict(meaning), tuple(examples), labels,
                          parsed["system"], parsed["user"], parsed["example"], multi)


def messages_hash(messages: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(messages), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def resolve_template(task: TaskSpec, prompts: str = "") -> PromptTemplate:
    """The template an explainer uses on ``task``: the file given (``prompts``; a relative path
    is tried as given, then relative to the task's folder), else ``<task folder>/prompts/<task>.toml``."""
    path = Path(prompts).expanduser() if prompts else template_path(task)
    if prompts and not path.is_absolute() and not path.exists():
        path = task.path.parent / path  # relative to the task folder
    return load_template(path, task)


def template_fingerprint(template: PromptTemplate, task: TaskSpec) -> dict[str, Any]:
    """The template's content hash for a run's spec: editing the template makes a new run. A
    template inside the task's folder is named relative to it, so the run id does not depend on
    where the project is checked out (the same run is reused from another clone)."""
    folder = task.path.parent.resolve()
    path = template.path.resolve()
    shown = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(template.path)
    return {"prompt_template": shown, "prompt_template_sha256": template.sha256}


def send_policy(template: PromptTemplate, task: TaskSpec, send_labels: str, who: str) -> frozenset[str]:
    """The predicted labels an explainer checks: ``send_labels`` (comma-separated) or the
    template's ALEX policy; ``who`` names the explainer in the error for an unknown label."""
    if not send_labels.strip():
        return frozenset(template.send)
    labels = [s.strip() for s in send_labels.split(",") if s.strip()]
    unknown = [s for s in labels if s not in task.labels]
    if unknown:
        from alexbench.errors import PluginError

        raise PluginError(f"explainer {who}: send_labels {unknown} are not labels of task {task.name!r} "
                          f"{list(task.labels)}")
    return frozenset(labels)
