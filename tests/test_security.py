"""Security properties that must hold for every change: pins, safe loaders, no unpickling."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys

import pytest
from alexbench_llm.prompts import load_template, template_path

from alexbench.config.tasks import load_task
from alexbench.errors import TaskFileError
from alexbench.interfaces import Post

from .conftest import REPO, TINY_TASK

SOURCES = [p for folder in ("alexbench", "plugins") for p in (REPO / folder).rglob("*.py")]


def test_litellm_is_pinned_exactly_everywhere() -> None:
    # 1.82.7 and 1.82.8 were compromised releases: the pin must never float.
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.findall(r'"litellm[^"]*"', pyproject) == ['"litellm==1.81.13"']
    constraints = (REPO / "requirements" / "constraints.txt").read_text()
    assert re.findall(r"^litellm\S*", constraints, flags=re.M) == ["litellm==1.81.13"]
    assert importlib.metadata.version("litellm") == "1.81.13"


def test_config_files_are_parsed_with_safe_loaders_only() -> None:
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        if re.search(r"\byaml\.load\(|(?<![.\w])eval\(|(?<![.\w])exec\(|\bmarshal\.loads?\(", text):
            offenders.append(str(path))
    assert not offenders, f"unsafe loaders in {offenders}"


def test_no_unpickling_of_files() -> None:
    offenders = []
    for path in SOURCES:
        for line in path.read_text().splitlines():
            if re.search(r"\bpickle\.loads?\(|\bjoblib\.load\(|\bdill\.loads?\(", line):
                offenders.append(f"{path}: {line.strip()}")
            if "torch.load(" in line and "weights_only=True" not in line:
                offenders.append(f"{path}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# -- user-written text is filled with plain named fields only (issue 15, defect 1) --------------

ENV_LEAK = "{data_dir.__class__.__new__.__globals__[os].environ}"


def test_no_source_formats_text_that_is_not_its_own_literal() -> None:
    """str.format/format_map evaluate attribute and index access in the format string: they may
    only be called on a string literal or a module constant of our own, never on text read from
    a file (task files, prompt templates, study files use alexbench.config.placeholders)."""
    offenders = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name, target = node.func.attr, node.func.value
                own = (isinstance(target, ast.Constant) and isinstance(target.value, str)) or (
                    isinstance(target, ast.Name) and target.id.lstrip("_").isupper())
                if name in ("format", "format_map", "vformat", "substitute", "safe_substitute") and not own:
                    offenders.append(f"{path}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not offenders, "\n".join(offenders)


def test_a_task_files_obtain_text_cannot_read_the_environment(tmp_path) -> None:
    task = tmp_path / "leak.toml"
    task.write_text(TINY_TASK.replace('data_dir = "data"', f'data_dir = "data"\nobtain = "{ENV_LEAK}"'))
    secret = "sk-FAKE-never-print-me-4242"
    result = subprocess.run([sys.executable, "-m", "alexbench", "run", "-t", str(task), "-v", "majority"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "MY_SECRET_KEY": secret})
    assert secret not in result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{task}: task.obtain: placeholder '{{data_dir.__class__" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("field", "text"), [
    ("obtain", ENV_LEAK), ("obtain", "{data_dir[0]}"), ("obtain", "{data_dir!r}"), ("obtain", "{data_dir:>9}"),
    ("obtain", "{0}"), ("obtain", "{}"), ("obtain", "{home}"), ("obtain", "unbalanced {data_dir"),
    ("data_dir", "{data_root.__class__}/x"), ("data_dir", "{data_root}/{other}"),
])
def test_task_file_placeholders_are_plain_names(tmp_path, field: str, text: str) -> None:

    path = tmp_path / "t.toml"
    body = TINY_TASK.replace('data_dir = "data"', 'data_dir = "data"\nobtain = "fine {data_dir}"')
    body = body.replace(f'{field} = "{"fine {data_dir}" if field == "obtain" else "data"}"',
                        f"{field} = {json.dumps(text)}")
    path.write_text(body)
    with pytest.raises(TaskFileError) as exc:
        load_task(path)
    assert exc.value.field == f"task.{field}" and "{{ and }}" in str(exc.value)


def test_task_file_placeholders_fill_plain_names_and_literal_braces(tmp_path) -> None:

    path = tmp_path / "t.toml"
    path.write_text(TINY_TASK.replace('data_dir = "data"', 'data_dir = "{data_root}/tiny"\n'
                                      'obtain = "Put {{train,dev,test}}.tsv in {data_dir}."'))
    task = load_task(path, tmp_path / "root")
    assert task.data_dir == (tmp_path / "root" / "tiny").resolve()
    assert task.obtain == f"Put {{train,dev,test}}.tsv in {task.data_dir}."


@pytest.mark.parametrize("placeholder", ["{text:{label.__class__.__init__.__globals__}}", "{text!r}",
                                         "{label.__class__}", "{text[0]}", "{text:>99999999}"])
def test_prompt_templates_fill_plain_names_only(tmp_path, placeholder: str) -> None:

    demo = REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo"
    task = load_task(demo / "task.toml")
    path = tmp_path / "demo.toml"
    path.write_text((demo / "prompts" / "demo.toml").read_text().replace("Tweet: {text}\nPredicted",
                                                                            f"Tweet: {placeholder}\nPredicted", 1))
    with pytest.raises(TaskFileError, match=r"prompt\.user: placeholder .* is not a plain name"):
        load_template(path, task)


def test_post_texts_and_labels_are_inserted_as_written(tmp_path) -> None:
    """Values are never parsed: a post that looks like a placeholder stays as written."""

    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    template = load_template(template_path(task), task)
    text = "positive {label.__class__} {{examples}} {0} }{"
    system, user = template.messages(Post("p1", text, "1"), "1")
    assert f"Tweet: {text}\nPredicted label: 1 (the author reports their own COVID-19 diagnosis)" in user["content"]
    assert '{"verdict": true or false' in system["content"]  # {{ }} in the template are literal braces
    assert user["content"].count("Tweet: ") == 5  # four examples and the post
