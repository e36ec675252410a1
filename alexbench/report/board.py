"""Leaderboards from stored runs: runs grouped by (task, variant), mean ± std over seeds, Δ and
paired significance against a baseline, a ranking across tasks. Rows are ranked, the best marked,
Δ judged better or worse and wins counted by the official metric's direction
(``Metric.higher_is_better``: Hamming loss ranks lowest first). Rendering is elsewhere: the table
model (:mod:`alexbench.report.table`) and its renderers draw every format from a :class:`Leaderboard`."""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from alexbench.config.tasks import Reference
from alexbench.plugin.registry import Registry
from alexbench.report.columns import CLASSIFIER_MACHINE_KEYS, EXPLAINER_KEYS, JSON_ONLY_EXPLAINER_KEYS, MACHINE_KEYS
from alexbench.run.rescoring import stored_scoring
from alexbench.run.runspec import RunSpec
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun
from alexbench.scoring.metrics import Metric, ScoreInput, higher_is_better
from alexbench.scoring.results import PredictionRow, RunMetrics, SplitScores
from alexbench.scoring.significance import Comparison, Counted, compare, direction_note, holm


@dataclass
class Stat:
    values: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def text(self, digits: int = 3) -> str:
        if len(self.values) == 1:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f}±{self.std:.{digits}f}"

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "n": len(self.values), "values": self.values}


def classifier_usage_stats(metrics: list[RunMetrics]) -> dict[str, Stat]:
    """Over seeds, what the classifier's test predictions cost where every run recorded it
    (``classifier_usage.test``): USD per 1,000 test posts and the model's latency p50/p95."""
    tests = [(m.classifier_usage or {}).get("test") for m in metrics]
    if not tests or any(t is None for t in tests):
        return {}
    out: dict[str, Stat] = {}
    costs = [1000 * t.cost_usd / t.posts for t in tests if t is not None and t.cost_usd is not None and t.posts]
    if len(costs) == len(tests):
        out["cost_per_1000_posts_usd"] = Stat(costs)
    for key in ("latency_p50_s", "latency_p95_s"):
        values = [float(v) for t in tests if (v := getattr(t, key)) is not None]
        if len(values) == len(tests):
            out[key] = Stat(values)
    return out


@dataclass
class Row:
    task: str
    variant: str
    official_metric: str
    seeds: list[int]
    run_ids: list[str]
    test_official: Stat
    dev_official: Stat
    scalars: dict[str, Stat]
    per_class_f1: dict[str, Stat]
    explainer: dict[str, Stat] = field(default_factory=dict)
    #: What a model-calling classifier's test predictions cost (``llm``): $ per 1,000 posts, latency.
    classifier_usage: dict[str, Stat] = field(default_factory=dict)
    components: dict[str, Any] = field(default_factory=dict)
    delta: float | None = None
    comparison: Comparison | None = None
    runs: list[StoredRun] = field(default_factory=list, repr=False)
    confusion: list[list[int]] = field(default_factory=list)  # test, summed over seeds
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Multi-label: per label, test posts with it in gold and in the prediction, tp, fp and fn,
    #: summed over seeds (the summary shown instead of a confusion matrix); empty otherwise.
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: A component reads the gold labels (a simulated judge): marked on every format, never ranked.
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "variant": self.variant, "official_metric": self.official_metric,
            "seeds": self.seeds, "run_ids": self.run_ids, "run_dirs": [str(r.path) for r in self.runs],
            "delta_vs_baseline": self.delta,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "test_official": self.test_official.to_dict(), "dev_official": self.dev_official.to_dict(),
            "test": {k: v.to_dict() for k, v in self.scalars.items()},
            "test_per_class_f1": {k: v.to_dict() for k, v in self.per_class_f1.items()},
            "explainer": {k: v.to_dict() for k, v in self.explainer.items() if k not in MACHINE_KEYS},
            **({"classifier_usage": {k: v.to_dict() for k, v in self.classifier_usage.items()
                                     if k not in CLASSIFIER_MACHINE_KEYS}} if self.classifier_usage else {}),
            "components": self.components,
            "test_confusion_summed": self.confusion,
            "provenance": self.provenance,
            **({"test_label_counts_summed": self.label_counts} if self.label_counts else {}),
            **({"simulated": True} if self.simulated else {}),
        }


