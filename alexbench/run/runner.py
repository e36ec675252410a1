"""Executing one run: task → data → augment → train → predict → explain → score → store.

The runner checks plugins' work on every run, not only in the conformance kit
(:mod:`alexbench.run.guards`): predictions and explanations have the right shape; augmenters keep
labels and name their sources (:mod:`alexbench.data.augment`), and generated rows that copy
dev/test text are dropped and reported on the console; the task file and its data files are
hashed on disk before the run and after each stage, and a file that changed fails the run (a
plugin must never write to the task's data). A native crash in a child process (the local LLM
engine's) fails the run with the signal recorded in ``results/failed/`` (:func:`~alexbench.errors.native_crash_record`).
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from alexbench.config.seeds import seed_problem
from alexbench.config.sweeps import TaskTransform
from alexbench.config.tasks import TaskSpec
from alexbench.config.variants import VariantSpec
from alexbench.data.augment import apply_chain
from alexbench.data.splits import Dataset, load_dataset
from alexbench.data.transforms import transformed
from alexbench.errors import (
    AlexbenchError,
    NativeCrash,
    ParamError,
    PluginError,
    RunError,
    StorageError,
    native_crash_record,
)
from alexbench.fsio import sha256_file
from alexbench.interfaces import (
    Augmenter,
    Classifier,
    Component,
    Context,
    Explainer,
    Post,
    Prediction,
)
from alexbench.plugin.host import PluginHost
from alexbench.progress import ProgressDisplay
from alexbench.run.device import device_problem
from alexbench.run.guards import (
    allowed_failed_share,
    changed_post,
    check_explainer_failures,
    check_explanations,
    check_files,
    check_prediction,
    check_supported,
    checked_scores,
    post_rows,
    watched_files,
)
from alexbench.run.provenance import environment
from alexbench.run.runspec import RecordedComponent, RecordedTask, RecordedVariant, RunSpec, RunSpecError
from alexbench.run.seeding import seed_everything
from alexbench.run.store import RESUME_HINT, SCHEMA_VERSION, DamagedRunError, ResultsStore, StoredRun, storage_exhausted
from alexbench.scoring.explainer_stats import add_calibration_threshold, explainer_stats
from alexbench.scoring.metrics import score
from alexbench.scoring.results import ClassifierUsage, ExplanationRow, PredictionRow, RunMetrics, SplitScores


@dataclass(frozen=True)
class Components:
    augmenters: list[Augmenter]
    classifier: Classifier
    explainer: Explainer | None

    def all(self) -> list[Component | None]:
        return [*self.augmenters, self.classifier, self.explainer]


@dataclass(frozen=True)
class RunOutcome:
    task: str
    variant: str
    seed: int
    run_id: str
    run: StoredRun | None
    reused: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _described(component: Component, task: TaskSpec) -> RecordedComponent:
    """describe() plus the component's task fingerprint, when it has one."""
    try:
        return RecordedComponent.from_described(component.describe(), component.fingerprint(task))
    except RunSpecError as exc:
        raise PluginError(f"{component.kind} {component.name!r}: describe() and fingerprint() must give what a "
                          f"run spec records: {exc}") from None


def _stage_component(stage: str, parts: Components) -> str:
    """The component a stage of a run calls (``explainer 'llm'``)."""
    if stage == "augment":
        return ", ".join(f"augmenter {a.name!r}" for a in parts.augmenters)
    if stage in ("calibrate", "explain") and parts.explainer is not None:
        return f"explainer {parts.explainer.name!r}"
    return f"classifier {parts.classifier.name!r}"


