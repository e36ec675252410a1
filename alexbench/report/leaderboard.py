"""Leaderboards: stored runs grouped by (task, variant), mean ± std over seeds, rendered as a
rich terminal table, Markdown, JSON and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from alexbench.config.tasks import Reference
from alexbench.fsio import atomic_write_text
from alexbench.plugin.registry import Registry
from alexbench.run.runspec import RunSpec
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun
from alexbench.scoring.metrics import Metric, ScoreInput, StoredScoring
from alexbench.scoring.significance import Comparison, compare, holm

#: Explainer statistics shown per variant (mean ± std over seeds), from each run's
#: ``metrics.json`` (``explainer``): counts, the model's cost per 1,000 posts and latency per post
#: sent (p50/p95, from the model's own time also for cached replies), and the ``score`` verdict's
#: threshold. A column no row has a value for is left out of the tables (not of CSV and JSON).
EXPLAINER_COLUMNS = ("sent", "flips", "flip_precision", "unparsable_rate", "cost_per_1000_posts_usd",
                     "latency_p50_s", "latency_p95_s", "threshold")
EXPLAINER_HEADS = {"cost_per_1000_posts_usd": "$/1k posts", "latency_p50_s": "p50 s", "latency_p95_s": "p95 s"}
EXPLAINER_DIGITS = {"sent": 0, "flips": 0, "cost_per_1000_posts_usd": 4}


def explainer_columns(board: Leaderboard) -> list[str]:
    """The explainer columns some row of ``board`` has a value for."""
    return [k for k in EXPLAINER_COLUMNS if any(k in r.explainer for r in board.rows)]


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
    components: dict[str, Any] = field(default_factory=dict)
    delta: float | None = None
    comparison: Comparison | None = None
    runs: list[StoredRun] = field(default_factory=list, repr=False)
    confusion: list[list[int]] = field(default_factory=list)  # test, summed over seeds
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "variant": self.variant, "official_metric": self.official_metric,
            "seeds": self.seeds, "run_ids": self.run_ids, "run_dirs": [str(r.path) for r in self.runs],
            "delta_vs_baseline": self.delta,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "test_official": self.test_official.to_dict(), "dev_official": self.dev_official.to_dict(),
            "test": {k: v.to_dict() for k, v in self.scalars.items()},
            "test_per_class_f1": {k: v.to_dict() for k, v in self.per_class_f1.items()},
            "explainer": {k: v.to_dict() for k, v in self.explainer.items()},
            "components": self.components,
            "test_confusion_summed": self.confusion,
            "provenance": self.provenance,
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

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "official_metric": self.official_metric, "labels": self.labels,
                "baseline": self.baseline, "notes": self.notes, "warnings": self.warnings,
                "significance": SIGNIFICANCE_NOTE,
                "rows": [r.to_dict() for r in self.rows],
                "references": [{**ref.to_dict(), "official_metric": self.official_metric}
                               for ref in self.references]}


REFERENCE_MARK = "†"
REFERENCE_NOTE = "† published result, not run here: no Δ, significance or ranking."


def reference_score(ref: Reference) -> str:
    """A published score as published (0.661, 0.9332), not padded to our digits."""
    return format(ref.score, "g")


def reference_line(board: Leaderboard, ref: Reference) -> str:
    """One line per reference for footnotes: name, score, split, note, source."""
    note = f" ({ref.note})" if ref.note else ""
    return f"{REFERENCE_MARK} {ref.name}: {board.official_metric} {reference_score(ref)} on {ref.split}{note}; {ref.source}"


SIGNIFICANCE_NOTE = ("Δ = difference of the seed-averaged official test metric from the baseline; "
                     "* p<0.05, ** p<0.01: paired bootstrap over test posts (all seeds of a post resampled "
                     "together), Holm-corrected across variants; McNemar's exact test on seed-majority "
                     "predictions is in the JSON.")


def _current_runs(runs: list[tuple[StoredRun, RunSpec, dict[str, Any]]]) -> tuple[
        list[tuple[StoredRun, RunSpec, dict[str, Any]]], list[int]]:
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
    sorted by the official metric); with ``baseline`` and ``metrics``, every other row gets Δ and
    paired significance against the baseline. A run whose spec or metrics cannot be read is
    left out and given to ``on_damaged`` (without it, the :class:`DamagedRunError` is raised)."""
    grouped: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for run in store.runs(task):
        try:
            spec, metrics_json = run.spec(), run.metrics()
        except DamagedRunError as exc:
            if on_damaged is None:
                raise
            on_damaged(run, exc)
            continue
        if variants is not None and spec.variant.name not in variants:
            continue
        if seeds is not None and spec.seed not in seeds:
            continue
        grouped[spec.task.name][spec.variant.name].append((run, spec, metrics_json))
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
            labels = first_metrics["test"]["confusion"]["labels"]
            tests = [m["test"] for _, _, m in items]
            row = Row(
                task=task_name, variant=variant, official_metric=official,
                seeds=[s.seed for _, s, _ in items], run_ids=[m["run_id"] for _, _, m in items],
                test_official=Stat([t["official"]["value"] for t in tests]),
                dev_official=Stat([m["dev"]["official"]["value"] for _, _, m in items]),
                scalars={k: Stat([t["scalars"][k] for t in tests]) for k in tests[0]["scalars"]
                         if all(k in t["scalars"] for t in tests)},
                per_class_f1={lab: Stat([t["per_class"][lab]["f1"] for t in tests]) for lab in labels},
                components=first_spec.variant.components(),
                runs=[r for r, _, _ in items],
                confusion=[[sum(t["confusion"]["matrix"][i][j] for t in tests) for j in range(len(labels))]
                           for i in range(len(labels))],
                provenance=_provenance_summary(items[0][0], first_spec),
            )
            if all("explainer" in m for _, _, m in items):
                for key in EXPLAINER_COLUMNS:
                    values = [m["explainer"][key] for _, _, m in items if m["explainer"].get(key) is not None]
                    if values:
                        row.explainer[key] = Stat([float(v) for v in values])
            rows.append(row)
        rows.sort(key=lambda r: (-r.test_official.mean, r.variant))
        board = Leaderboard(task_name, official, labels, rows, notes=notes, warnings=data_warnings(specs))
        if baseline is not None:
            _compare_to_baseline(board, baseline, metrics, n_boot)
        boards.append(board)
    return boards