@dataclass
class Leaderboard:
    task: str
    official_metric: str
    labels: list[str]
    rows: list[Row]
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    #: published results from the task file: shown beside the rows, never scored, compared or ranked
    references: list[Reference] = field(default_factory=list)
    #: Problems with the table as a whole, e.g. rows scored on different data.
    warnings: list[str] = field(default_factory=list)
    #: A multi-label task: per-label F1 columns, label counts instead of confusion matrices.
    multi_label: bool = False
    #: The official metric's direction: False (e.g. hamming_loss) ranks the lowest first.
    higher_is_better: bool = True
    #: A swept study's outputs for this task, one per axis (:mod:`alexbench.report.sweep`).
    sweeps: list[Any] = field(default_factory=list)

    @property
    def direction(self) -> str:
        """What follows the official metric's name wherever a format shows it (:func:`direction_note`)."""
        return direction_note(self.higher_is_better)

    def better(self, a: float, b: float) -> bool:
        """Whether official score ``a`` is better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "official_metric": self.official_metric, "labels": self.labels,
                **({"multi_label": True} if self.multi_label else {}),
                **({} if self.higher_is_better else {"official_higher_is_better": False}),
                "baseline": self.baseline, "notes": self.notes, "warnings": self.warnings,
                "significance": SIGNIFICANCE_NOTE,
                "rows": [r.to_dict() for r in self.rows],
                "references": [{**ref.to_dict(), "official_metric": self.official_metric}
                               for ref in self.references],
                **({"sweep": [s.to_dict() for s in self.sweeps]} if self.sweeps else {})}


SIGNIFICANCE_NOTE = ("Δ = difference of the seed-averaged official test metric from the baseline; "
                     "* p<0.05, ** p<0.01: paired bootstrap over test posts (all seeds of a post resampled "
                     "together), Holm-corrected across variants; McNemar's exact test on seed-majority "
                     "predictions is in the JSON.")


def _current_runs(runs: list[tuple[StoredRun, RunSpec, RunMetrics]]) -> tuple[
        list[tuple[StoredRun, RunSpec, RunMetrics]], list[int]]:
    """The runs of a variant's newest definition, one per seed (the newest), and the seeds left
    out because only an older definition was run for them: a row never mixes definitions (a
    changed variant, task file or data), which mean ± std and paired tests would silently blur."""
    stamped = [((item[0].path / "metrics.json").stat().st_mtime, item) for item in runs]  # one stat a run
    newest = max(stamped, key=lambda pair: pair[0])[1][1].definition()
    by_seed: dict[int, tuple[float, Any]] = {}
    for when, item in stamped:
        if item[1].definition() == newest:
            seed = item[1].seed
            if seed not in by_seed or when > by_seed[seed][0]:
                by_seed[seed] = (when, item)
    stale = sorted({spec.seed for _, spec, _ in runs} - set(by_seed))
    return [by_seed[s][1] for s in sorted(by_seed)], stale


def build(store: ResultsStore, task: str | None = None, *, baseline: str | None = None,
          variants: Collection[str] | None = None, seeds: Collection[int] | None = None,
          metrics: Registry[Metric] | None = None, n_boot: int = 1000,
          on_damaged: Callable[[StoredRun, DamagedRunError], None] | None = None) -> list[Leaderboard]:
    """Leaderboards of finished runs, one per task. ``variants`` and ``seeds`` filter (a study's
    leaderboard shows its own seeds, whatever else the store holds) and order nothing (rows are
    sorted by the official metric, best first by its direction: ``metrics`` says it, without them
    the built-in metrics' is known); with ``baseline`` and ``metrics``, every other row gets Δ and
    paired significance against the baseline. A run whose spec or metrics cannot be read is
    left out and given to ``on_damaged`` (without it, the :class:`DamagedRunError` is raised)."""
    grouped: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for run in store.runs(task):
        try:
            spec, scores = run.spec(), run.scores()
        except DamagedRunError as exc:
            if on_damaged is None:
                raise
            on_damaged(run, exc)
            continue
        if variants is not None and spec.variant.name not in variants:
            continue
        if seeds is not None and spec.seed not in seeds:
            continue
        grouped[spec.task.name][spec.variant.name].append((run, spec, scores))
    boards = []
    for task_name in sorted(grouped):
        rows: list[Row] = []
        labels: list[str] = []
        official = ""
        notes: list[str] = []
        specs: dict[str, RunSpec] = {}  # each row's (newest) run spec
        for variant, items in grouped[task_name].items():
            items, stale = _current_runs(items)
            specs[variant] = items[0][1]
            if stale:
                notes.append(f"{variant}: seed(s) {', '.join(map(str, stale))} left out: only an earlier definition of "
                             "the variant (or of the task or its data) was run for them; rerun them to include them")
            first_spec, first_metrics = items[0][1], items[0][2]
            official = first_spec.task.official_metric
            labels = list(first_metrics.test.confusion.labels)
            tests = [m.test for _, _, m in items]
            row = Row(
                task=task_name, variant=variant, official_metric=official,
                seeds=[s.seed for _, s, _ in items], run_ids=[m.run_id for _, _, m in items],
                test_official=Stat([t.official.value for t in tests]),
                dev_official=Stat([m.dev.official.value for _, _, m in items]),
                scalars={k: Stat([t.scalars[k] for t in tests]) for k in tests[0].scalars
                         if all(k in t.scalars for t in tests)},
                per_class_f1={lab: Stat([t.per_class[lab].f1 for t in tests]) for lab in labels},
                components=first_spec.variant.components(),
                runs=[r for r, _, _ in items],
                confusion=_summed([t.confusion.matrix for t in tests]),
                provenance=_provenance_summary(items[0][0], first_spec),
                label_counts=_label_counts(labels, tests) if first_spec.task.multi_label else {},
                simulated=first_spec.variant.uses_gold_labels,
            )
            row.classifier_usage = classifier_usage_stats([m for _, _, m in items])
            stats = [m.explainer for _, _, m in items]
            if all(s is not None for s in stats):
                for key in EXPLAINER_KEYS + JSON_ONLY_EXPLAINER_KEYS:  # the tables and CSV show the first
                    values = [v for s in stats if (v := getattr(s, key)) is not None]
                    if values:
                        row.explainer[key] = Stat([float(v) for v in values])
            rows.append(row)
        upward = higher_is_better(official, metrics)
        rows.sort(key=lambda r: (-r.test_official.mean if upward else r.test_official.mean, r.variant))
        board = Leaderboard(task_name, official, labels, rows, notes=notes, warnings=data_warnings(specs),
                            multi_label=any(spec.task.multi_label for spec in specs.values()), higher_is_better=upward)
        if baseline is not None:
            _compare_to_baseline(board, baseline, metrics, n_boot)
        boards.append(board)
    return boards


def _summed(matrices: list[Any]) -> Any:
    """Element-wise sum of equally shaped nested lists (or tuples): square confusion matrices, or a
    multi-label run's one ``[[tn, fp], [fn, tp]]`` per label."""
    if isinstance(matrices[0], (list, tuple)):
        return [_summed([m[i] for m in matrices]) for i in range(len(matrices[0]))]
    return sum(matrices)


def _label_counts(labels: list[str], tests: list[SplitScores]) -> dict[str, dict[str, int]]:
    """Multi-label: per label, gold and predicted test posts with it, tp, fp, fn, summed over seeds."""
    out = {}
    for i, label in enumerate(labels):
        (_, fp), (fn, tp) = _summed([t.confusion.matrix[i] for t in tests])
        out[label] = {"gold": tp + fn, "predicted": tp + fp, "tp": tp, "fp": fp, "fn": fn}
    return out


def data_warnings(specs: dict[str, RunSpec]) -> list[str]:
    """One warning per split whose data differ between the rows (``specs``: each row's variant
    and run spec): the rows were scored (or trained) on different posts, e.g. a data file changed
    between runs, and do not compare. The posts' fingerprints are compared (a file re-saved with
    other line endings is the same data); runs recorded before them are compared by file hash. The
    training posts of a sweep point (a subsample of train, :mod:`alexbench.data.transforms`) are
    not compared: they differ from the others' by design."""
    key = "posts" if all(spec.posts is not None for spec in specs.values()) else "data"
    warnings = []
    for split in ("train", "dev", "test"):
        groups: dict[str, list[str]] = defaultdict(list)
        for variant, spec in specs.items():
            # a sweep point's training posts are a subsample by design: its train file is compared
            point = split == "train" and spec.transform is not None
            digest = ((spec.data if key == "data" or point else spec.posts) or {}).get(split)
            if point and key == "posts":
                continue
            if digest:
                groups[digest].append(variant)
        if len(groups) > 1:
            ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
            found = "; ".join(f"{digest[:12]}… for {', '.join(sorted(variants))}" for digest, variants in ordered)
            what = "posts" if key == "posts" else "file sha256"
            warnings.append(f"the rows of this table were run on different {split} data ({what} {found}): they do "
                            f"not compare. Rerun the other rows on the current data, or restore the {split} file "
                            "if it changed by mistake")
    return warnings


def _provenance_summary(run: StoredRun, spec: RunSpec) -> dict[str, Any]:
    try:
        env = run.provenance().get("environment", {})
    except DamagedRunError as exc:  # the numbers do not depend on it: say so in the row instead
        env = {"error": str(exc)}
    # The checkout's git revision and the Python version are the machine's: they stay in each run's
    # provenance.json, out of the board, so a board rendered again elsewhere is the same file.
    return {"alexbench": env.get("alexbench"), "task_version": spec.task.version,
            "task_file_sha256": spec.task.file_sha256, "data_sha256": dict(spec.data), "schema": spec.schema}


def _test_predictions(run: StoredRun) -> dict[str, PredictionRow]:
    return {r.id: r for r in run.prediction_rows() if r.split == "test"}


def _compare_to_baseline(board: Leaderboard, baseline: str, metrics: Registry[Metric] | None, n_boot: int) -> None:
    base = next((r for r in board.rows if r.variant == baseline), None)
    if base is None:
        board.notes.append(f"baseline {baseline!r} has no finished runs for {board.task}: no Δ or significance")
        return
    board.baseline = baseline
    for row in board.rows:
        if row is not base:
            row.delta = row.test_official.mean - base.test_official.mean
    if metrics is None:
        return
    others = [r for r in board.rows if r is not base]
    compared = compare_rows(board, base, others, metrics, n_boot)
    for row in others:
        row.comparison = compared.get(row.variant)


def compare_rows(board: Leaderboard, base: Row, rows: Sequence[Row], metrics: Registry[Metric],
                 n_boot: int) -> dict[str, Comparison]:
    """Each of ``rows`` against ``base`` (paired bootstrap over the test posts, all seeds of a post
    resampled together, and McNemar), Holm-corrected across the rows compared; by variant. A row
    that cannot be compared (damaged predictions, other test posts) is left out with a note on
    ``board``."""
    scoring = stored_scoring(base.runs[0].spec())
    metric = metrics.get(scoring.official_metric)

    def official(gold: Any, pred: Any, extra: Any) -> float:
        value = metric(ScoreInput(gold, pred, scoring.labels, scoring.positive, extra, scoring.metric_params,
                                  scoring.multi_label))
        return float(value if value is not None else 0.0)

    from_tables = getattr(metric, "from_tables", None)
    counted = (Counted(from_tables, scoring.labels, scoring.positive, scoring.metric_params)
               if from_tables is not None and not scoring.multi_label else None)
    try:
        base_preds = [_test_predictions(r) for r in base.runs]
    except DamagedRunError as exc:
        board.notes.append(f"{base.variant}: no significance tests: {exc}")
        return {}
    ids = sorted(base_preds[0])
    compared: dict[str, Comparison] = {}
    for row in rows:
        try:
            preds = [_test_predictions(r) for r in row.runs]
        except DamagedRunError as exc:
            board.notes.append(f"{row.variant}: not compared: {exc}")
            continue
        if any(set(p) != set(ids) for p in (*preds, *base_preds)):
            board.notes.append(f"{row.variant}: test posts differ from {base.variant}'s; not compared")
            continue
        gold = [base_preds[0][i].gold for i in ids]
        extra = [base_preds[0][i].inputs for i in ids]
        compared[row.variant] = compare(gold, [[p[i].pred for i in ids] for p in preds],
                                        [[p[i].pred for i in ids] for p in base_preds], official, extra,
                                        n_boot=n_boot, higher_is_better=board.higher_is_better, counted=counted)
    if compared:
        names = list(compared)
        p_boot = holm([compared[n].p_bootstrap for n in names])
        p_mc = holm([compared[n].p_mcnemar for n in names])
        for n, pb, pm in zip(names, p_boot, p_mc):
            compared[n] = dataclasses.replace(compared[n], p_bootstrap_holm=pb, p_mcnemar_holm=pm)
    return compared


def ranking(boards: list[Leaderboard]) -> list[dict[str, Any]]:
    """Across tasks: mean rank of each variant present on every board, and its win rate (share
    of (task, other variant) pairs where its official metric is better: higher, or lower for a
    board whose metric is lower-is-better). Simulated rows (a judge reading the gold labels) take
    no part."""
    if len(boards) < 2:
        return []
    common = set.intersection(*({r.variant for r in b.rows if not r.simulated} for b in boards))
    out = []
    for variant in common:
        ranks, wins, games = [], 0, 0
        for board in boards:
            scores = {r.variant: r.test_official.mean for r in board.rows if r.variant in common}
            ranks.append(1 + sum(1 for v, s in scores.items() if board.better(s, scores[variant])))
            for other, s in scores.items():
                if other != variant:
                    games += 1
                    wins += board.better(scores[variant], s)
        out.append({"variant": variant, "mean_rank": statistics.fmean(ranks), "win_rate": wins / games if games else 0.0,
                    "tasks": len(boards)})
    return sorted(out, key=lambda r: (r["mean_rank"], -r["win_rate"], r["variant"]))
