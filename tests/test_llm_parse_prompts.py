"""Reading verdicts from replies (structured JSON only) and the per-task prompt templates."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alexbench.config.tasks import load_task
from alexbench.errors import TaskFileError
from alexbench.interfaces import Post

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from alexbench_llm.parse import UnparsableReply, parse_reply  # noqa: E402
from alexbench_llm.prompts import load_template, template_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("reply, verdict, label, reason", [
    ('{"verdict": true, "label": "1", "reason": "own test"}', True, "1", "own test"),
    (' {"verdict": false, "label": "0", "reason": "the sister\'s test"}', False, "0", "the sister's test"),
    ('```json\n{"verdict": false, "label": "0", "reason": "x"}\n```', False, "0", "x"),
    ('Sure! Here is my answer: {"Verdict": "False", "Label": 0, "reason": "news"} Hope it helps.', False, "0", "news"),
    ('{"verdict": "true"}', True, None, ""),
    ('{"reason": "no verdict here"} then {"verdict": true, "label": "1", "reason": "r"}', True, "1", "r"),
    ('{"verdict": true, "reason": "a {brace} inside"}', True, None, "a {brace} inside"),
    ('[{"verdict": false, "label": "0"}]', False, "0", ""),
])
def test_reply_shapes_that_parse(reply, verdict, label, reason) -> None:
    parsed = parse_reply(reply)
    assert (parsed.verdict, parsed.label, parsed.reason) == (verdict, label, reason)


@pytest.mark.parametrize("reply, why", [
    ("", "empty"),
    ("False. The author talks about their sister.", "no JSON object"),
    ("The prediction is false", "no JSON object"),
    ('{"label": "0", "reason": "false"}', "no JSON object with a 'verdict'"),
    ('{"verdict": "maybe", "reason": "unsure"}', "not true or false"),
    ('{"verdict": 0}', "not true or false"),
    ('{"verdict": true, "reason": "cut off', "no JSON object"),
    ('{"verdict": true} {"verdict": false}', "contradicting"),
])
def test_reply_shapes_that_do_not_parse(reply, why) -> None:
    with pytest.raises(UnparsableReply, match=why):
        parse_reply(reply)


@given(st.booleans(), st.sampled_from(["0", "1", "positive", "neutral"]), st.text(max_size=80),
       st.text(max_size=40).filter(lambda s: "{" not in s), st.text(max_size=40).filter(lambda s: "{" not in s))
def test_any_wrapped_json_verdict_parses_back(verdict, label, reason, before, after) -> None:
    reply = before + json.dumps({"verdict": verdict, "label": label, "reason": reason}) + after
    parsed = parse_reply(reply)
    assert (parsed.verdict, parsed.label, parsed.reason) == (verdict, label.strip() or None, reason)


@given(st.text(max_size=200).filter(lambda s: "{" not in s))
def test_text_without_json_never_yields_a_verdict(text) -> None:
    """The original code flipped on "false" anywhere in the reply; here prose never decides."""
    with pytest.raises(UnparsableReply):
        parse_reply(text + " false False FALSE")


# -- templates ------------------------------------------------------------------------------
@pytest.mark.parametrize("task_file, send, flip_to, relabel_to", [
    ("plugins/alexbench_tasks/tasks/demo/task.toml", ("1",), "0", ()),
    ("plugins/alexbench_tasks/tasks/smm4h23/task1.toml", ("1",), "0", ()),
    ("plugins/alexbench_tasks/tasks/smm4h23/task4.toml", ("1",), "0", ()),
    ("plugins/alexbench_tasks/tasks/smm4h23/task2.toml", ("negative",), None, ("positive", "neutral")),
])
def test_alex_label_policy_per_task(task_file, send, flip_to, relabel_to) -> None:
    task = load_task(REPO / task_file)
    tpl = load_template(template_path(task), task)
    assert (tpl.send, tpl.flip_to, tpl.relabel_to) == (send, flip_to, relabel_to)
    assert tpl.examples and all(ex.reason for ex in tpl.examples)
    label = send[0]
    extra = {k: "aspirin" for k in task.extra_keys}
    system, user = tpl.messages(Post("p", "THE POST TEXT", None, extra), label)
    assert system["role"] == "system" and user["role"] == "user"  # no instructions in the assistant role
    assert "JSON" in system["content"] and "uncertain" in system["content"]
    assert user["content"].rstrip().endswith(f"THE POST TEXT\nPredicted label: {label} ({tpl.label_meaning[label]})\nAnswer:")
    if extra:
        assert "Therapy: aspirin\nTweet: THE POST TEXT" in user["content"]


def test_relabel_rules() -> None:
    task2 = load_task(REPO / "plugins/alexbench_tasks/tasks/smm4h23/task2.toml")
    tpl = load_template(template_path(task2), task2)
    assert tpl.new_label_for_false("negative", "positive") == ("positive", "")
    assert tpl.new_label_for_false("negative", "neutral") == ("neutral", "")
    assert tpl.new_label_for_false("negative", "negative")[0] is None
    assert tpl.new_label_for_false("negative", None)[0] is None
    demo = load_task(REPO / "plugins/alexbench_tasks/tasks/demo/task.toml")
    tpl = load_template(template_path(demo), demo)
    assert tpl.new_label_for_false("1", "1") == ("0", "")  # flip_to decides, not the reply
    assert tpl.new_label_for_false("0", None) == ("1", "")  # binary: a sent "0" flips to the other label


def test_template_errors_name_the_file_and_field(tmp_path) -> None:
    task = load_task(REPO / "plugins/alexbench_tasks/tasks/demo/task.toml")
    with pytest.raises(TaskFileError, match="no prompt template for task 'demo'"):
        load_template(tmp_path / "missing.toml", task)
    base = (REPO / "plugins/alexbench_tasks/tasks/demo/prompts/demo.toml").read_text()
    cases = [
        (base.replace('send = ["1"]', 'send = ["yes"]'), "prompt.send: 'yes' is not one of the task's labels"),
        (base.replace("{text}\nPredicted", "{txt}\nPredicted", 1), r"unknown placeholder\(s\) \['txt'\]"),
        (base.replace('flip_to = "0"', 'relabel_to = ["0"]\nflip_to = "0"'), "give exactly one of flip_to"),
        (base.replace('verdict = true', 'verdict = "yes"', 1), "examples\\[1\\].verdict: expected true or false"),
    ]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f"t{i}.toml"
        path.write_text(text)
        with pytest.raises(TaskFileError, match=message):
            load_template(path, task)


CLASSIFY = ".classify.toml"  # the llm classifier's templates (tests/test_rivals.py), not the judge's


def _shipped_templates(classify: bool = False) -> list[tuple[Path, Path]]:
    """(task file, prompt template) for every built-in judge template (or, with ``classify``, llm
    classifier template) in a prompts/ folder next to task files."""
    root = REPO / "plugins" / "alexbench_tasks" / "tasks"
    out = []
    for prompt in sorted(root.glob("**/prompts/*.toml")):
        if prompt.name.endswith(CLASSIFY) != classify:
            continue
        name = prompt.name.removesuffix(CLASSIFY if classify else ".toml")
        task_file = next((f for f in prompt.parent.parent.glob("*.toml")
                          if "[task]" in f.read_text(encoding="utf-8") and load_task(f).name == name), None)
        assert task_file is not None, f"{prompt}: no task named {name!r} next to its prompts/ folder"
        out.append((task_file, prompt))
    return out


@pytest.mark.parametrize("task_file, prompt", _shipped_templates(classify=True), ids=lambda p: p.name)
def test_every_shipped_classifier_template_loads_against_its_task(task_file: Path, prompt: Path) -> None:
    """Each built-in llm-classifier template has an answer for every label (or yes/no per label on a
    multi-label task) and is the one the classifier finds for its task."""
    from alexbench_llm.classify_prompts import classify_template_path, load_classify_template

    task = load_task(task_file)
    template = load_classify_template(prompt, task)
    assert classify_template_path(task) == prompt
    if task.multi_label:
        assert set(template.answers) == {"yes", "no"}
    else:
        assert set(template.answers) == set(task.labels)


@pytest.mark.parametrize("task_file, prompt", _shipped_templates(), ids=lambda p: p.stem)
def test_every_shipped_template_loads_against_its_task(task_file: Path, prompt: Path) -> None:
    """Labels, placeholders and examples of each built-in template agree with its task (the
    template is checked at load; data files are not needed)."""
    task = load_task(task_file)
    template = load_template(prompt, task)
    assert template_path(task) == prompt
    assert set(template.send) <= set(task.labels)
