"""docs/plugins.md gives a plugin author what they need (issue 30, items 1-3): its complete
classifier and explainer examples, as written there, pass the conformance kit; its import block
imports; its table of ``ctx.task`` is generated from ``TaskSpec`` and cannot go stale; and the
probability-row rule is said once, as the host enforces it."""

from __future__ import annotations

import re
import sys
import types

import pytest

from alexbench.config.tasks import TaskSpec
from alexbench.plugin import taskdocs
from alexbench.run.guards import PROB_SUM_TOLERANCE
from alexbench.testing import ClassifierContract, ExplainerContract

from .conftest import REPO

DOC = REPO / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")


def _block(first_line: str) -> str:
    """The ```python block of docs/plugins.md whose first line is ``first_line``."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", TEXT, flags=re.S) if b.startswith(first_line + "\n")]
    assert len(blocks) == 1, f"docs/plugins.md has {len(blocks)} python blocks starting {first_line!r}"
    return blocks[0]


def _module(name: str, first_line: str) -> types.ModuleType:
    """The block run as the module ``name`` (registered, as an installed plugin's would be)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(_block(first_line), f"docs/plugins.md:{name}", "exec"), module.__dict__)
    return module


bayes = _module("alexbench_doc_example_bayes", "# src/alexbench_my_plugin/bayes.py")
cues = _module("alexbench_doc_example_cues", "# src/alexbench_my_plugin/cues.py")


class TestDocClassifier(ClassifierContract):
    component = "word_bayes"
    plugins = (bayes.WordBayes,)
    params = {"alpha": 0.5}


class TestDocExplainerBinary(ExplainerContract):
    component = "cue_backoff"
    plugins = (cues.CueBackoff, bayes.WordBayes)
    classifier = "word_bayes"
    tasks = ("binary",)


class TestDocExplainerMulticlass(ExplainerContract):
    component = "cue_backoff"
    plugins = (cues.CueBackoff, bayes.WordBayes)
    classifier = "word_bayes"
    tasks = ("multiclass",)
    params = {"label": "self", "cues": ["not", "my", "i"]}


def test_the_import_block_imports_what_it_names() -> None:
    imports = re.search(r"```python\n(from alexbench import hookimpl\n.*?)```", TEXT, flags=re.S)
    assert imports, "docs/plugins.md has no block of the imports a component needs"
    namespace: dict[str, object] = {}
    exec(imports.group(1), namespace)
    for name in ("Prediction", "Explanation", "join_labels", "Context", "Post", "ParamError", "hookimpl"):
        assert name in namespace, name


def test_the_docs_say_how_parameters_are_read_and_an_explanation_is_built() -> None:
    assert "`self.params`, a `Params` instance: `self.params.alpha`" in TEXT
    assert "`Explanation(post_id, old_label, new_label, status, verdict=None, reason=\"\", details={})`" in TEXT
    assert "`\"not_sent\"` (it skipped the post: leave `verdict=None` and `new_label=old_label`)" in TEXT


def test_the_ctx_task_table_is_the_one_generated_from_taskspec() -> None:
    table = taskdocs.render()
    assert table in TEXT, "docs/plugins.md's ctx.task table is stale: run python -m alexbench.plugin.taskdocs " \
                          "docs/plugins.md"
    for name in ("multi_label", "empty", "positive", "labels", "label_set", "extra_keys", "split_path"):
        assert f"| `ctx.task.{name}` |" in table
    assert taskdocs.replace_in(TEXT) == TEXT


def test_a_new_taskspec_attribute_without_a_meaning_fails_the_table(monkeypatch) -> None:
    monkeypatch.setattr(TaskSpec, "shiny", property(lambda self: 1), raising=False)
    with pytest.raises(ValueError, match=r"say what \['shiny'\] mean"):
        taskdocs.render()
    monkeypatch.delattr(TaskSpec, "shiny")
    monkeypatch.setitem(taskdocs.MEANINGS, "gone", "an attribute that was removed")
    with pytest.raises(ValueError, match=r"remove \['gone'\]"):
        taskdocs.render()


def test_the_probability_row_rule_is_said_once_and_as_the_host_checks_it() -> None:
    classifiers = (REPO / "docs" / "classifiers.md").read_text(encoding="utf-8")
    assert PROB_SUM_TOLERANCE == 0.001
    rule = re.search(r"#### Probability rows\n\n(.*?)\n\n", TEXT, flags=re.S)
    assert rule, "docs/plugins.md has no 'Probability rows' section"
    said = " ".join(rule.group(1).split())
    assert "On a **single-label** task a row is a distribution: it sums to 1 (within 0.001;" in said
    assert "On a **multi-label** task each number is that label's own probability, independent of the others, " \
           "so a row need not sum to 1" in said
    for doc, text in (("plugins.md", TEXT), ("classifiers.md", classifiers)):
        flat = " ".join(text.split())
        assert "not summing to 1" not in flat, doc  # read as "must not sum to 1"
        for match in re.finditer(r"need not sum to 1", flat):  # only ever about multi-label rows
            assert "label" in flat[max(0, match.start() - 200):match.start()], (doc, flat[match.start() - 200:])
    assert "sums to 1." not in TEXT  # the old rule, without its multi-label exception
    assert 'docs/plugins.md, "Probability rows"' in " ".join(classifiers.split())
