"""``alexbench grid STUDY --dry-run``: what a grid's explainers (and LLM classifiers) would send,
before anything is sent.

For every task × variant with an explainer × seed: a run already stored is reused and sends
nothing; otherwise the explainer's :meth:`~alexbench.interfaces.Explainer.plan` counts the posts
its send policy picks, the answers its cache already holds, the prompt tokens and an upper bound
of the completion tokens and the cost (litellm's price map for hosted LLMs). Which posts are sent
depends on the classifier's predictions: they are taken from a stored run with the same task,
data, augmenters, classifier and seed when there is one (exact), else the gold labels stand in
for them (an estimate, said so). Nothing is trained, no model is called, nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alexbench.config.sweeps import Cell
from alexbench.config.tasks import TaskSpec
from alexbench.errors import RunError
from alexbench.interfaces import Context, ExplainerPlan, Post, Prediction
from alexbench.run.runner import Runner
from alexbench.run.runspec import RunSpec
from alexbench.run.store import StoredRun


@dataclass(frozen=True)
class PlannedRun:
    task: str
    variant: str
    seed: int
    run_id: str
    reused: bool  # the run is stored: the grid reuses it and sends nothing
    basis: str  # where the predictions that decide what is sent come from
    plan: ExplainerPlan | None
    #: Which stage would send: the "explainer" (the judge) or the "classifier" (an LLM asked directly).
    component: str = "explainer"

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"task": self.task, "variant": self.variant, "seed": self.seed, "run_id": self.run_id,
                "reused": self.reused, "basis": self.basis, "plan": asdict(self.plan) if self.plan else None,
                "component": self.component}


def stored_predictions(runner: Runner, task: TaskSpec, spec: RunSpec) -> tuple[StoredRun, dict[str, str]] | None:
    """A stored run whose classifier stage is this spec's (same task, posts, augmenters, classifier
    and seed; the grid reuses its predictions too), with its classifier's predictions by (split, post id)."""
    run = runner.store.with_classifier_of(spec)
    if run is None:
        return None
    return run, {f"{r.split}\t{r.id}": r.classifier_pred for r in run.prediction_rows()}


def _prediction(posts: Sequence[Post], labels: Sequence[str], n_labels: int) -> Prediction:
    return Prediction(list(labels), [[0.0] * n_labels for _ in posts])


def plan_grid(runner: Runner, tasks: Sequence[TaskSpec], cells: Sequence[Cell],
              seeds: Sequence[int]) -> list[PlannedRun]:
    """Every task × cell (a variant at a sweep point) × seed whose explainer, classifier or
    augmenters would send posts to a model (a classifier or augmenter with a ``plan``). A
    classifier's few-shot examples, and what an augmenter grows, are planned from the train split
    before augmentation."""
    out: list[PlannedRun] = []
    for task in tasks:
        for cell in cells:
            variant = cell.variant
            for seed in seeds:
                data = runner.dataset(task, cell.transform, seed)
                parts = runner.build(variant)
                ctx = Context(task=task, seed=seed, device="cpu", cache_dir=runner.store.cache_dir)
                aug_plans = [(a.name, plan) for a in parts.augmenters if (plan := a.plan(data.train, ctx)) is not None]
                clf_plan = parts.classifier.plan(data.test, ctx, data.dev, data.train)
                if variant.explainer is None and clf_plan is None and not aug_plans:
                    continue
                spec = runner.run_spec(task, variant, seed, data, parts, cell.transform)
                run_id = spec.run_id
                if runner.store.find(task.name, variant.name, seed, run_id) is not None:
                    stage = "explainer" if variant.explainer is not None else \
                        "classifier" if clf_plan is not None else "augmenter"
                    out.append(PlannedRun(task.name, variant.name, seed, run_id, True, "stored run", None, stage))
                    continue
                # the runner takes a stored run's classifier predictions (and so its augmentation) only for
                # a variant with an explainer
                found = stored_predictions(runner, task, spec) if variant.explainer is not None else None
                if found is None:
                    out += [PlannedRun(task.name, variant.name, seed, run_id, False, f"train posts ({name})", plan,
                                       "augmenter") for name, plan in aug_plans]
                if clf_plan is not None and found is None:
                    out.append(PlannedRun(task.name, variant.name, seed, run_id, False, "dev and test posts",
                                          clf_plan, "classifier"))
                if variant.explainer is None:
                    continue
                n = len(task.labels)
                if found is not None:
                    run, preds = found
                    try:
                        test = _prediction(data.test, [preds[f"test\t{p.id}"] for p in data.test], n)
                        dev = _prediction(data.dev, [preds[f"dev\t{p.id}"] for p in data.dev], n)
                        basis = f"classifier predictions of run {run.path.name}"
                    except KeyError:
                        found = None
                if found is None:
                    test = _prediction(data.test, [str(p.label) for p in data.test], n)
                    dev = _prediction(data.dev, [str(p.label) for p in data.dev], n)
                    basis = "estimate: gold labels stand in for the classifier, which has not run yet"
                explainer = parts.explainer
                if explainer is None:  # the variant names an explainer, so the runner built one
                    raise RunError(f"{variant.name}: its explainer {variant.explainer.name!r} was not built")
                plan = explainer.plan(data.test, test, ctx, data.dev, dev)
                out.append(PlannedRun(task.name, variant.name, seed, run_id, False, basis, plan))
    return out
