"""The ``llm`` classifier's prompt templates: ``prompts/<task>.classify.toml`` next to the task file.

.. code-block:: toml

    [classify]
    version = "1"
    system = "Decide whether the author reports their own COVID-19 diagnosis."
    user = \"\"\"{examples}Tweet: {text}
    Answer:\"\"\"
    example = \"\"\"Tweet: {text}
    Answer: {answer}

    \"\"\"

    [classify.answers]    # single-label: the word the model answers for each label
    "1" = "yes"
    "0" = "no"

On a multi-label task the model is asked one question per label instead: ``user`` (or
``system``) holds ``{label}`` or ``{label_meaning}`` (``[classify.label_meaning]``), and ``yes`` /
``no`` name the two answers (default ``yes`` and ``no``); a label applies when the answer is yes.
Placeholders: ``{text}``, the task's extra inputs, ``{examples}`` (the few-shot examples, each
written with ``example``, whose ``{answer}`` is the example's answer), and on multi-label tasks
``{label}`` and ``{label_meaning}``. Only plain ``{name}`` fields are filled
(:mod:`alexbench.config.placeholders`). The file's hash is part of every run made with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alexbench.config import placeholders
from alexbench.config.tasks import TaskSpec
from alexbench.config.tomlfile import Table, read_toml
from alexbench.errors import TaskFileError
from alexbench.interfaces import Post

SUFFIX = ".classify.toml"


def classify_template_path(task: TaskSpec) -> Path:
    return task.path.parent / "prompts" / f"{task.name}{SUFFIX}"


@dataclass(frozen=True)
class ClassifyTemplate:
    path: Path
    sha256: str
    version: str
    #: The answer the model writes for each label (single-label), or {"yes": ..., "no": ...}.
    answers: Mapping[str, str]
    label_meaning: Mapping[str, str]
    multi_label: bool
    _system: placeholders.Template = field(repr=False)
    _user: placeholders.Template = field(repr=False)
    _example: placeholders.Template = field(repr=False)

    def answer_of(self, label: str) -> str:
        return self.answers[label]

    def choices(self, labels: Sequence[str]) -> list[str]:
        """The answers scored for one question: per label (single-label), or yes and no."""
        return [self.answers["yes"], self.answers["no"]] if self.multi_label else [self.answers[lab] for lab in labels]

    def _fields(self, post: Post, label: str | None) -> dict[str, str]:
        out = {**post.extra, "text": post.text}
        if self.multi_label and label is not None:
            out.update(label=label, label_meaning=self.label_meaning.get(label, label))
        return out

    def messages(self, post: Post, shots: Sequence[tuple[Post, str]], label: str | None = None) -> list[dict[str, str]]:
        """System and user messages for one post (multi-label: the question about ``label``), with
        ``shots``, each an example post and its answer."""
        written = "".join(self._example.fill({**self._fields(p, label), "answer": answer}) for p, answer in shots)
        fields = {**self._fields(post, label), "examples": written}
        system = self._system.fill(fields)
        return ([{"role": "system", "content": system}] if system else []) + \
            [{"role": "user", "content": self._user.fill(fields)}]


def load_classify_template(path: Path, task: TaskSpec) -> ClassifyTemplate:
    """Read and check a template against the task's labels and extra inputs; a missing file is an
    error naming the file to write."""
    if not path.is_file():
        raise TaskFileError(path, "", f"no classifier prompt template for task {task.name!r}: write one (see "
                            "docs/llm-classifier.md; start from alexbench_tasks/tasks/demo/prompts/demo.classify.toml) "
                            "or set the classifier parameter prompts = \"path/to/template.toml\"")
    raw = path.read_bytes()
    root = Table(path, read_toml(path))
    root.reject_unknown({"classify"})
    t = root.table("classify", required=True)
    t.reject_unknown({"version", "system", "user", "example", "answers", "yes", "no", "label_meaning"})
    labels = list(task.labels)
    multi = task.multi_label
    if multi:
        if "answers" in t.data:
            raise t.error("answers", f"task {task.name!r} is multi-label: it is asked a yes/no question per label; "
                          "give yes and no (the two answers) instead of answers")
        answers = {"yes": t.get("yes", str, "yes"), "no": t.get("no", str, "no")}
    else:
        for key in ("yes", "no"):
            if key in t.data:
                raise t.error(key, f"task {task.name!r} is single-label: give [classify.answers], one answer per label")
        table = t.table("answers", required=True)
        answers = {}
        for label in labels:
            answers[label] = table.get(label, str)
        for key in table.data:
            if key not in labels:
                raise table.error(key, f"is not one of the task's labels {labels}")
    for key, value in answers.items():
        if not value.strip():
            raise t.error(f"answers.{key}" if not multi else key, "an answer must not be empty")
    firsts = [(re.findall(r"\w+", value.lower()) or [value.strip().lower()])[0] for value in answers.values()]
    if len(set(firsts)) != len(firsts):
        raise t.error("answers" if not multi else "yes", f"answers {list(answers.values())} must begin with different "
                      "words (a hosted model is scored on the first word of each)")
    meaning = t.get("label_meaning", dict, {})
    for key, value in meaning.items():
        if key not in labels or not isinstance(value, str):
            raise t.error(f"label_meaning.{key}", f"keys must be task labels {labels} and values strings")
    allowed = {"text", *task.extra_keys} | ({"label", "label_meaning"} if multi else set())
    texts = {"system": t.get("system", str, ""), "user": t.get("user", str), "example": t.get("example", str, "")}
    parsed = {key: placeholders.parse(texts[key], allowed | extra, path=path, field=t.field(key))
              for key, extra in (("system", {"examples"}), ("user", {"examples"}), ("example", {"answer"}))}
    if "text" not in parsed["user"].fields:
        raise t.error("user", "must hold {text}: the post the model answers about")
    if multi and not ({"label", "label_meaning"} & (parsed["user"].fields | parsed["system"].fields)):
        raise t.error("user", "a multi-label template asks about one label at a time: use {label} or {label_meaning}")
    return ClassifyTemplate(path.resolve(), hashlib.sha256(raw).hexdigest(), str(t.get("version", (str, int), "1")),
                            answers, dict(meaning), multi, parsed["system"], parsed["user"], parsed["example"])

