"""The plugin conformance kit: fixtures and contract tests for alexbench plugin authors.

Loaded automatically by pytest (``pytest11`` entry point ``alexbench``) wherever alexbench is
installed. Subclass a contract in your own test module and name your component::

    from alexbench.testing import ClassifierContract

    class TestKeywordRules(ClassifierContract):
        component = "keyword_rules"          # the registered name
        params = {"top_k": 5}                # optional: parameters to build it with

Every ``test_*`` method of the contract then runs against your component, on tiny real tasks
written to a temporary folder (a binary and a three-class one, imbalanced, with posts of several
lengths and sentences: see :mod:`alexbench.kit.tasks`; narrow with ``tasks = ("binary",)``, or
add task files of your own, ``tasks = ("binary", "data/my_task.toml")``), through the real
plugin host and, where the contract says so, the real runner. A component that declares
``multi_label = True`` is also run on the tiny ``multilabel`` task (label sets); one that does
not is checked to be refused there by the host (:mod:`alexbench.kit.multilabel`). A component that is not installed
can be registered in-process with ``plugins = (MyClassifier,)`` (classes or plugin objects with
``@alexbench.hookimpl`` hooks). Every failure message says what to change.

A leaderboard format (a renderer) has its own contract: ``class TestMyFormat(RendererContract):
renderer = "my_format"`` draws the leaderboards of real runs on the tiny tasks, and copies with
names made to break formats, through it (:mod:`alexbench.kit.renderer`).

Fixtures for your own tests: ``alexbench_task_file`` / ``alexbench_task`` (binary tiny task),
``alexbench_multiclass_task_file`` / ``alexbench_multiclass_task``, ``alexbench_boards`` (leaderboards
of real runs on the tiny tasks), ``alexbench_results`` (an
empty results folder), ``alexbench_store`` (a ResultsStore there) and
``register_inline_plugin`` (a factory returning a PluginHost with in-process plugins added).

This module is imported by every pytest session where alexbench is installed, so it imports
nothing heavy at module level and defines no tests of its own (the contract classes are not
named ``Test*``, so they are collected only through your subclasses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The kit's public names live in alexbench/kit/ (contracts, in-process plugins, tiny tasks) and are
# re-exported here, the one module plugin authors import.
from alexbench.kit.contracts import AugmenterContract, ClassifierContract, _Contract
from alexbench.kit.explainer import ExplainerContract
from alexbench.kit.inline import inline_plugin, make_host
from alexbench.kit.multilabel import MULTI_LABEL_KIND, declares_multi_label
from alexbench.kit.renderer import RendererContract
from alexbench.kit.tasks import TASK_KINDS, write_tiny_task

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec
    from alexbench.plugin.host import PluginHost
    from alexbench.report.board import Leaderboard
    from alexbench.run.store import ResultsStore

__all__ = [
    "TASK_KINDS", "AugmenterContract", "ClassifierContract", "ExplainerContract", "RendererContract",
    "inline_plugin", "make_host", "write_tiny_task",
]

# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def alexbench_task_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The binary tiny task's ``task.toml`` (pass it to ``alexbench run -t``)."""
    return write_tiny_task(tmp_path_factory.mktemp("alexbench-task"), "binary")


@pytest.fixture
def alexbench_multiclass_task_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-class tiny task's ``task.toml``."""
    return write_tiny_task(tmp_path_factory.mktemp("alexbench-task"), "multiclass")


@pytest.fixture
def alexbench_task(alexbench_task_file: Path) -> TaskSpec:
    from alexbench.config.tasks import load_task

    return load_task(alexbench_task_file)


@pytest.fixture
def alexbench_multiclass_task(alexbench_multiclass_task_file: Path) -> TaskSpec:
    from alexbench.config.tasks import load_task

    return load_task(alexbench_multiclass_task_file)


