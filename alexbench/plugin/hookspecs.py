"""The hooks a plugin may implement, each with its whole contract in its docstring (as pytest's
hook specifications do): what it receives and returns, when it is called, what the host checks,
what happens when it fails, and an example.

docs/hooks.md is generated from this module (``python -m alexbench.plugin.hookdocs >
docs/hooks.md``; a test fails when the file is stale), and each hook has a test named for it,
``test_<hook name>``, that registers a real plugin through the real plugin host.

A plugin is a module (or any object) registered under the ``alexbench`` entry-point group and
implementing some of the hooks below, each decorated with ``alexbench.hookimpl``. The built-in
plugins (``metrics``, ``renderers``, ``baselines``, ``augment``, ``tasks``, ``transformers``, ``llm``) are
registered in ``pyproject.toml`` exactly like a third-party package registers its own:

.. code-block:: toml

    [project.entry-points.alexbench]
    my_plugin = "my_package.alexbench_plugin"

Registrar hooks (``alexbench_register_augmenters``, ``_classifiers``, ``_explainers``,
``_metrics`` and ``_renderers``) receive a :class:`~alexbench.plugin.registry.Registry`: ``registry.add(Class)``
(the class's ``name`` attribute is its name) or ``registry.add_lazy("name",
"package.module:Class", params="package.params:Params", version="1.0")`` to defer importing
heavy dependencies until the component is used; with ``params`` and ``version``, ``alexbench
plugins`` lists the component without importing its module at all (docs/plugins.md). Names are
unique across plugins; a clash is reported naming both plugins. They return nothing.

A plugin is left out (listed as broken by ``alexbench plugins``, with the reason and the
file:line at fault) when it fails to import, implements a hook that is not below (with "Did you
mean ...?") or a hook function without ``@hookimpl``, has a hook with a wrong signature, raises
in a registrar, or registers a component that fails its checks; the others keep working, and an
unknown-name error (``unknown classifier 'x'``) lists the plugins that were left out and why.

Switches: ``ALEXBENCH_DISABLE_PLUGINS=name1,name2`` blocks plugins by entry-point name before
they load; ``ALEXBENCH_TRACE_PLUGINS=1`` writes every hook call to stderr (``alexbench: <hook>
-> plugin <name>``) and makes the CLI print the traceback of each broken plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from alexbench.interfaces import Augmenter, Classifier, Explainer, Metric
    from alexbench.plugin.registry import Registry
    from alexbench.selftest import SelfTest

PROJECT = "alexbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def alexbench_register_augmenters(registry: Registry[type[Augmenter]]) -> None:
    """Register augmenter classes, subclasses of :class:`alexbench.interfaces.Augmenter`.

    Each class sets ``name`` (what variant files and ``--augmenter`` call it), ``version`` (a
    string, part of every run's identity: bump it when the output changes) and ``Params``, a
    dataclass declaring every parameter with a default of its declared type.
    ``augment(train, ctx)`` receives the train split only and returns the new train split; a
    generated row has a new unique id, ``meta["source_id"]`` (the train post it was made from)
    and ``meta["augmenter"]``, plus ``meta["copy"] = True`` for a verbatim resampling copy. The
    output is a function of the input and ``ctx.seed`` alone.

    :param registry: The augmenter registry: ``registry.add(MyAugmenter)`` registers a class
        now, ``registry.add_lazy("name", "pkg.module:MyAugmenter", params="pkg.params:MyParams",
        version="1.0")`` imports ``pkg.module`` only when a run uses it.
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    Once per plugin host, the first time anything needs a registry (a run, ``alexbench
    plugins``, a look-up by name), plugin by plugin in registration order.

    What the host checks
    ====================

    When a class is registered (a lazy one: when it is loaded): it subclasses ``Augmenter``,
    sets string ``name`` and ``version``, is registered under its own ``name``, no other plugin
    took that name, and its ``Params`` follow the rules
    (:func:`alexbench.config.params.check_params_class`); a lazy entry's declared ``params`` and
    ``version`` are the class's own. On every run: rows are ``Post`` objects with unique ids and
    labels from the task's label set, given rows keep their label, a generated row names a train
    post as its source and carries that post's label, and dev and test are untouched. Generated
    rows that repeat a kept (text, label) or the text of a dev or test post are dropped and
    counted.

    Errors
    ======

    A registrar that raises, or registers a class that fails the checks, is reported as a broken
    plugin with the reason and the file:line at fault, and every augmenter it registered is
    withdrawn; the other plugins keep working. An augmenter that breaks a run-time rule fails
    that run, with an error naming the augmenter and the rule.

    Example::

        from alexbench import hookimpl

        @hookimpl
        def alexbench_register_augmenters(registry):
            registry.add(ShoutingAugmenter)
            registry.add_lazy("heavy_aug", "my_package.heavy:HeavyAugmenter",
                              params="my_package.params:HeavyParams", version="1.0")
    """


@hookspec
def alexbench_register_classifiers(registry: Registry[type[Classifier]]) -> None:
    """Register classifier classes, subclasses of :class:`alexbench.interfaces.Classifier`.

    Each class sets ``name``, ``version`` and ``Params`` as an augmenter does.
    ``fit(train, dev, ctx)`` trains on the (augmented) train split, may tune on dev, and returns
    a JSON-able report stored with the run; ``predict(posts, ctx)`` returns a ``Prediction``
    with one label and one probability row (in ``ctx.task.labels`` order) per post, in input
    order.

    :param registry: The classifier registry (``add`` or ``add_lazy``, as for augmenters; the
        built-in ``transformer`` and ``tfidf_logreg`` are registered lazily, so listing them
        imports neither torch nor scikit-learn).
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    Once per plugin host, the first time anything needs a registry, plugin by plugin in
    registration order.

    What the host checks
    ====================

    When a class is registered or loaded: the same checks as for augmenters, against
    ``Classifier``. On every run: ``predict`` returns a ``Prediction`` with as many labels as
    posts, each label from the task's label set, and one probability per label in each row.

    Errors
    ======

    A registrar that raises, or registers a class that fails the checks, is reported as a broken
    plugin and every classifier it registered is withdrawn; the other plugins keep working. A
    classifier that raises or breaks a run-time rule fails that run (``RunError`` naming the
    stage and the error).

    Example::

        @hookimpl
        def alexbench_register_classifiers(registry):
            registry.add_lazy("my_model", "my_package.model:MyModel",
                              params="my_package.params:MyModelParams", version=__version__,
                              description="one line for 'alexbench plugins'")
    """


@hookspec
def alexbench_register_explainers(registry: Registry[type[Explainer]]) -> None:
    """Register explainer classes, subclasses of :class:`alexbench.interfaces.Explainer`.

    Each class sets ``name``, ``version`` and ``Params`` as an augmenter does.
    ``explain(posts, prediction, ctx)`` returns one ``Explanation`` per post in input order
    (status ``not_sent`` for a post it did not check). The optional ``calibrate`` (tuning on dev,
    called before ``explain``) and ``plan`` (what it would send, for ``grid --dry-run``) are
    described in docs/plugins.md.

    :param registry: The explainer registry (``add`` or ``add_lazy``, as for augmenters).
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    Once per plugin host, the first time anything needs a registry, plugin by plugin in
    registration order.

    What the host checks
    ====================

    When a class is registered or loaded: the same checks as for augmenters, against
    ``Explainer``. On every run: one explanation per post, each with the post's id and the
    classifier's label as ``old_label``, a ``new_label`` from the task's label set, and a changed
    label only with ``status == "ok"`` and ``verdict is False`` (a parsed verdict that the
    prediction does not hold).

    Errors
    ======

    A registrar that raises, or registers a class that fails the checks, is reported as a broken
    plugin and every explainer it registered is withdrawn; the other plugins keep working. An
    explainer that breaks a run-time rule fails that run with an error naming it.

    Example::

        @hookimpl
        def alexbench_register_explainers(registry):
            registry.add(KeywordVeto)
    """


@hookspec
def alexbench_register_metrics(registry: Registry[Metric]) -> None:
    """Register extra scalar metrics, :class:`alexbench.interfaces.Metric` objects.

    A metric is a name and a function of a ``ScoreInput`` (gold, predicted, labels, positive
    label, extra columns, params) returning a float, or ``None`` where it does not apply (e.g. a
    task without a positive label). Every run reports every applicable metric, on dev and test;
    a task file may name one as its official metric (``[metric] official = "name"``), and only
    the official metric gets the task's ``[metric] params``.

    A single-label metric that only counts may also give ``from_tables``: the same value from
    the split's confusion matrices (``Tables``: one matrix per ``params["group_by"]`` group, in
    the order the groups first occur, or one matrix). Leaderboards then bootstrap it from one
    ``bincount`` per resample, ~20× faster on a real test split; it must equal ``fn`` float for
    float (test it with :func:`alexbench.scoring.tables.tables`), since Δ's CI and p-value use it.

    :param registry: The metric registry: ``registry.add(Metric("name", fn))`` (a ``Metric``
        is registered as an object, not a class).
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    Once per plugin host, the first time anything needs a registry (a run, ``rescore``,
    ``score``, ``validate``), plugin by plugin in registration order. The built-in ``metrics``
    plugin (:mod:`alexbench.scoring.metrics`) registers F1, precision, recall, accuracy and the
    rest this way.

    What the host checks
    ====================

    That each object is a ``Metric`` and that no other plugin took its name. A task whose
    official metric no plugin registers is refused by ``validate``, ``run`` and ``grid`` before
    anything runs, and a run fails when its official metric returns ``None``.

    Errors
    ======

    A registrar that raises, or registers something that is not a ``Metric``, is reported as a
    broken plugin and every metric it registered is withdrawn; the other plugins keep working.
    A metric function that raises fails the scoring that calls it (the run, ``rescore``).

    Example::

        from alexbench.interfaces import Metric

        @hookimpl
        def alexbench_register_metrics(registry):
            registry.add(Metric("false_positives", count_false_positives, higher_is_better=False))
    """


# The renderer hook is specified in its own module (this one would grow past the layout's limit);
# imported here, it takes its place among the registrar hooks for the host and docs/hooks.md.
from alexbench.plugin.renderspec import alexbench_register_renderers  # noqa: E402, F401


@hookspec
def alexbench_task_dirs() -> list[str | Path]:
    """Return folders to scan for ``*.toml`` files: task definitions (a ``[task]`` table),
    variant files (a ``[variants]`` table) and studies (a ``[study]`` table).

    :return: A list of folders (``str`` or ``Path``); they are scanned recursively.

    When it is called
    =================

    Each time the host lists the task folders (every command that reads tasks, variants or
    studies), plugin by plugin in registration order. The folders of all plugins are merged
    after ``ALEXBENCH_TASK_PATH`` (``os.pathsep``-separated), duplicates removed, so a user's
    task of the same name wins; within the folders the first file defining a name wins.

    What the host checks
    ====================

    Nothing about the folders themselves. A file that cannot be read (not TOML, not UTF-8) is
    skipped with a warning, and blocks only a look-up of a name it might have defined, which
    then names it.

    Errors
    ======

    A plugin whose hook raises makes the look-up fail with a ``PluginError`` naming the plugin
    and the hook (task folders are not optional: a task silently missing would change what a
    study runs).

    Use in plugins
    ==============

    The built-in plugin ``alexbench_tasks`` returns its own package data,
    ``alexbench_tasks/tasks/`` and ``alexbench_tasks/studies/``, found with
    ``importlib.resources``: ship your folders inside your package the same way (declare them as
    package data) and the plugin works from a wheel, not only from a checkout.

    Example::

        from importlib.resources import files

        @hookimpl
        def alexbench_task_dirs():
            return [files(__name__) / "tasks"]
    """


@hookspec
def alexbench_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``alexbench`` command line (datasette's ``register_commands``).

    :param cli: A ``click.Group`` of this plugin's own: add commands with
        ``cli.add_command(command)`` or the ``@cli.command()`` decorator. They become
        ``alexbench <name>``.
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    When the command line builds its command group (each time ``alexbench`` starts, before
    it parses the arguments), and again when a plugin host lists broken plugins (``alexbench
    plugins``); plugin by plugin in registration order. Keep it cheap: import the command's
    module inside the hook, and heavy libraries inside the command.

    What the host checks
    ====================

    Each command is a ``click.Command`` and no other plugin added one of the same name. A name
    that alexbench's own commands already use stays alexbench's: the plugin's command is not
    added, with a warning.

    Errors
    ======

    A plugin whose hook raises, adds something that is not a click command, or reuses another
    plugin's name is listed as broken (``alexbench plugins``, and a warning from every command
    that loads the plugins) and none of its commands are added; the rest of the command line
    works. A command reports its own errors as every alexbench command does: decorate it with
    :func:`alexbench.cli.errors.reports_errors` so an ``AlexbenchError`` becomes one line on
    stderr and its exit code (2 for a user error, 1 for a failure).

    Use in plugins
    ==============

    The built-in ``augment`` plugin adds ``alexbench setup-data`` (the NLTK data its augmenters
    need) this way, so the host knows nothing of NLTK.

    Example::

        @hookimpl
        def alexbench_register_commands(cli):
            from .commands import setup_data

            cli.add_command(setup_data)
    """