def data_warnings(specs: dict[str, RunSpec]) -> list[str]:
    """One warning per split whose data differ between the rows (``specs``: each row's variant
    and run spec): the rows were scored (or trained) on different posts, e.g. a data file changed
    between runs, and do not compare. The posts' fingerprints are compared (a file re-saved with
    other line endings is the same data); runs recorded before them are compared by file hash."""
    key = "posts" if all(spec.posts is not None for spec in specs.values()) else "data"
    warnings = []
    for split in ("train", "dev", "test"):
        groups: dict[str, list[str]] = defaultdict(list)
        for variant, spec in specs.items():
            digest = ((spec.posts if key == "posts" else spec.data) or {}).get(split)
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
    return {"alexbench": env.get("alexbench"), "git": env.get("git"), "python": env.get("python"),
            "task_version": spec.task.version, "task_file_sha256": spec.task.file_sha256,
            "data_sha256": dict(spec.data), "schema": spec.schema}


def _test_predictions(run: StoredRun) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in run.predictions() if r["split"] == "test"}


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
    scoring = StoredScoring.from_run_spec(base.runs[0].spec())
    metric = metrics.get(scoring.official_metric)

    def official(gold: Any, pred: Any, extra: Any) -> float:
        value = metric(ScoreInput(gold, pred, scoring.labels, scoring.positive, extra, scoring.metric_params))
        return float(value if value is not None else 0.0)

    try:
        base_preds = [_test_predictions(r) for r in base.runs]
    except DamagedRunError as exc:
        board.notes.append(f"baseline {baseline!r}: no significance tests: {exc}")
        return
    ids = sorted(base_preds[0])
    compared: list[Row] = []
    for row in board.rows:
        if row is base:
            continue
        try:
            preds = [_test_predictions(r) for r in row.runs]
        except DamagedRunError as exc:
            board.notes.append(f"{row.variant}: not compared: {exc}")
            continue
        if any(set(p) != set(ids) for p in (*preds, *base_preds)):
            board.notes.append(f"{row.variant}: test posts differ from the baseline's; not compared")
            continue
        gold = [base_preds[0][i]["gold"] for i in ids]
        extra = [base_preds[0][i].get("extra", {}) for i in ids]
        row.comparison = compare(gold, [[p[i]["pred"] for i in ids] for p in preds],
                                 [[p[i]["pred"] for i in ids] for p in base_preds], official, extra, n_boot=n_boot)
        compared.append(row)
    if compared:
        p_boot = holm([r.comparison.p_bootstrap for r in compared if r.comparison])
        p_mc = holm([r.comparison.p_mcnemar for r in compared if r.comparison])
        for r, pb, pm in zip(compared, p_boot, p_mc):
            assert r.comparison is not None
            r.comparison = dataclasses.replace(r.comparison, p_bootstrap_holm=pb, p_mcnemar_holm=pm)