def _stored_predictions(run: StoredRun, data: Dataset) -> tuple[Prediction, Prediction]:
    """A stored run's classifier predictions for ``data``'s dev and test posts (probabilities as
    stored, rounded to 6 decimals)."""
    rows = {(r.split, r.id): r for r in run.prediction_rows()}

    def pred(split: str, posts: Sequence[Post]) -> Prediction:
        try:
            got = [rows[(split, p.id)] for p in posts]
        except KeyError as exc:
            raise DamagedRunError(f"{run.path / 'predictions.jsonl'}: no {split} prediction for post "
                                  f"{exc.args[0][1]!r}") from None
        return Prediction([r.classifier_pred for r in got], [list(r.probs) for r in got])

    return pred("dev", data.dev), pred("test", data.test)


class Runner:
    """Runs (task, variant, seed) triples into a :class:`ResultsStore`, reusing finished runs."""

    def __init__(self, host: PluginHost, store: ResultsStore, *, console: Console | None = None,
                 show_progress: bool = True, device: str = "auto", progress_to_log: bool = False,
                 reuse_classifier: bool = True, explainer_max_failed: float | None = None) -> None:
        problem = device_problem(device)
        if problem:
            raise ParamError(problem)
        #: The share of the posts sent to an explainer that may fail before its run fails instead
        #: of being stored (None: $ALEXBENCH_EXPLAINER_MAX_FAILED, default 0); not part of run ids.
        self.explainer_max_failed = allowed_failed_share(explainer_max_failed)
        self.host, self.store = host, store
        self.console = console or Console(stderr=True)
        self.show_progress = show_progress
        self.device = device
        self.reuse_classifier = reuse_classifier
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._transformed: dict[tuple[str, str, TaskTransform, int], Dataset] = {}
        #: The software and checkout this runner runs, read once when it is made: a commit or a
        #: checkout during a long study must not be recorded as the code of its later runs.
        self.environment = environment()
        self.display = ProgressDisplay(self.console, enabled=show_progress, log_only=progress_to_log)

    # -- data -------------------------------------------------------------------------------
    def dataset(self, task: TaskSpec, transform: TaskTransform | None = None, seed: int = 0) -> Dataset:
        """The task's data, read once; with ``transform``, its training split at that sweep point
        for ``seed`` (computed once per (task, point, seed) and kept for the runs of a grid)."""
        key = (str(task.path), str(task.data_dir))
        if key not in self._datasets:
            self._datasets[key] = load_dataset(task)
        if transform is None:
            return self._datasets[key]
        point = (*key, transform, seed)
        if point not in self._transformed:
            self._transformed[point] = transformed(self._datasets[key], transform, seed)
        return self._transformed[point]

    # -- one run ----------------------------------------------------------------------------
    def build(self, variant: VariantSpec) -> Components:
        """Instantiate a variant's components (validating their parameters)."""
        host = self.host
        clf = host.build("classifier", variant.classifier.name, variant.classifier.params)
        exp = host.build("explainer", variant.explainer.name, variant.explainer.params) if variant.explainer else None
        augs = [host.build("augmenter", a.name, a.params) for a in variant.augmenters]
        for kind, base, built in [("classifier", Classifier, clf), ("explainer", Explainer, exp),
                                  *(("augmenter", Augmenter, a) for a in augs)]:
            if built is not None and not isinstance(built, base):  # a plugin registered the wrong class
                raise PluginError(f"{kind} {built.name!r} of variant {variant.name!r} is a {type(built).__name__}, "
                                  f"not a subclass of {base.__name__}: register it with the right hook")
        return Components(augs, clf, exp)  # type: ignore[arg-type]

    @staticmethod
    def run_spec(task: TaskSpec, variant: VariantSpec, seed: int, data: Dataset, parts: Components,
                 transform: TaskTransform | None = None) -> RunSpec:
        """How the run is made. Its id hashes the part that can change outputs (see :mod:`.runid`);
        the rest (task file and data file hashes, descriptions) is provenance."""
        return RunSpec(
            schema=SCHEMA_VERSION,
            task=RecordedTask(name=task.name, version=task.version, file_sha256=sha256_file(task.path),
                              official_metric=task.official_metric, labels=tuple(task.labels),
                              positive=task.positive, metric_params=dict(task.metric_params),
                              multi_label=task.multi_label),
            data={name: split.sha256 for name, split in data.splits.items()},
            posts={name: split.fingerprint for name, split in data.splits.items()},
            variant=RecordedVariant(
                name=variant.name, description=variant.description,
                augmenters=tuple(_described(a, task) for a in parts.augmenters),
                classifier=_described(parts.classifier, task),
                explainer=_described(parts.explainer, task) if parts.explainer else None),
            seed=seed,
            transform=transform.to_dict() if transform is not None else None,
        )

    def _stored(self, task: TaskSpec, variant: VariantSpec, seed: int, run_id: str) -> RunOutcome | None:
        existing = self.store.find(task.name, variant.name, seed, run_id)
        if existing is None:
            return None
        try:
            existing.check()
        except DamagedRunError as exc:  # never silently recomputed over: its predictions may be all that is left
            raise RunError(f"run {task.name}/{variant.name}/seed {seed} is stored but damaged: {exc}") from exc
        return RunOutcome(task.name, variant.name, seed, run_id, existing, reused=True)

    def run(self, task: TaskSpec, variant: VariantSpec, seed: int, *, force: bool = False,
            transform: TaskTransform | None = None, wait: bool = True) -> RunOutcome:
        """One run; with ``transform``, on the task's training split at that sweep point. It is
        computed under its claim in the store; when another process holds the claim, it waits for
        it and reuses that process's run (``wait`` False: raises :class:`~.claims.RunBusy`)."""
        problem = seed_problem(seed)
        if problem:
            raise ParamError(f"seed: {problem}")
        data = self.dataset(task, transform, seed)
        parts = self.build(variant)
        check_supported(task, variant, parts.all())
        spec = self.run_spec(task, variant, seed, data, parts, transform)
        run_id = spec.run_id
        stored = None if force else self._stored(task, variant, seed, run_id)
        if stored is not None:
            return stored
        self.store.ensure_writable()
        label = f"{task.name}/{variant.name}/s{seed}"

        def waiting(owner: str) -> None:
            self.console.print(escape(f"{label}: waiting for {owner}, which is computing this run"), highlight=False)

        with self.store.claim(task.name, variant.name, seed, run_id, wait=wait, on_wait=waiting):
            stored = None if force else self._stored(task, variant, seed, run_id)  # finished while we waited
            return stored or self._compute(task, variant, seed, parts, data, spec, force)

    def _compute(self, task: TaskSpec, variant: VariantSpec, seed: int, parts: Components, data: Dataset,
                 spec: RunSpec, force: bool) -> RunOutcome:
        run_id = spec.run_id
        self.display.prefix = f"{task.name}/{variant.name}/s{seed}: "
        # A variant that adds only an explainer to a stored run's classifier (minilm → minilm+llm)
        # takes that run's predictions instead of training again; --force trains anew.
        source = (self.store.with_classifier_of(spec)
                  if parts.explainer is not None and self.reuse_classifier and not force else None)
        try:
            with self.display.active():
                files = self._execute(task, parts, seed, data, spec, run_id, source)
            stored = self.store.write_run(task.name, variant.name, seed, run_id, files, replace=force)
        except Exception as exc:  # an interrupt is not a failure of the run: it propagates unrecorded
            crash = native_crash_record(exc)
            self.store.record_failure(run_id, {
                "run_id": run_id, "spec": spec.to_dict(), "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                **({"crash": crash} if crash else {}),
            })
            label = f"run {task.name}/{variant.name}/seed {seed}"
            if isinstance(exc, StorageError):
                raise StorageError(f"{label} stopped: {exc}") from exc
            if storage_exhausted(exc):  # a cache or a plugin's own file hit the full disk
                raise StorageError(f"{label} stopped: the disk under {self.store.root} is full or read-only "
                                   f"({type(exc).__name__}: {exc}); {RESUME_HINT}") from exc
            if isinstance(exc, AlexbenchError):
                raise RunError(f"{label} failed: {exc}") from exc
            raise RunError(f"{label} failed: {type(exc).__name__}: {exc}") from exc
        return RunOutcome(task.name, variant.name, seed, run_id, stored, reused=False)

    def _execute(self, task: TaskSpec, parts: Components, seed: int, data: Dataset,
                 spec: RunSpec, run_id: str, source: StoredRun | None = None) -> dict[str, Any]:
        timings: dict[str, float] = {}
        log_lines: list[str] = []
        def official(posts: Sequence[Post], labels: Sequence[str]) -> float:
            return float(self._score(task, posts, list(labels)).official.value)

        ctx = Context(task=task, seed=seed, device=self.device, cache_dir=self.store.cache_dir,
                      progress=self.display.track, log=log_lines.append, objective=official)
        seed_everything(seed)

        def timed(stage: str, fn: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            try:
                return fn()
            except NativeCrash as exc:  # which stage and component it hit, for results/failed/
                exc.stage = exc.stage or stage
                exc.component = exc.component or _stage_component(stage, parts)
                raise
            finally:
                timings[stage] = round(time.perf_counter() - start, 4)

        files = watched_files(task, data, spec.task.file_sha256)
        check_files(files, "since it was read, before this run", "")
        if source is not None:
            try:
                dev_pred, test_pred = _stored_predictions(source, data)
                stored = source.provenance()
                aug_report_dict, fit_report = stored.get("augmentation", {}), stored.get("fit", {})
                reused_from = {"run_id": source.scores().run_id, "path": str(source.path)}
                log_lines.append(f"classifier predictions (dev and test) from stored run {source.path}: same "
                                 "task, posts, augmenters, classifier and seed; nothing was trained")
            except DamagedRunError as exc:  # its files are named by `leaderboard`; this run trains instead
                log_lines.append(f"stored run {source.path} not used for its classifier predictions: {exc}")
                source = None
        if source is None:
            aug_report_dict, fit_report, dev_pred, test_pred = self._train_and_predict(
                task, parts, data, ctx, files, log_lines, timed)
            reused_from = None
        usage = {split: ClassifierUsage.from_dict({**pred.usage, "posts": len(posts)}, "usage", split)
                 for split, pred, posts in (("dev", dev_pred, data.dev), ("test", test_pred, data.test)) if pred.usage}
        metrics = RunMetrics(run_id, self._score(task, data.dev, dev_pred.labels),
                             self._score(task, data.test, test_pred.labels),
                             # what a model-calling classifier's predictions cost (none when reused from a stored run)
                             classifier_usage=usage or None)
        final_test = list(test_pred.labels)
        explanations: list[ExplanationRow] = []
        exp = parts.explainer
        if exp is not None:
            seed_everything(seed)  # the explainer's randomness never depends on what training used

            def dev_official(labels: Sequence[str]) -> float:
                return official(data.dev, labels)

            calibration = timed("calibrate", lambda: exp.calibrate(data.dev, dev_pred, ctx, dev_official))
            out = timed("explain", lambda: exp.explain(data.test, test_pred, ctx))
            check_files(files, "during explanation", f"The explainer {exp.name!r} must never write to the task's files.")
            explanations = check_explanations(exp, data.test, test_pred, out, task)
            failures = check_explainer_failures(exp, out, self.explainer_max_failed)  # too many: the run fails
            if failures:
                log_lines.append(f"WARNING: {failures}")
                self.console.print("[yellow]warning:[/] " + escape(f"{self.display.prefix}{failures}"), highlight=False)
            final_test = [e.new_label for e in out]
            metrics = dataclasses.replace(
                metrics, test_before_explainer=metrics.test, test=self._score(task, data.test, final_test),
                explainer=add_calibration_threshold(
                    explainer_stats(explanations, {p.id: str(p.label) for p in data.test}), calibration),
                explainer_calibration=calibration)

        def rows(split: str, posts: Sequence[Post], pred: Prediction, final: Sequence[str]) -> list[dict[str, Any]]:
            return [PredictionRow(split, p.id, str(p.label), f, c, tuple(round(x, 6) for x in pr),
                                  dict(p.extra) if p.extra else None).to_dict()
                    for p, c, f, pr in zip(posts, pred.labels, final, pred.probs)]

        provenance = {
            "run_id": run_id,
            "task_file": str(task.path),  # where the task came from (not part of the run id): submit, explain
            "environment": self.environment,
            "plugins": self.plugins_used(task, parts),
            "data": data.provenance(),
            "augmentation": aug_report_dict,
            "fit": fit_report,
            **({"classifier_from": reused_from} if reused_from else {}),
            "timings_s": timings,
            "log": log_lines,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        files: dict[str, Any] = {
            "run_spec.json": spec.to_dict(),
            "metrics.json": metrics.to_dict(),
            "provenance.json": provenance,
            "predictions.jsonl": rows("dev", data.dev, dev_pred, dev_pred.labels)
            + rows("test", data.test, test_pred, final_test),
        }
        if explanations:
            files["explanations.jsonl"] = [e.to_dict() for e in explanations]
        return files

    def _train_and_predict(self, task: TaskSpec, parts: Components, data: Dataset, ctx: Context,
                           files: dict[Path, str], log_lines: list[str],
                           timed: Callable[[str, Callable[[], Any]], Any]) -> tuple[dict[str, Any], Any, Prediction,
                                                                                     Prediction]:
        """Augment → train → predict, checking the plugins' work after each stage."""
        held_out = {"dev": post_rows(data.dev), "test": post_rows(data.test)}
        held_out_texts = {p.text for p in data.dev} | {p.text for p in data.test}
        train, aug_report = timed("augment", lambda: apply_chain(
            parts.augmenters, data.train, held_out_texts, ctx, self.store.cache_dir))
        for name, before in held_out.items():
            if (changed := changed_post(before, getattr(data, name))) is not None:
                raise PluginError(f"the {name} split changed during augmentation ({changed}): an augmenter is given "
                                  "the train split only and must not change any other (never mutate a Post's "
                                  "extra or meta in place: post.replace(...) makes a changed copy)")
        names = ", ".join(repr(a.name) for a in parts.augmenters)
        check_files(files, "during augmentation", f"An augmenter ({names}) must never write to the task's files.")
        warning = aug_report.held_out_warning()
        if warning:
            log_lines.append(f"WARNING: {warning}")
            self.console.print("[yellow]warning:[/] " + escape(f"{self.display.prefix}{warning}"), highlight=False)

        clf = parts.classifier
        fit_report = timed("fit", lambda: clf.fit(train, data.dev, ctx))
        check_files(files, "during training", f"The classifier {clf.name!r} must never write to the task's files.")
        dev_pred = timed("predict_dev", lambda: clf.predict(data.dev, ctx))
        check_prediction(clf, data.dev, dev_pred, task)
        test_pred = timed("predict_test", lambda: clf.predict(data.test, ctx))
        check_prediction(clf, data.test, test_pred, task)
        check_files(files, "during prediction", f"The classifier {clf.name!r} must never write to the task's files.")
        return aug_report.to_dict(), fit_report, dev_pred, test_pred

    def plugins_used(self, task: TaskSpec, parts: Components) -> list[dict[str, Any]]:
        """The plugin (entry-point name), distribution and version behind each component of the
        run and its official metric."""
        used = [("augmenter", a.name) for a in parts.augmenters] + [("classifier", parts.classifier.name)]
        used += [("explainer", parts.explainer.name)] if parts.explainer else []
        used += [("metric", task.official_metric)]
        return [self.host.plugin_of(kind, name) for kind, name in dict.fromkeys(used)]

    def _score(self, task: TaskSpec, posts: Sequence[Post], pred: Sequence[str]) -> SplitScores:
        return checked_scores(task, score(task, [str(p.label) for p in posts], pred, self.host.metrics,
                                          [p.extra for p in posts]))