@hookspec
def alexbench_self_tests() -> list[SelfTest]:
    """Return self-tests of the native parts this plugin's components run (``alexbench doctor``).

    A native part (compiled code: llama.cpp, torch, a C library behind a Python package) can be
    built for another CPU, miss a file, or crash where pure Python would raise. A
    :class:`~alexbench.selftest.SelfTest` names the part, a function that exercises it for real
    (``target = "package.module:function"``: a forward pass, a prompt evaluated, a look-up) and
    returns facts to show (versions, build flags, paths), and the one-line fix when it fails.

    :return: A list of ``SelfTest`` (empty when the plugin runs no native code of its own).

    When it is called
    =================

    By ``alexbench doctor`` (and so at the end of ``scripts/install.sh``, which runs ``alexbench
    doctor --brief``), plugin by plugin in registration order. Each test's ``target`` is then
    called in a child Python process of its own (``python -m alexbench.selftest target``), one
    after another, each within its ``timeout_s``.

    What the host checks
    ====================

    That each item is a ``SelfTest``. The child's outcome: its report (the facts), an exception
    (its message is the problem), a crash (the signal, e.g. ``SIGSEGV``, and the child's last
    output: :mod:`faulthandler`'s Python stack), or a timeout.

    Errors
    ======

    A failed self-test is one line naming the part, the problem and the fix, and makes ``alexbench
    doctor`` (and the install) exit 1; the other self-tests still run. A hook that raises, or
    returns something that is not a list of ``SelfTest``, is a failed self-test of that plugin
    (``alexbench doctor`` names it), not a broken host.

    Use in plugins
    ==============

    The built-in plugins test llama.cpp (the bundled Gemma GGUF evaluates a prompt through the
    local judge's engine), torch with all-MiniLM-L6-v2 (a forward pass), WordNet (a look-up) and
    scikit-learn (a TF-IDF logistic regression fit). Keep the hook cheap: import nothing heavy in
    it; the target runs in the child.

    Example::

        from alexbench.selftest import SelfTest

        @hookimpl
        def alexbench_self_tests():
            return [SelfTest("my native tagger", "my_package.selftest:tag_one_post",
                             fix="pip install --force-reinstall my-native-tagger")]
    """