def ranking(boards: list[Leaderboard]) -> list[dict[str, Any]]:
    """Across tasks: mean rank of each variant present on every board, and its win rate (share
    of (task, other variant) pairs where its official metric is higher)."""
    if len(boards) < 2:
        return []
    common = set.intersection(*({r.variant for r in b.rows} for b in boards))
    out = []
    for variant in common:
        ranks, wins, games = [], 0, 0
        for board in boards:
            scores = {r.variant: r.test_official.mean for r in board.rows if r.variant in common}
            ranks.append(1 + sum(1 for v, s in scores.items() if s > scores[variant]))
            for other, s in scores.items():
                if other != variant:
                    games += 1
                    wins += scores[variant] > s
        out.append({"variant": variant, "mean_rank": statistics.fmean(ranks), "win_rate": wins / games if games else 0.0,
                    "tasks": len(boards)})
    return sorted(out, key=lambda r: (r["mean_rank"], -r["win_rate"], r["variant"]))


def _headers(board: Leaderboard) -> list[str]:
    heads = ["variant", "seeds", f"test {board.official_metric}"]
    if board.baseline:
        heads.append(f"Δ vs {board.baseline}")
    heads += [f"dev {board.official_metric}", "macro_f1", "accuracy"]
    heads += [f"F1[{label}]" for label in board.labels]
    heads += [f"llm {EXPLAINER_HEADS.get(k, k)}" for k in explainer_columns(board)]
    return heads


def _cells(board: Leaderboard, row: Row) -> list[str]:
    def stat(s: Stat | None) -> str:
        return s.text() if s is not None else "–"

    cells = [row.variant, str(len(row.seeds)), row.test_official.text()]
    if board.baseline:
        if row.variant == board.baseline:
            cells.append("(baseline)")
        elif row.delta is None:
            cells.append("–")
        else:
            marker = row.comparison.marker() if row.comparison else ""
            ci = f" [{row.comparison.ci_low:+.3f}, {row.comparison.ci_high:+.3f}]" if row.comparison else ""
            cells.append(f"{row.delta:+.3f}{marker}{ci}")
    cells += [row.dev_official.text(), stat(row.scalars.get("macro_f1")), stat(row.scalars.get("accuracy"))]
    cells += [row.per_class_f1[label].text() for label in board.labels]
    for key in explainer_columns(board):
        s = row.explainer.get(key)
        digits = EXPLAINER_DIGITS.get(key, 3)  # counts are whole numbers per seed
        cells.append("–" if s is None else s.text(digits))
    return cells


def _reference_cells(board: Leaderboard, ref: Reference) -> list[str]:
    """A published result in the table's columns: its name and score; nothing else applies."""
    cells = [f"{ref.name} {REFERENCE_MARK}", "published", reference_score(ref)]
    return cells + ["–"] * (len(_headers(board)) - len(cells))


def to_rich(board: Leaderboard) -> Table:
    # Text, not str: rich would read "F1[positive]" or a variant named "x[y]" as markup and drop it.
    table = Table(title=Text(f"{board.task} — official metric: {board.official_metric} (test, mean ± std over seeds)"),
                  caption=SIGNIFICANCE_NOTE if board.baseline else None)
    for i, head in enumerate(_headers(board)):
        # fold, never "…": a narrow terminal may break "0.682±0.012" over two lines, not hide it
        table.add_column(Text(head), justify="left" if i == 0 else "right", style="bold" if i == 2 else None,
                         overflow="fold")
    for row in board.rows:
        table.add_row(*(Text(cell) for cell in _cells(board, row)))
    if board.references:
        table.add_section()
        for ref in board.references:
            table.add_row(*(Text(cell) for cell in _reference_cells(board, ref)), style="dim")
        table.caption = "\n".join(filter(None, [table.caption, REFERENCE_NOTE,
                                                 *(reference_line(board, r) for r in board.references)]))
    return table