@pytest.fixture
def alexbench_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty results folder (``alexbench --results DIR``)."""
    return tmp_path_factory.mktemp("alexbench-results")


@pytest.fixture
def alexbench_store(alexbench_results: Path) -> ResultsStore:
    from alexbench.run.store import ResultsStore

    return ResultsStore(alexbench_results)


@pytest.fixture(scope="session")
def alexbench_boards(tmp_path_factory: pytest.TempPathFactory) -> list[Leaderboard]:
    """Leaderboards of real runs on the tiny binary, three-class and multi-label tasks (built once
    per session; :mod:`alexbench.kit.boards`): what ``RendererContract`` draws."""
    from alexbench.kit.boards import kit_boards

    return kit_boards(tmp_path_factory.mktemp("alexbench-boards"), make_host())


@pytest.fixture
def register_inline_plugin() -> Callable[..., PluginHost]:
    """``register_inline_plugin(MyClassifier, some_plugin_module, ("name", obj))`` returns a
    PluginHost with the installed plugins and these in-process ones registered."""
    return make_host


@pytest.fixture
def alexbench_contract_task(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TaskSpec:
    """The task a contract test runs on; parametrised by the contract's ``tasks`` (a tiny task
    kind, written to a temporary folder, or the path of a task file)."""
    from alexbench.config.tasks import load_task

    ref = getattr(request, "param", "binary")
    if ref in TASK_KINDS:
        return load_task(write_tiny_task(tmp_path_factory.mktemp("alexbench-contract"), ref))
    return load_task(Path(ref))


def _task_ref(cls: type, ref: Any, base: Path) -> tuple[str, str]:
    """(fixture parameter, test id) of one entry of a contract's ``tasks``."""
    if isinstance(ref, str) and ref in TASK_KINDS:
        return ref, ref
    path = Path(ref)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ValueError(f"{cls.__name__}.tasks: {str(ref)!r} is neither a tiny task kind "
                         f"({', '.join(sorted(TASK_KINDS))}) nor a task file (there is no file {path}); "
                         "give a task file's path, absolute or relative to the test module")
    return str(path.resolve()), path.parent.name if path.stem == "task" else path.stem


def _has_multi_label_file(refs: list[tuple[str, str]]) -> bool:
    """Whether a task file among the contract's ``tasks`` is multi-label (it stands in for the
    kit's tiny one, e.g. because the component needs a file beside the task)."""
    from alexbench.config.tasks import load_task

    return any(load_task(Path(param)).multi_label for param, _ in refs if param not in TASK_KINDS)


_MULTI_LABEL: dict[type, bool] = {}


def _declares_multi_label(cls: type[_Contract]) -> bool:
    """Whether the contract's component declares ``multi_label = True``, asked once per contract
    at collection; False when it cannot be told (the tests themselves then say why)."""
    if cls not in _MULTI_LABEL:
        try:
            host = make_host(*cls.plugins)
            _MULTI_LABEL[cls] = bool(cls.component) and declares_multi_label(host, cls.kind, cls.component)
        except Exception:  # not registered, or broken: every test of the contract fails, saying so
            _MULTI_LABEL[cls] = False
    return _MULTI_LABEL[cls]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each contract test once per task listed in the contract's ``tasks``, and on the tiny
    multi-label task too when the component declares ``multi_label = True``."""
    cls = metafunc.cls
    if cls is None or not issubclass(cls, _Contract) or "alexbench_contract_task" not in metafunc.fixturenames:
        return
    if isinstance(cls.tasks, (str, Path)) or not cls.tasks:
        raise ValueError(f"{cls.__name__}.tasks must be a non-empty tuple of tiny task kinds "
                         f"({', '.join(sorted(TASK_KINDS))}) and task files, got {cls.tasks!r}")
    base = Path(metafunc.module.__file__).parent
    refs = [_task_ref(cls, ref, base) for ref in cls.tasks]
    if MULTI_LABEL_KIND not in cls.tasks and not _has_multi_label_file(refs) and _declares_multi_label(cls):
        refs.append((MULTI_LABEL_KIND, MULTI_LABEL_KIND))
    ids = [test_id if [i for _, i in refs].count(test_id) == 1 else f"{test_id}-{n}" for n, (_, test_id) in
           enumerate(refs)]
    metafunc.parametrize("alexbench_contract_task", [param for param, _ in refs], indirect=True, ids=ids)