def print_rich(console: Console, board: Leaderboard) -> None:
    """Print a leaderboard without hiding digits: on a terminal its columns fold within the
    window; anywhere else (a log file, a pipe, CI) the table gets its natural width."""
    print_table(console, to_rich(board))


def print_table(console: Console, table: Table) -> None:
    """Print a rich table folded to a terminal's width, or at its natural width anywhere else."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update(width=10_000), table).maximum
    # print(width=...) cannot exceed the console's own width: a console of the right width, same file
    Console(file=console.file, width=max(natural, console.width), color_system=None).print(table)


def to_markdown(board: Leaderboard) -> str:
    heads = _headers(board)
    lines = [f"## {board.task}", "",
             f"Official metric: `{board.official_metric}` on test; mean ± std over seeds."
             + (f" {SIGNIFICANCE_NOTE}" if board.baseline else ""), "",
             "| " + " | ".join(heads) + " |", "|" + "|".join([":--"] + ["--:"] * (len(heads) - 1)) + "|"]
    for row in board.rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(board, row)) + " |")
    for ref in board.references:
        cells = _reference_cells(board, ref)
        cells[0] = f"*{ref.name}* {REFERENCE_MARK}"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if board.references:
        lines += ["", REFERENCE_NOTE, ""] + [f"- {reference_line(board, ref)}" for ref in board.references]
    lines += [f"\n> **Warning:** {warning}" for warning in board.warnings]
    lines += [f"\n> {note}" for note in board.notes]
    return "\n".join(lines) + "\n"


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    stat_cols = ["test_official", "dev_official"] + [f"test_{k}" for k in ("macro_f1", "micro_f1", "accuracy")]
    stat_cols += [f"test_f1_{label}" for label in board.labels] + [f"explainer_{k}" for k in EXPLAINER_COLUMNS]
    writer.writerow(["task", "variant", "official_metric", "n_seeds", "baseline", "delta", "ci_low", "ci_high",
                     "p_bootstrap_holm", "p_mcnemar_holm"]
                    + [f"{c}_{part}" for c in stat_cols for part in ("mean", "std")]
                    + ["kind", "reference_split", "reference_source", "reference_note"])
    for row in board.rows:
        stats: list[Stat | None] = [row.test_official, row.dev_official]
        stats += [row.scalars.get(k) for k in ("macro_f1", "micro_f1", "accuracy")]
        stats += [row.per_class_f1[label] for label in board.labels]
        stats += [row.explainer.get(k) for k in EXPLAINER_COLUMNS]
        values: list[str] = []
        for s in stats:
            values += ["", ""] if s is None else [f"{s.mean:.6f}", f"{s.std:.6f}"]
        c = row.comparison
        sig = [f"{c.ci_low:.6f}", f"{c.ci_high:.6f}", f"{c.p_bootstrap_holm:.6g}", f"{c.p_mcnemar_holm:.6g}"] if c else [""] * 4
        delta = "" if row.delta is None else f"{row.delta:.6f}"
        writer.writerow([row.task, row.variant, row.official_metric, len(row.seeds), board.baseline or "", delta,
                         *sig, *values, "run", "", "", ""])
    for ref in board.references:  # a published result: its score in test_official_mean, nothing else
        writer.writerow([board.task, ref.name, board.official_metric, 0, board.baseline or "", "", "", "", "", "",
                         f"{ref.score:.6g}", *[""] * (2 * len(stat_cols) - 1), "reference", ref.split, ref.source,
                         ref.note])
    return buf.getvalue()


def write(board: Leaderboard, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        out_dir / f"{board.task}.md": to_markdown(board),
        out_dir / f"{board.task}.json": json.dumps(board.to_dict(), indent=2, sort_keys=True) + "\n",
        out_dir / f"{board.task}.csv": to_csv(board),
    }
    for path, text in paths.items():
        atomic_write_text(path, text)
    return list(paths)
